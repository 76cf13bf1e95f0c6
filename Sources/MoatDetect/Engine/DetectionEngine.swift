import MoatCore

/// The detection engine: a pure state machine fed exchanges in event time.
///
/// `ingest(_:)` takes one exchange and returns the verdicts it changed. `moat detect` replays a log
/// through it; the gateway feeds it live traffic. It never reads the wall clock, and the work per
/// exchange does not grow with history: per-account state is bounded and shared values stop linking
/// once common.
public struct DetectionEngine {
    public let config: DetectionConfig
    /// The configuration's per-kind settings as arrays by `LinkKind.rawValue`: read several times per
    /// exchange, where a dictionary lookup would hash the kind each time.
    let perKind: PerKind

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
    var coactivity: CoActivity
    var families: FamilyIndex
    var hostingCache: [String: Bool] = [:]
    /// Accounts seen on each autonomous system.
    var asnHolders: [Int: Int] = [:]
    var closedBursts: [CoActivity.Burst] = []
    var scratchCells: [Int64?] = []
    var scratchEntered: [(stream: UInt64, cell: Int64)] = []
    /// Template keys that sign the head of a prompt (its framing), as opposed to its payload.
    var headTemplates: Set<UInt64> = []
    var modelFirstSeen: [String: Int64] = [:]
    /// The newest model that appeared after the log began, and when.
    var latestRelease: (String, Int64)?
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
        /// A campaign this group returns as (campaign memory): it becomes a campaign of the same operator.
        var returnOf: Int?
        /// Whether most members share one authored family (system prompt, prompt framing), as of a size.
        var familyCheckedAt = 0
        var sharesFamily = false
    }

    struct CampaignState {
        var id: String
        var detectedAt: Int64
        /// An account in the campaign (its group's root when it formed).
        var anchor: Int32
        /// Event time of the latest exchange of any member.
        var lastActive: Int64
        /// Campaign-memory operator id (`OP-nnnn`, numbered like the operator's first campaign).
        var operatorID: String
        var mergedInto: Int?
        /// The remembered campaign this one was tied to, and why.
        var returnOf: Int?
        var memoryEvidence: String?
        /// Groups merged in through shared families, with why.
        var familyEvidence: [String] = []
        /// Where a campaign's remembered members' group lives, once accounts come back (a group root).
        var returnRoot: Int32?
        /// The campaign's size when it last looked for families shared with others.
        var reconciledAtSize = 0
    }

    struct PerKind {
        var budget: [Int]
        var weight: [Double]
        var cap: [Int]
        var ipNetworkBudget: Int
        var prefixNetworkBudget: Int

        init(_ config: DetectionConfig) {
            let kinds = LinkKind.allCases
            let size = Int(kinds.map(\.rawValue).max() ?? 0) + 1
            budget = Array(repeating: 16, count: size)
            weight = Array(repeating: 0, count: size)
            cap = Array(repeating: 128, count: size)
            for k in kinds {
                budget[Int(k.rawValue)] = config.valueBudgets[k] ?? 16
                weight[Int(k.rawValue)] = config.kindWeights[k] ?? 0
                cap[Int(k.rawValue)] = config.memberCaps[k] ?? 128
            }
            ipNetworkBudget = config.valueBudgets[.ip] ?? 48
            prefixNetworkBudget = config.valueBudgets[.cloudPrefix] ?? 48
        }
    }

    public init(config: DetectionConfig = DetectionConfig(), accounts: [Account] = []) {
        self.config = config
        perKind = PerKind(config)
        var byID: [String: Account] = [:]
        for a in accounts { byID[a.accountID] = a }
        identities = byID
        identityStats = IdentityStats(accounts)
        reorder = ReorderBuffer(windowMilliseconds: Int64(config.reorderWindowSeconds * 1000))
        coactivity = CoActivity(config: config)
        families = FamilyIndex(config: config)
    }

    /// Takes one exchange (in roughly time order) and returns the verdicts that changed.
    public mutating func ingest(_ e: Exchange) -> [VerdictChange] {
        ingest(ExchangeDigest(e, hashes: config.familyHashes))
    }

    /// Takes one exchange already reduced to what detection reads (stage 1 of the staged engine; `moat detect`
    /// computes digests on its reading thread). The same verdicts as `ingest(_:)` with the full exchange.
    public mutating func ingest(_ d: consuming ExchangeDigest) -> [VerdictChange] {
        ingest(DigestBatch(d))
    }

    /// Takes a batch of digests, in order; the same verdicts as `ingest(_:)` with each in turn. The engine reads
    /// them in place and keeps a reference to the batch while any of them waits for reordering.
    public mutating func ingest(_ batch: DigestBatch) -> [VerdictChange] {
        var changes: [VerdictChange] = []
        for k in 0..<batch.count { ingest(batch, at: k, &changes) }
        return changes
    }

    /// Takes the batch's digest at `index` (a caller that has more to do between digests).
    public mutating func ingest(_ batch: DigestBatch, at index: Int) -> [VerdictChange] {
        var changes: [VerdictChange] = []
        ingest(batch, at: index, &changes)
        return changes
    }

    mutating func ingest(_ batch: DigestBatch, at index: Int, _ changes: inout [VerdictChange]) {
        reorder.push(batch, index)
        while let next = reorder.pop(draining: false) { process(next, &changes) }
    }

    /// Processes everything still held for reordering (end of a log).
    public mutating func flush() -> [VerdictChange] {
        var changes: [VerdictChange] = []
        while let next = reorder.pop(draining: true) { process(next, &changes) }
        return changes
    }

    mutating func process(_ slot: ReorderBuffer.Slot, _ changes: inout [VerdictChange]) {
        // Borrowed in place: binding the digest or its parts to locals here would copy a dozen strings.
        let d = slot.batch
        let k = Int(slot.index)
        process(d[k].exchange, d[k].features, d[k].systemPromptSignature, &changes)
    }

    mutating func process(_ e: Exchange, _ features: ExchangeFeatures, _ signature: [UInt64]?, _ changes: inout [VerdictChange]) {
        let ts = e.ts.milliseconds
        if isDuplicate(e.id, ts) { stats.duplicates += 1; return }
        if let last = stats.lastTs, ts < last { stats.late += 1 }
        stats.exchanges += 1
        stats.firstTs = min(stats.firstTs ?? ts, ts)
        stats.lastTs = max(stats.lastTs ?? ts, ts)
        if firstEventTs == nil { firstEventTs = ts }

        let a = account(e.accountID, ts: ts, &changes)
        var f = features
        if let exact = f.systemPromptHash {
            f.systemPromptHash = families.family(exact: exact, label: e.systemPrompt ?? "", signature: signature ?? [])
        }
        let (prefix, hosting) = network(e)
        let i = Int(a)
        let asnsBefore = profiles[i].asns.count
        profiles[i].record(e, f, prefix: prefix, hosting: hosting, maxPrefixes: config.maxPrefixesPerAccount)
        if profiles[i].asns.count > asnsBefore, let asn = e.client.asn { asnHolders[asn, default: 0] += 1 }
        noteModel(e.model, account: a, ts: ts)
        noteActivity(a, ts: ts)

        if let ip = e.client.ip {
            let key = StableHash.of(ip, seed: 11)
            profiles[i].useNetwork(key, budget: perKind.ipNetworkBudget)
            register(a, key: key, kind: .ip, label: { ip }, ts: ts, &changes, scale: hosting ? 1 : config.residentialIPWeight)
        }
        if hosting, let prefix {
            profiles[i].useNetwork(prefix, budget: perKind.prefixNetworkBudget)
            // A big cloud's /24 is shared by countless unrelated tenants; a small host's is not.
            let population = max(Double(profiles.count), config.rarityFloorAccounts)
            let provider = e.client.asn.map { LinkIndex.rarity(holders: asnHolders[$0] ?? 1, population: population, seen: profiles.count).squareRoot() } ?? 1
            let ip = e.client.ip ?? ""
            register(a, key: prefix, kind: .cloudPrefix, label: { Self.prefixLabel(ip) }, ts: ts, &changes,
                     scale: provider)
        }
        var stack: UInt64?
        if let ua = e.client.userAgent, let tls = e.client.tlsFingerprint {
            var h = StableHash(seed: 12)
            h.add(ua)
            h.add(UInt8(1))
            h.add(tls)
            stack = h.value
            register(a, key: h.value, kind: .clientStack, label: { "\(ua) | \(tls)" }, ts: ts, &changes)
        }
        // Labels' closures capture single fields: one capturing `e` would copy the whole exchange on every call.
        if let sp = f.systemPromptHash {
            let text = e.systemPrompt ?? ""
            register(a, key: sp, kind: .systemPrompt, label: { "sp:" + String(sp, radix: 16) + " " + String(text.prefix(80)) },
                     ts: ts, &changes)
        }
        for (k, key) in f.templates.enumerated() where profiles[i].countTemplate(key, cap: config.maxTemplatesPerAccount) == config.templateMinUses {
            // The head of a prompt is its framing, an operator's own words; the rest is mostly payload.
            if k == 0, headTemplates.count < config.maxFamilyTexts { headTemplates.insert(key) }
            let prompt = e.prompt ?? ""
            register(a, key: key, kind: .template, label: { "tpl:" + String(key, radix: 16) + " " + String(prompt.prefix(80)) },
                     ts: ts, &changes)
        }
        if profiles[i].countShape(f.shape, cap: config.maxTemplatesPerAccount) == config.shapeMinUses {
            let label = ExchangeFeatures.shapeLabel(e)
            register(a, key: f.shape, kind: .requestShape, label: { label }, ts: ts, &changes)
        }
        updateScore(a, ts: ts, &changes)
        observeCoactivity(a, kind: .clientStack, value: stack, ts: ts, e, f, &changes)
        observeCoactivity(a, kind: .systemPrompt, value: f.systemPromptHash, ts: ts, e, f, &changes)
        observeCoactivity(a, kind: .requestShape, value: f.shape, ts: ts, e, f, &changes)
    }

    /// Keeps each campaign's latest activity, for campaign memory.
    mutating func noteActivity(_ a: Int32, ts: Int64) {
        guard let c = groups[find(a)]?.campaign else { return }
        let live = resolve(c)
        campaigns[live].lastActive = max(campaigns[live].lastActive, ts)
    }

    /// The campaign a merged campaign ended up in.
    func resolve(_ c: Int) -> Int {
        var c = c
        while let next = campaigns[c].mergedInto { c = next }
        return c
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
        groups[i] = Group(members: [i], scoreSum: 0, campaign: nil, returnOf: nil)
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
        if olderIDs.contains(id) { return true }
        return !recentIDs.insert(id).inserted
    }

    /// The hash of the /24 (IPv4) or /48 (IPv6) prefix, and whether the AS is a hosting provider.
    mutating func network(_ e: Exchange) -> (UInt64?, Bool) {
        var hosting = false
        if let org = e.client.asnOrg {
            if let cached = hostingCache[org] {
                hosting = cached
            } else {
                hosting = config.isHosting(asnOrg: org, asn: nil)
                hostingCache[org] = hosting
            }
        }
        if let asn = e.client.asn, config.hostingASNs.contains(asn) { hosting = true }
        guard let ip = e.client.ip else { return (nil, hosting) }
        return (Self.prefixHash(ip), hosting)
    }

    /// `StableHash.of(prefixLabel(ip), seed: 13)`, without building the label.
    static func prefixHash(_ ip: String) -> UInt64 {
        var h = StableHash(seed: 13)
        let utf8 = ip.utf8
        if utf8.contains(58) {  // ':': the first three groups, then "::/48"
            var colons = 0
            for b in utf8 {
                if b == 58 { colons += 1; if colons == 3 { break } }
                h.add(b)
            }
            h.add("::/48")
        } else if let lastDot = utf8.lastIndex(of: 46) {
            for b in utf8[..<lastDot] { h.add(b) }
            h.add(".0/24")
        } else {
            h.add(ip)
        }
        return h.value
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
        if let (released, at) = latestRelease, ts >= at, ts - at < 2 * Timestamp.day {
            profiles[Int(a)].pivotWindow += 1
            if model == released { profiles[Int(a)].pivotNew += 1 }
        }
        guard let first = modelFirstSeen[model] else {
            modelFirstSeen[model] = ts
            // A model first seen well after the replay began is a new release.
            if let start = firstEventTs, ts - start > Timestamp.day {
                latestRelease = (model, ts)
                profiles[Int(a)].pivotWindow += 1
                profiles[Int(a)].pivotNew += 1
            }
            return
        }
        // A model first seen well after the replay began is a new release; note how fast accounts move to it.
        guard let start = firstEventTs, first - start > Timestamp.day,
              profiles.withUnsafeBufferPointer({ $0[Int(a)].models[model] }) == 1 else { return }
        let hours = Double(ts - first) / Double(Timestamp.hour)
        let previous = profiles[Int(a)].fastestModelSwitchHours ?? .infinity
        profiles[Int(a)].fastestModelSwitchHours = min(previous, hours)
    }
}
