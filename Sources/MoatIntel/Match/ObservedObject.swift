import MoatCore

/// A value Moat observed, as a pattern compares it.
enum ObservedValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
    case ip(IPAddress)

    /// The text an index looks it up by (IP addresses in their canonical form).
    var key: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .ip(let a): return a.description
        }
    }
}

/// One cyber-observable object built from an exchange, an account or an engine observation, in the
/// shape STIX patterns address (`ipv4-addr:value`, `network-traffic:extensions.'http-request-ext'…`).
struct ObservedObject: Sendable {
    var type: String
    var properties: [(String, ObservedValue)]

    func value(_ path: String) -> ObservedValue? {
        for (p, v) in properties where p == path { return v }
        return nil
    }

    /// Whether `test` holds for this object (a missing property makes every comparison false).
    func satisfies(_ test: STIXPattern.Test) -> Bool {
        guard test.objectType == type else { return false }
        guard let v = value(test.path) else { return false }
        if test.op == .exists { return !test.negated }
        let result: Bool
        switch test.op {
        case .equal: result = test.values.contains { Self.equal(v, $0) }
        case .in: result = test.values.contains { Self.equal(v, $0) }
        case .notEqual: result = !test.values.contains { Self.equal(v, $0) }
        case .isSubset:
            guard case .ip(let ip) = v, case .string(let text)? = test.values.first, let prefix = IPPrefix(text) else { return false }
            result = prefix.contains(ip)
        case .like:
            guard case .string(let pattern)? = test.values.first else { return false }
            result = Self.like(v.key, pattern)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard let lit = test.values.first, let order = Self.compare(v, lit) else { return false }
            switch test.op {
            case .less: result = order < 0
            case .lessOrEqual: result = order <= 0
            case .greater: result = order > 0
            default: result = order >= 0
            }
        case .exists: result = true
        }
        return result != test.negated
    }

    static func equal(_ v: ObservedValue, _ lit: STIXPattern.Literal) -> Bool {
        switch (v, lit) {
        case let (.string(a), .string(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.int(a), .double(b)): return Double(a) == b
        case let (.ip(a), .string(b)): return IPAddress(b) == a
        case let (.string(a), .bool(b)): return a == (b ? "true" : "false")
        default: return false
        }
    }

    static func compare(_ v: ObservedValue, _ lit: STIXPattern.Literal) -> Int? {
        switch (v, lit) {
        case let (.int(a), .int(b)): return a < b ? -1 : a == b ? 0 : 1
        case let (.int(a), .double(b)): return Double(a) < b ? -1 : Double(a) == b ? 0 : 1
        case let (.string(a), .string(b)): return a < b ? -1 : a == b ? 0 : 1
        default: return nil
        }
    }

    /// SQL LIKE: `%` any run, `_` any one character; everything else literal.
    static func like(_ s: String, _ pattern: String) -> Bool {
        let t = Array(s), p = Array(pattern)
        var ti = 0, pi = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count, p[pi] == "_" || p[pi] == t[ti] {
                ti += 1
                pi += 1
            } else if pi < p.count, p[pi] == "%" {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "%" { pi += 1 }
        return pi == p.count
    }
}

extension STIXPattern.Observation {
    /// Whether one of the conjunctions holds on `objects`: every test of an object type must hold on one
    /// object of that type (STIX: the comparisons of one type refer to the same object).
    func holds(on objects: [ObservedObject]) -> Bool {
        conjunctions.contains { Self.conjunction($0, holdsOn: objects) }
    }

    static func conjunction(_ tests: [STIXPattern.Test], holdsOn objects: [ObservedObject]) -> Bool {
        var byType: [String: [STIXPattern.Test]] = [:]
        for t in tests { byType[t.objectType, default: []].append(t) }
        for (type, group) in byType {
            let ok = objects.contains { o in o.type == type && group.allSatisfy { o.satisfies($0) } }
            if !ok { return false }
        }
        return true
    }
}
