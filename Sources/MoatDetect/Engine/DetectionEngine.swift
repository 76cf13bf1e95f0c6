import MoatCore

/// The detection engine: a pure state machine fed exchanges in event time.
///
/// `ingest(_:)` takes one exchange and returns the verdicts it changed. `moat detect` replays a log
/// through it; the gateway feeds it live traffic. It never reads the wall clock, and the work per
/// exchange does not grow with history: per-account state is bounded and shared values stop linking
/// once common.
public struct DetectionEngine {
    public let config: DetectionConfig

    // Accounts
    var index: [String: Int32] = [:]
    var profiles: [AccountProfile] = []
    var candidate: [Bool] = []
    var pending: [[Int32]] = []
    var flaggedAt: [Int64?] = []
    var verdict: [VerdictChange.Verdict] = []
    var identities: [String: Account]
    var identityStats: IdentityStats

    // Coordination
    var links = LinkIndex()
    var parent: [Int32] = []
    var groups: [Int32: Group] = [:]
    var campaigns: [CampaignState] = []
    var syncBucket: Int64 = .min
    var syncMembers: [Int32] = []
    var syncBaseline = 1.0
    var hostingCache: [String: Bool] = [:]
    var modelFirstSeen: [String: Int64] = [:]
    var firstEventTs: Int64?

    // Replay
    var reorder: ReorderBuffer
    var recentIDs: Set<String> = []
    var olderIDs: Set<String> = []
    var idWindowStart: Int64 = .min
    public private(set) var stats = Stats()

    public struct Stats: Sendable {
        public var exchanges = 0
        public var duplicates = 0
        public var late = 0
        public var firstTs: Int64?
        public var lastTs: Int64?
    }

    struct Group {
        var members: [Int32]
        var scoreSum: Double
        var campaign: Int?
    }

    struct CampaignState {
        var id: String
        var detectedAt: Int64
        var mergedInto: Int?
    }

    public init(config: DetectionConfig = DetectionConfig(), accounts: [Account] = []) {
        self.config = config
        var byID: [String: Account] = [:]
        for a in accounts { byID[a.accountID] = a }
        identities = byID
        identityStats = IdentityStats(accounts)
        reorder = ReorderBuffer(windowMilliseconds: Int64(config.reorderWindowSeconds * 1000))
    }

    /// Takes one exchange (in roughly time order) and returns the verdicts that changed.
    public mutating func ingest(_ e: Exchange) -> [VerdictChange] {
        reorder.push(e)
        var changes: [VerdictChange] = []
        while let next = reorder.pop(draining: false) { process(next, &changes) }
        return changes
    }

    /// Processes everything still held for reordering (end of a log).
    public mutating func flush() -> [VerdictChange] {
        var changes: [VerdictChange] = []
        while let next = reorder.pop(draining: true) { process(next, &changes) }
        return changes
    }

