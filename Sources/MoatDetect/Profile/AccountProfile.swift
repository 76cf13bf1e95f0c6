import MoatCore

/// The behavioural fingerprint of one account, kept in bounded memory and updated per exchange.
struct AccountProfile {
    let id: String
    var identity: Account?

    var exchanges = 0
    var inputTokens: Int64 = 0
    var outputTokens: Int64 = 0
    var reasoningTokens: Int64 = 0
    var chainOfThought = 0.0
    var thinking = 0
    var tools = 0
    var capabilities = [Int](repeating: 0, count: Capability.allCases.count)
    var firstTs: Int64 = .max
    var lastTs: Int64 = .min
    /// Hours of the day (UTC) with activity, as a bit set, and the number of distinct active days.
    var hoursMask: UInt32 = 0
    /// Exchanges per hour of the day (UTC).
    var hourCounts = [UInt32](repeating: 0, count: 24)
    /// Exchanges in the two days after a newly released model first appeared, and how many used it.
    var pivotWindow = 0
    var pivotNew = 0
    var activeDays = 0
    private var lastDay: Int64 = .min
    /// Inter-arrival regularity (Welford over gaps in seconds).
    var gapCount = 0
    var gapMean = 0.0
    var gapM2 = 0.0
    var turnsSum = 0
    var maxTurn = 0
    /// Requests that open a conversation (turn 0 or none), and the summed output-heaviness of answers.
    var openers = 0
    var outputHeavy = 0.0
    /// Network spread: distinct /24 prefixes (exact up to a cap), ASNs and how many requests came from hosting.
    var prefixes: [UInt64] = []
    var prefixCount = 0
    var asns: [Int] = []
    var hostingRequests = 0
    /// Requests from non-hosting exits (homes, carriers, residential proxies) by the exit's country (two
    /// ASCII letters packed), for exits that contradict the billing country (bounded; further countries are
    /// counted in `exitRequests` only).
    var exitCountries: [(code: UInt16, count: Int32)] = []
    var exitRequests = 0
    var models: [String: Int] = [:]
    /// Hours between a newly seen model's first appearance and this account's first use of it.
    var fastestModelSwitchHours: Double?
    /// Space-saving counters of the account's template keys and request shapes.
    var templates: [(key: UInt64, count: Int)] = []
    var topTemplateCount = 0
    var shapes: [(key: UInt64, count: Int)] = []
    var topShapeCount = 0
    /// Values this account has registered in the link index, how many of each kind, and how many more it
    /// offered past its budget for the kind (a flood).
    var values: Set<UInt64> = []
    /// The soft ones among them (client stacks, system-prompt families, templates, request shapes), in order.
    var softValues: [UInt64] = []
    var kindCounts = [UInt16](repeating: 0, count: LinkKind.allCases.count)
    var overflow = [UInt16](repeating: 0, count: LinkKind.allCases.count)
    /// Exchanges per network value (IP, hosting prefix), for the share of traffic a shared address carries.
    var networkUses: [UInt64: UInt32] = [:]
    /// What the account did with each value it was active with, for co-activity (bounded).
    var coRecords: [CoActivity.Record] = []
    /// The last co-activity window the account was counted in, per stream it used recently.
    var lastCells: [(stream: UInt64, cell: Int64)] = []
    /// How the account first came into a group with others, for the analyst.
    var joinReason: String?
    /// Indicators from peers the account matched: the strongest confidence, and the reasons (bounded).
    var peerConfidence = 0.0
    var peerReasons: [String] = []
    var score = 0.0

    init(id: String, identity: Account?) {
        self.id = id
        self.identity = identity
    }

    var ageAtFirstUseDays: Double? {
        guard let created = identity?.createdAt?.milliseconds, firstTs != .max else { return nil }
        return Double(firstTs - created) / Double(Timestamp.day)
    }

    var coversHours: Int { hoursMask.nonzeroBitCount }

