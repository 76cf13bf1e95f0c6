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
    var activeDays = 0
    private var lastDay: Int64 = .min
    /// Inter-arrival regularity (Welford over gaps in seconds).
    var gapCount = 0
    var gapMean = 0.0
    var gapM2 = 0.0
    var turnsSum = 0
    var maxTurn = 0
    /// Network spread: distinct /24 prefixes (exact up to a cap), ASNs and how many requests came from hosting.
    var prefixes: [UInt64] = []
    var prefixCount = 0
    var asns: [Int] = []
    var hostingRequests = 0
    var models: [String: Int] = [:]
    /// Hours between a newly seen model's first appearance and this account's first use of it.
    var fastestModelSwitchHours: Double?
    /// Space-saving counters of the account's template keys.
    var templates: [(key: UInt64, count: Int)] = []
    var topTemplateCount = 0
    /// Values this account has registered in the link index.
    var values: Set<UInt64> = []
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
        hoursMask |= 1 << UInt32(e.ts.hourOfDay())
        let day = e.ts.dayIndex
        if day != lastDay { activeDays += 1; lastDay = day }
        turnsSum += e.turn ?? 0
        maxTurn = max(maxTurn, e.turn ?? 0)
        if let prefix, !prefixes.contains(prefix) {
            prefixCount += 1
            if prefixes.count < maxPrefixes { prefixes.append(prefix) }
        }
        if let asn = e.client.asn, !asns.contains(asn), asns.count < 16 { asns.append(asn) }
        if hosting { hostingRequests += 1 }
        if models.count < 16 || models[e.model] != nil { models[e.model, default: 0] += 1 }
    }

    /// Counts a template key; returns the key's count for this account.
    mutating func countTemplate(_ key: UInt64, cap: Int) -> Int {
        if let i = templates.firstIndex(where: { $0.key == key }) {
            templates[i].count += 1
            topTemplateCount = max(topTemplateCount, templates[i].count)
            return templates[i].count
        }
        if templates.count < cap {
            templates.append((key, 1))
            topTemplateCount = max(topTemplateCount, 1)
            return 1
        }
        // Space-saving: the new key replaces the rarest one and inherits its count.
        var minIndex = 0
        for i in templates.indices where templates[i].count < templates[minIndex].count { minIndex = i }
        templates[minIndex] = (key, templates[minIndex].count + 1)
        return templates[minIndex].count
    }

    /// The behavioural components of the extraction score, each in 0...1, smoothed towards a prior while
    /// the account has few exchanges.
    func components(_ c: DetectionConfig) -> ScoreComponents {
        let n = Double(exchanges)
        let a = c.priorStrength
        func share(_ count: Double, prior: Double) -> Double { (count + prior * a) / (n + a) }
        let targeted = Double(capabilities[0] + capabilities[1] + capabilities[2] + capabilities[3])
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
        return ScoreComponents(
            chainOfThought: share(chainOfThought, prior: 0.05), thinking: share(Double(thinking), prior: 0.1),
            tools: share(Double(tools), prior: 0.1), targetedCapability: share(targeted, prior: 0.4),
            proxyRotation: rotation, newAccount: isNew, program: program, weakVerification: verification,
            templateReuse: share(Double(topTemplateCount >= c.templateMinUses ? topTemplateCount : 0), prior: 0))
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
        return 1 / (1 + _exp(-z))
    }
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
