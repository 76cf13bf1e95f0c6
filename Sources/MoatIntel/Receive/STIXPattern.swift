/// A STIX 2.1 pattern (section 9), parsed into what Moat can evaluate against its own traffic.
///
/// Supported: observation expressions joined by `OR` and `AND`, each a bracketed comparison expression
/// of `AND`, `OR`, parentheses, `NOT`, `EXISTS` and the operators `=`, `!=`, `<`, `<=`, `>`, `>=`,
/// `IN`, `LIKE`, `ISSUBSET` over strings, integers, floats and booleans. Not supported (the indicator
/// is kept but never matches, and says why): `FOLLOWEDBY`, qualifiers (`WITHIN`, `REPEATS`,
/// `START … STOP`), `MATCHES`, `ISSUPERSET`, and binary, hex and timestamp literals.
public struct STIXPattern: Sendable, Equatable {
    /// Disjunctive normal form: the pattern matches an account when any alternative does; an alternative
    /// matches when every one of its observations is seen in the account's traffic or sign-up.
    public var alternatives: [[Observation]]

    /// One bracketed observation: matches one exchange (or the account's sign-up) when any of its
    /// conjunctions holds for it.
    public struct Observation: Sendable, Equatable, Hashable {
        public var conjunctions: [[Test]]
    }

    /// `type:path op value`, possibly negated.
    public struct Test: Sendable, Equatable, Hashable {
        public var objectType: String
        /// The canonical path: components joined by `.`, dictionary keys unquoted, HTTP header names lowercased.
        public var path: String
        public var op: Operator
        public var negated: Bool
        public var values: [Literal]
    }

    public enum Operator: String, Sendable, Equatable, Hashable {
        case equal = "=", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case `in` = "IN", like = "LIKE", isSubset = "ISSUBSET", exists = "EXISTS"
    }

    public enum Literal: Sendable, Equatable, Hashable {
        case string(String)
        case int(Int64)
        case double(Double)
        case bool(Bool)

        public var text: String {
            switch self {
            case .string(let s): return s
            case .int(let i): return String(i)
            case .double(let d): return String(d)
            case .bool(let b): return b ? "true" : "false"
            }
        }
    }

    /// Parses a pattern; an unsupported or invalid pattern throws with what was not understood.
    public static func parse(_ text: String) throws(IntelError) -> STIXPattern {
        var p = Parser(tokens: try tokenize(text))
        let result = try p.observationExpression()
        guard p.atEnd else { throw IntelError("unexpected \(p.peekText) in the pattern") }
        return STIXPattern(alternatives: result)
    }

    // MARK: - Tokens

    enum Token: Equatable {
        case lbracket, rbracket, lparen, rparen, comma, colon
        case word(String)
        case string(String)
        case number(String)
        case op(String)
    }