    var gapCV: Double? {
        guard gapCount >= 5, gapMean > 0 else { return nil }
        return (gapM2 / Double(gapCount - 1)).squareRoot() / gapMean
    }

    mutating func record(_ e: Exchange, _ f: ExchangeFeatures, prefix: UInt64?, hosting: Bool, maxPrefixes: Int) {
        let ts = e.ts.milliseconds
        exchanges += 1
        inputTokens += Int64(e.inputTokens)
        outputTokens += Int64(e.outputTokens)
        reasoningTokens += Int64(e.reasoningTokens ?? 0)
        chainOfThought += f.chainOfThought
        if f.thinking { thinking += 1 }
        if f.tools { tools += 1 }
        capabilities[Capability.allCases.firstIndex(of: f.capability) ?? 4] += 1
        if lastTs != .min, ts >= lastTs {
            let gap = Double(ts - lastTs) / 1000
            gapCount += 1
            let d = gap - gapMean
            gapMean += d / Double(gapCount)
            gapM2 += d * (gap - gapMean)
        }
        firstTs = min(firstTs, ts)
        lastTs = max(lastTs, ts)
        let hour = e.ts.hourOfDay()
        hoursMask |= 1 << UInt32(hour)
        hourCounts[hour] &+= 1
        let day = e.ts.dayIndex
        if day != lastDay { activeDays += 1; lastDay = day }
        turnsSum += e.turn ?? 0
        maxTurn = max(maxTurn, e.turn ?? 0)
        if (e.turn ?? 0) == 0 { openers += 1 }
        outputHeavy += Behaviour.outputHeaviness(e)
        if let prefix, !prefixes.contains(prefix) {
            prefixCount += 1
            if prefixes.count < maxPrefixes { prefixes.append(prefix) }
        }
        if let asn = e.client.asn, !asns.contains(asn), asns.count < 16 { asns.append(asn) }
        if hosting { hostingRequests += 1 } else if let code = e.client.country.flatMap(Self.countryCode) { noteExit(code) }
        if models.count < 16 || models[e.model] != nil { models[e.model, default: 0] += 1 }
    }

    static let maxExitCountries = 8