    mutating func process(_ e: Exchange, _ changes: inout [VerdictChange]) {
        let ts = e.ts.milliseconds
        if isDuplicate(e.id, ts) { stats.duplicates += 1; return }
        if let last = stats.lastTs, ts < last { stats.late += 1 }
        stats.exchanges += 1
        stats.firstTs = min(stats.firstTs ?? ts, ts)
        stats.lastTs = max(stats.lastTs ?? ts, ts)
        if firstEventTs == nil { firstEventTs = ts }

        let a = account(e.accountID, ts: ts, &changes)
        let f = ExchangeFeatures(e)
        let (prefix, hosting) = network(e)
        profiles[Int(a)].record(e, f, prefix: prefix, hosting: hosting, maxPrefixes: config.maxValuesPerAccount)
        noteModel(e.model, account: a, ts: ts)

        if let ip = e.client.ip {
            register(a, key: StableHash.of(ip, seed: 11), kind: .ip, label: { ip }, ts: ts, &changes,
                     scale: hosting ? 1 : config.residentialIPWeight)
        }
        if hosting, let prefix {
            register(a, key: prefix, kind: .cloudPrefix, label: { Self.prefixLabel(e.client.ip ?? "") }, ts: ts, &changes)
        }
        if let ua = e.client.userAgent, let tls = e.client.tlsFingerprint {
            var h = StableHash(seed: 12)
            h.add(ua)
            h.add(UInt8(1))
            h.add(tls)
            register(a, key: h.value, kind: .clientStack, label: { "\(ua) | \(tls)" }, ts: ts, &changes)
        }
        if let sp = f.systemPromptHash {
            register(a, key: sp, kind: .systemPrompt, label: { "sp:" + String(sp, radix: 16) }, ts: ts, &changes)
        }
        for key in f.templates where profiles[Int(a)].countTemplate(key, cap: config.maxTemplatesPerAccount) == config.templateMinUses {
            register(a, key: key, kind: .template, label: { "tpl:" + String(key, radix: 16) + " " + String((e.prompt ?? "").prefix(80)) },
                     ts: ts, &changes)
        }
        updateScore(a, ts: ts, &changes)
        if candidate[Int(a)] { synchronize(a, ts: ts, &changes) }
    }

    /// The account's index, creating its profile (and registering its sign-up identity) on first sight.
    mutating func account(_ id: String, ts: Int64, _ changes: inout [VerdictChange]) -> Int32 {
        if let i = index[id] { return i }
        let i = Int32(profiles.count)
        index[id] = i
        profiles.append(AccountProfile(id: id, identity: identities[id]))
        candidate.append(false)
        pending.append([])
        flaggedAt.append(nil)
        verdict.append(.clear)
        parent.append(i)
        groups[i] = Group(members: [i], scoreSum: 0, campaign: nil)
        if let identity = identities[id] { registerIdentity(i, identity, ts: ts, &changes) }
        return i
    }

    mutating func isDuplicate(_ id: String, _ ts: Int64) -> Bool {
        let window = max(reorder.window, 60_000) * 2
        if idWindowStart == .min { idWindowStart = ts }
        if ts - idWindowStart > window {
            olderIDs = recentIDs
            recentIDs = []
            idWindowStart = ts
        }
        if recentIDs.contains(id) || olderIDs.contains(id) { return true }
        recentIDs.insert(id)
        return false
    }

    /// The hash of the /24 (IPv4) or /48 (IPv6) prefix, and whether the AS is a hosting provider.
    mutating func network(_ e: Exchange) -> (UInt64?, Bool) {
        var hosting = false
        if let org = e.client.asnOrg {
            if let cached = hostingCache[org] {
                hosting = cached
            } else {
                let lower = org.lowercased()
                hosting = config.hostingKeywords.contains { lower.contains($0) }
                hostingCache[org] = hosting
            }
        }
        guard let ip = e.client.ip else { return (nil, hosting) }
        return (StableHash.of(Self.prefixLabel(ip), seed: 13), hosting)
    }

    static func prefixLabel(_ ip: String) -> String {
        let utf8 = ip.utf8
        if utf8.contains(58) {  // ':'
            return ip.split(separator: ":", omittingEmptySubsequences: false).prefix(3).joined(separator: ":") + "::/48"
        }
        guard let lastDot = utf8.lastIndex(of: 46) else { return ip }
        return String(ip[..<lastDot]) + ".0/24"
    }

    mutating func noteModel(_ model: String, account a: Int32, ts: Int64) {
        guard let first = modelFirstSeen[model] else {
            modelFirstSeen[model] = ts
            return
        }
        // A model first seen well after the replay began is a new release; note how fast accounts move to it.
        guard let start = firstEventTs, first - start > Timestamp.day, profiles[Int(a)].models[model] == 1 else { return }
        let hours = Double(ts - first) / Double(Timestamp.hour)
        let previous = profiles[Int(a)].fastestModelSwitchHours ?? .infinity
        profiles[Int(a)].fastestModelSwitchHours = min(previous, hours)
    }
}