    static func tokenize(_ text: String) throws(IntelError) -> [Token] {
        let s = Array(text.unicodeScalars)
        var out: [Token] = []
        var i = 0
        while i < s.count {
            let c = s[i]
            switch c {
            case " ", "\t", "\n", "\r": i += 1
            case "[": out.append(.lbracket); i += 1
            case "]": out.append(.rbracket); i += 1
            case "(": out.append(.lparen); i += 1
            case ")": out.append(.rparen); i += 1
            case ",": out.append(.comma); i += 1
            case ":": out.append(.colon); i += 1
            case "'":
                var value = String.UnicodeScalarView()
                i += 1
                var closed = false
                while i < s.count {
                    if s[i] == "\\" {
                        guard i + 1 < s.count, s[i + 1] == "'" || s[i + 1] == "\\" else {
                            throw IntelError("invalid escape in a pattern string (only \\' and \\\\ are allowed)")
                        }
                        value.append(s[i + 1])
                        i += 2
                    } else if s[i] == "'" {
                        closed = true
                        i += 1
                        break
                    } else {
                        value.append(s[i])
                        i += 1
                    }
                }
                guard closed else { throw IntelError("unterminated string in the pattern") }
                out.append(.string(String(value)))
            case "=": out.append(.op("=")); i += 1
            case "!", "<", ">":
                if i + 1 < s.count, s[i + 1] == "=" { out.append(.op(String(c) + "=")); i += 2 } else {
                    guard c != "!" else { throw IntelError("'!' must be followed by '=' in a pattern") }
                    out.append(.op(String(c)))
                    i += 1
                }
            default:
                if c == "-" || c == "+" || ("0"..."9").contains(c) {
                    var j = i + 1
                    while j < s.count, ("0"..."9").contains(s[j]) || s[j] == "." || s[j] == "e" || s[j] == "E" { j += 1 }
                    out.append(.number(String(String.UnicodeScalarView(s[i..<j]))))
                    i = j
                } else if c.properties.isAlphabetic || c == "_" {
                    var j = i + 1
                    // Object types and paths: letters, digits, '-', '_', '.' (path steps), '*' (list index).
                    while j < s.count, s[j].properties.isAlphabetic || ("0"..."9").contains(s[j]) || s[j] == "-" || s[j] == "_" || s[j] == "." {
                        j += 1
                    }
                    // A quoted key inside a path: extensions.'http-request-ext'.request_header.'User-Agent'
                    var word = String(String.UnicodeScalarView(s[i..<j]))
                    while j < s.count, word.hasSuffix("."), s[j] == "'" {
                        var k = j + 1
                        var key = String.UnicodeScalarView()
                        while k < s.count, s[k] != "'" {
                            if s[k] == "\\", k + 1 < s.count { key.append(s[k + 1]); k += 2 } else { key.append(s[k]); k += 1 }
                        }
                        guard k < s.count else { throw IntelError("unterminated quoted key in a pattern path") }
                        word += "'" + String(key) + "'"
                        j = k + 1
                        while j < s.count, s[j].properties.isAlphabetic || ("0"..."9").contains(s[j]) || s[j] == "-" || s[j] == "_" || s[j] == "." {
                            word.unicodeScalars.append(s[j])
                            j += 1
                        }
                    }
                    if j < s.count, s[j] == "'", ["t", "h", "b"].contains(word) {
                        throw IntelError("\(word)'…' literals are not supported")
                    }
                    out.append(.word(word))
                    i = j
                } else {
                    throw IntelError("unexpected character '\(c)' in the pattern")
                }
            }
        }
        return out
    }

    // MARK: - Parser

    struct Parser {
        let tokens: [Token]
        var pos = 0

        var atEnd: Bool { pos >= tokens.count }
        var peek: Token? { pos < tokens.count ? tokens[pos] : nil }
        var peekText: String {
            switch peek {
            case .none: return "end of pattern"
            case .some(.word(let w)): return "'\(w)'"
            case .some(.string(let s)): return "'\(s)'"
            case .some(.number(let n)): return n
            case .some(.op(let o)): return o
            case .some(let t): return "\(t)"
            }
        }

        func isKeyword(_ w: String) -> Bool {
            if case .word(let x) = peek, x.uppercased() == w { return true }
            return false
        }

        mutating func expect(_ t: Token, _ what: String) throws(IntelError) {
            guard peek == t else { throw IntelError("expected \(what) but found \(peekText) in the pattern") }
            pos += 1
        }

        /// observationExpression := and (OR and)*  →  DNF over observations.
        mutating func observationExpression() throws(IntelError) -> [[Observation]] {
            var result = try observationAnd()
            while isKeyword("OR") {
                pos += 1
                result += try observationAnd()
            }
            if isKeyword("FOLLOWEDBY") { throw IntelError("FOLLOWEDBY is not supported") }
            return result
        }

        mutating func observationAnd() throws(IntelError) -> [[Observation]] {
            var result = try observationTerm()
            while isKeyword("AND") {
                pos += 1
                let right = try observationTerm()
                var combined: [[Observation]] = []
                for a in result { for b in right { combined.append(a + b) } }
                guard combined.count <= 1024 else { throw IntelError("the pattern expands to too many alternatives") }
                result = combined
            }
            return result
        }

        mutating func observationTerm() throws(IntelError) -> [[Observation]] {
            let result: [[Observation]]
            if peek == .lbracket {
                pos += 1
                let conj = try comparisonOr()
                try expect(.rbracket, "']'")
                result = [[Observation(conjunctions: conj)]]
            } else if peek == .lparen {
                pos += 1
                result = try observationExpression()
                try expect(.rparen, "')'")
            } else {
                throw IntelError("expected '[' but found \(peekText) in the pattern")
            }
            for q in ["WITHIN", "REPEATS", "START"] where isKeyword(q) {
                throw IntelError("the \(q) qualifier is not supported")
            }
            return result
        }