    /// Two ASCII letters packed into a UInt16; nil for anything that is not an ISO 3166-1 alpha-2 shape.
    static func countryCode(_ s: String) -> UInt16? {
        var it = s.utf8.makeIterator()
        guard let a = it.next(), let b = it.next(), it.next() == nil else { return nil }
        func up(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c
            case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - 32
            default: return nil
            }
        }
        guard let x = up(a), let y = up(b) else { return nil }
        return UInt16(x) << 8 | UInt16(y)
    }

    mutating func noteExit(_ code: UInt16) {
        exitRequests += 1
        if let i = exitCountries.firstIndex(where: { $0.code == code }) {
            exitCountries[i].count += 1
        } else if exitCountries.count < Self.maxExitCountries {
            exitCountries.append((code, 1))
        }
    }

    /// Exit evasion in 0...1: the share of non-hosting traffic that leaves from a country other than the
    /// billing one, shrunk while there are few such requests, at half strength when every such exit is in
    /// one country (someone abroad, or a proxy pinned to one country) and at full strength from three
    /// countries on (rotation through a residential proxy network). 0 without a billing country.
    func exitEvasion(_ c: DetectionConfig) -> Double {
        guard exitRequests > 0, let billing = identity?.country.flatMap(Self.countryCode) else { return 0 }
        let home = Int(exitCountries.first { $0.code == billing }?.count ?? 0)
        let away = Double(exitRequests - home)
        let share = away / (Double(exitRequests) + c.exitEvasionPseudoRequests)
        let foreign = exitCountries.count - (home > 0 ? 1 : 0)
        let spread = min(1, Double(max(foreign - 1, 0)) / 2)
        return share * (0.5 + 0.5 * spread)
    }

    /// The countries of the account's non-hosting exits, most used first, for the analyst.
    var exitCountryNames: [String] {
        exitCountries.sorted { $0.count > $1.count }.map {
            String(decoding: [UInt8($0.code >> 8), UInt8($0.code & 0xFF)], as: UTF8.self)
        }
    }

    mutating func useNetwork(_ key: UInt64, budget: Int) {
        if let n = networkUses[key] {
            networkUses[key] = n &+ 1
        } else if networkUses.count < budget {
            networkUses[key] = 1
        }
    }

    /// The share of the account's exchanges that came from a network value.
    func networkShare(_ key: UInt64) -> Double {
        Double(networkUses[key] ?? 0) / Double(max(exchanges, 1))
    }

    /// Counts a template key; returns the key's count for this account.
    mutating func countTemplate(_ key: UInt64, cap: Int) -> Int {
        let n = Self.count(key, in: &templates, cap: cap)
        topTemplateCount = max(topTemplateCount, n)
        return n
    }

    /// Counts a request shape; returns the shape's count for this account.
    mutating func countShape(_ key: UInt64, cap: Int) -> Int {
        let n = Self.count(key, in: &shapes, cap: cap)
        topShapeCount = max(topShapeCount, n)
        return n
    }

    /// Space-saving counters: a new key replaces the rarest one and inherits its count.
    static func count(_ key: UInt64, in counters: inout [(key: UInt64, count: Int)], cap: Int) -> Int {
        if let i = counters.firstIndex(where: { $0.key == key }) {
            counters[i].count += 1
            return counters[i].count
        }
        if counters.count < cap {
            counters.append((key, 1))
            return 1
        }
        var minIndex = 0
        for i in counters.indices where counters[i].count < counters[minIndex].count { minIndex = i }
        counters[minIndex] = (key, counters[minIndex].count + 1)
        return counters[minIndex].count
    }

    /// The account's whole traffic, as behaviour counts.
    var behaviour: Behaviour {
        Behaviour(n: exchanges, chainOfThought: chainOfThought, thinking: thinking, tools: tools,
                  targeted: capabilities[0] + capabilities[1] + capabilities[2] + capabilities[3], openers: openers,
                  outputHeavy: outputHeavy)
    }

    /// The behavioural components of the extraction score, each in 0...1, smoothed towards a prior while
    /// the account has few exchanges. `part` scores a part of the traffic (the exchanges that carry one value)
    /// instead of all of it; the account's identity and network still count.
    func components(_ c: DetectionConfig, part: Behaviour? = nil) -> ScoreComponents {
        let b = part ?? behaviour
        let n = Double(b.n)
        let a = c.priorStrength
        func share(_ count: Double, prior: Double) -> Double { (count + prior * a) / (n + a) }
        let targeted = Double(b.targeted)
        let days = Double(max(activeDays, 1))
        let rotation = Double(prefixCount) / (Double(prefixCount) + 2 * days)
        let program: Double
        switch identity?.program {
        case "startup", "education", "research": program = 1
        case "enterprise": program = -1
        default: program = 0
        }
        let verification: Double
        switch identity?.verification {
        case nil, "none", "email": verification = 1
        case "phone": verification = 0.6
        default: verification = 0
        }
        let isNew = (ageAtFirstUseDays.map { $0 < c.newAccountDays } ?? false) ? 1.0 : 0.0
        let pivot = pivotWindow > 0 ? (Double(pivotNew) + 0.05 * a) / (Double(pivotWindow) + a) : 0
        let flood = Int(overflow[Int(LinkKind.systemPrompt.rawValue)]) >= c.floodValues
            || Int(overflow[Int(LinkKind.template.rawValue)]) >= c.floodValues ? 1.0 : 0.0
        // Round the clock: nearly every hour of the day carries a fair share of the traffic (people sleep).
        var steadyHours = 0
        let meanPerHour = Double(exchanges) / 24
        for h in hourCounts where Double(h) >= 0.4 * meanPerHour { steadyHours += 1 }
        let steady = exchanges >= 48 ? max(0, (Double(steadyHours) / 24 - 0.75) / 0.25) : 0
        return ScoreComponents(
            chainOfThought: share(b.chainOfThought, prior: 0.05), thinking: share(Double(b.thinking), prior: 0.1),
            tools: share(Double(b.tools), prior: 0.1), targetedCapability: share(targeted, prior: 0.4),
            proxyRotation: rotation, newAccount: isNew, program: program, weakVerification: verification,
            templateReuse: min(1, Double(topTemplateCount >= c.templateMinUses ? topTemplateCount : 0) / (Double(exchanges) + a)),
            singleShot: share(Double(b.openers), prior: 0.5), outputHeavy: share(b.outputHeavy, prior: 0.25),
            modelPivot: pivot, flood: flood, peerIndicator: peerConfidence,
            roundTheClock: steady, exitEvasion: exitEvasion(c))
    }
}

/// Behaviour counts of some traffic: an account's, or the part of it that carries one value.
struct Behaviour {
    var n = 0
    var chainOfThought = 0.0
    var thinking = 0
    var tools = 0
    var targeted = 0
    var openers = 0
    var outputHeavy = 0.0

    mutating func add(_ e: Exchange, _ f: ExchangeFeatures) {
        n += 1
        chainOfThought += f.chainOfThought
        if f.thinking { thinking += 1 }
        if f.tools { tools += 1 }
        if f.capability != .other { targeted += 1 }
        if (e.turn ?? 0) == 0 { openers += 1 }
        outputHeavy += Self.outputHeaviness(e)
    }

    /// How much longer the answer is than the request, on a log scale: 0 when no longer, 1 at e^3 (20x) or more.
    static func outputHeaviness(_ e: Exchange) -> Double {
        let r = _log(Double(1 + e.outputTokens) / Double(1 + e.inputTokens))
        return min(1, max(0, r / 3))
    }
}

/// The parts of an account's extraction score, kept for the reasons an analyst reads.
struct ScoreComponents {
    var chainOfThought: Double
    var thinking: Double
    var tools: Double
    var targetedCapability: Double
    var proxyRotation: Double
    var newAccount: Double
    var program: Double
    var weakVerification: Double
    var templateReuse: Double
    var singleShot: Double
    var outputHeavy: Double
    var modelPivot: Double
    var flood: Double
    var peerIndicator: Double
    var roundTheClock: Double
    var exitEvasion: Double

    func score(_ c: DetectionConfig) -> Double {
        var z = c.scoreBias
        z += c.weightChainOfThought * chainOfThought
        z += c.weightThinking * thinking
        z += c.weightTools * tools
        z += c.weightTargetedCapability * targetedCapability
        z += c.weightProxyRotation * proxyRotation
        z += c.weightNewAccount * newAccount
        z += c.weightProgram * program
        z += c.weightWeakVerification * weakVerification
        z += c.weightTemplateReuse * templateReuse
        z += c.weightSingleShot * singleShot
        z += c.weightOutputHeavy * outputHeavy
        z += c.weightModelPivot * modelPivot
        z += c.weightFlood * flood
        z += c.weightPeerIndicator * peerIndicator
        z += c.weightRoundTheClock * roundTheClock
        z += c.weightExitEvasion * exitEvasion
        return 1 / (1 + _exp(-z))
    }
}

@inline(__always) func _log(_ x: Double) -> Double {
    #if canImport(Glibc)
    return Glibc.log(x)
    #else
    return Darwin.log(x)
    #endif
}

@inline(__always) func _exp(_ x: Double) -> Double {
    #if canImport(Glibc)
    return Glibc.exp(x)
    #else
    return Darwin.exp(x)
    #endif
}
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