        /// comparisonOr := and (OR and)*  →  DNF over tests.
        mutating func comparisonOr() throws(IntelError) -> [[Test]] {
            var result = try comparisonAnd()
            while isKeyword("OR") {
                pos += 1
                result += try comparisonAnd()
            }
            return result
        }

        mutating func comparisonAnd() throws(IntelError) -> [[Test]] {
            var result = try comparisonTerm()
            while isKeyword("AND") {
                pos += 1
                let right = try comparisonTerm()
                var combined: [[Test]] = []
                for a in result { for b in right { combined.append(a + b) } }
                guard combined.count <= 1024 else { throw IntelError("the pattern expands to too many alternatives") }
                result = combined
            }
            return result
        }

        mutating func comparisonTerm() throws(IntelError) -> [[Test]] {
            if peek == .lparen {
                pos += 1
                let inner = try comparisonOr()
                try expect(.rparen, "')'")
                return inner
            }
            if isKeyword("EXISTS") {
                pos += 1
                let (type, path) = try objectPath()
                return [[Test(objectType: type, path: path, op: .exists, negated: false, values: [])]]
            }
            let (type, path) = try objectPath()
            var negated = false
            if isKeyword("NOT") { negated = true; pos += 1 }
            let op: Operator
            switch peek {
            case .some(.op(let o)):
                guard let parsed = Operator(rawValue: o) else { throw IntelError("unknown operator \(o)") }
                op = parsed
                pos += 1
            case .some(.word(let w)):
                switch w.uppercased() {
                case "IN": op = .in
                case "LIKE": op = .like
                case "ISSUBSET": op = .isSubset
                case "MATCHES", "ISSUPERSET": throw IntelError("the \(w.uppercased()) operator is not supported")
                default: throw IntelError("expected an operator but found '\(w)' in the pattern")
                }
                pos += 1
            default: throw IntelError("expected an operator but found \(peekText) in the pattern")
            }
            var values: [Literal] = []
            if op == .in {
                try expect(.lparen, "'(' after IN")
                values.append(try literal())
                while peek == .comma {
                    pos += 1
                    values.append(try literal())
                }
                try expect(.rparen, "')'")
            } else {
                values.append(try literal())
            }
            return [[Test(objectType: type, path: path, op: op, negated: negated, values: values)]]
        }

        mutating func literal() throws(IntelError) -> Literal {
            switch peek {
            case .some(.string(let s)): pos += 1; return .string(s)
            case .some(.number(let n)):
                pos += 1
                if let i = Int64(n) { return .int(i) }
                if let d = Double(n) { return .double(d) }
                throw IntelError("bad number \(n) in the pattern")
            case .some(.word(let w)) where w == "true" || w == "false": pos += 1; return .bool(w == "true")
            default: throw IntelError("expected a value but found \(peekText) in the pattern")
            }
        }

        /// `type:path`, with the path made canonical.
        mutating func objectPath() throws(IntelError) -> (String, String) {
            guard case .some(.word(let type)) = peek else { throw IntelError("expected an object path but found \(peekText) in the pattern") }
            pos += 1
            try expect(.colon, "':' after the object type")
            guard case .some(.word(let raw)) = peek else { throw IntelError("expected a property after \(type): in the pattern") }
            pos += 1
            return (type, STIXPattern.canonicalPath(raw))
        }
    }

    /// `extensions.'http-request-ext'.request_header.'User-Agent'` → `extensions.http-request-ext.request_header.user-agent`.
    static func canonicalPath(_ raw: String) -> String {
        var parts: [String] = []
        var current = ""
        var quoted = false
        for ch in raw {
            if ch == "'" { quoted.toggle(); continue }
            if ch == ".", !quoted {
                parts.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        parts.append(current)
        for i in parts.indices where i > 0 && parts[i - 1] == "request_header" { parts[i] = parts[i].lowercased() }
        return parts.joined(separator: ".")
    }
}
