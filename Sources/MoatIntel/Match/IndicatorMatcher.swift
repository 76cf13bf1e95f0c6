import MoatCore
import MoatDetect

/// One account matching one peer indicator: evidence for detection, weighted by the peer's confidence.
public struct IndicatorMatch: Sendable, Equatable {
    public var accountID: String
    public var indicatorID: String
    public var indicatorVersion: String
    /// Where the indicator came from (peer and collection) and who produced it.
    public var source: String
    public var producer: String?
    public var tlp: TLP?
    /// The peer's confidence in the indicator, 0–100.
    public var confidence: Int
    /// `confidence / 100`, or 0 when the indicator is too broad here (`tooBroad`).
    public var weight: Double
    /// The indicator matched more of our accounts than `MatchConfig` allows: it says little about any
    /// one of them (a peer shared a value our ordinary customers use too), so it carries no weight.
    public var tooBroad: Bool
    /// What matched: `network-prefix`, `autonomous-system`, `client-stack`, `user-agent`,
    /// `tls-fingerprint`, `keyed:account-id`, `keyed:ip-address`, `keyed:payment-fingerprint`,
    /// `keyed:email-domain`, `system-prompt-sha256`, `prompt-family`, ... (`pattern` when no single kind).
    public var kind: String
    /// Event time of the first matching exchange or observation; the account's `created_at` for a sign-up
    /// match (nil when the accounts file has none).
    public var firstMatchedAt: Timestamp?
    /// Matching exchanges (0 for a match on sign-up data alone).
    public var exchanges: Int
    /// One sentence for the account's reasons.
    public var reason: String
}

/// The tunables of matching.
public struct MatchConfig: Sendable, Equatable {
    /// Count a match only inside the indicator's validity (`valid_from` ≤ event time < `valid_until`).
    /// Off for a retro hunt over old traffic.
    public var respectValidity = true
    /// An indicator that matches more than this share of the accounts observed...
    public var maxShareOfAccounts = 0.05
    /// ...and more than this many accounts is too broad to weigh...
    public var minAccountsForBreadth = 10
    /// ...unless it matches no more than this many times the accounts the peer's campaign had.
    public var peerCampaignFactor = 3
    /// When sign-up matches are checked for expiry (nil: at the account's `created_at`).
    public var asOf: Timestamp?
    /// A system prompt belongs to a peer's system-prompt family when at least this share of the values of
    /// its portable sketch (`TextFamily`, `fam1:`) equal the peer's: an estimate of the Jaccard similarity
    /// of the two texts' masked word sets.
    public var familySimilarity = 0.4

    public init(respectValidity: Bool = true, maxShareOfAccounts: Double = 0.05, minAccountsForBreadth: Int = 10,
                asOf: Timestamp? = nil, familySimilarity: Double = 0.4) {
        self.respectValidity = respectValidity
        self.maxShareOfAccounts = maxShareOfAccounts
        self.minAccountsForBreadth = minAccountsForBreadth
        self.asOf = asOf
        self.familySimilarity = familySimilarity
    }
}

/// Matches peers' indicators against our accounts and traffic. Pure and streaming: feed it accounts
/// (contract section 2), exchanges (section 1) in any order, and the engine's own observations of
/// families and request shapes; then ask `matches()`.
///
/// Indicators are compiled into an index once (by exact value, by network prefix), so each exchange
/// costs a few hash lookups (and, when keyed indicators are held, one HMAC per key for its address and
/// one per account, cached). Keyed hashes match only when the `KeyRing` holds the indicator's `key_id`.
///
/// ```swift
/// var m = IndicatorMatcher(indicators: received, keys: ring)
/// for a in accounts { m.observe(account: a) }
/// while let e = try reader.next() { m.observe(exchange: e) }
/// m.observe(accountID: "acct-9", fingerprint: .promptFamily, value: "9f3c…", at: t)   // from the engine
/// for match in m.matches() { … }   // evidence: match.weight, match.reason
/// ```
public struct IndicatorMatcher: Sendable {
    public let indicators: [ReceivedIndicator]
    public let config: MatchConfig
    let keys: KeyRing

    /// One observation of one alternative of one indicator.
    struct Slot: Sendable {
        var indicator: Int
        var alternative: Int
        var observation: STIXPattern.Observation
        var kind: String
    }
    struct AnchorKey: Hashable, Sendable {
        var type: String
        var path: String
        var value: String
    }
    struct PrefixKey: Hashable, Sendable {
        var type: String
        var path: String
        var prefix: IPPrefix
    }

    var slots: [Slot] = []
    /// alternative → its slots, per indicator.
    var alternatives: [[[Int]]] = []
    var exact: [AnchorKey: [Int]] = [:]
    var prefixes: [PrefixKey: [Int]] = [:]
    var prefixLengths: [String: Set<Int>] = [:]
    var unindexed: [Int] = []
    /// Key ids that indicators need and we hold.
    var neededKeys: [TrustGroupKey] = []
    var needsSystemPromptHash = false
    /// Peers' system-prompt families shared as portable sketches (`fam1:`): matched by similarity.
    var familySketches: [(value: String, sketch: [UInt64])] = []
    /// System prompt → the family sketches it is similar to (bounded like `ipHashCache`).
    var sketchCache: [String: [String]] = [:]
    static let sketchCacheLimit = 50_000

    struct Hit: Sendable {
        var first: Timestamp?
        var exchanges: Int
    }
    /// account → slot → hit.
    var hits: [String: [Int: Hit]] = [:]
    /// account → indicators it matches (some alternative complete); indicator → its accounts.
    var completed: [String: Set<Int>] = [:]
    var matchedAccounts: [Int: Set<String>] = [:]
    var observedAccounts: Set<String> = []
    var accountHashCache: [String: [ObservedObject]] = [:]
    /// Keyed hashes of client addresses, cached (bounded: cleared past `ipCacheLimit` addresses).
    var ipHashCache: [String: [ObservedObject]] = [:]
    static let ipCacheLimit = 200_000

    public init(indicators: [ReceivedIndicator], keys: KeyRing = KeyRing(), config: MatchConfig = MatchConfig()) {
        self.indicators = indicators
        self.keys = keys
        self.config = config
        var keyIDs = Set<String>()
        for (i, ind) in indicators.enumerated() {
            guard let p = ind.parsed else { alternatives.append([]); continue }
            var alts: [[Int]] = []
            for (a, alt) in p.alternatives.enumerated() {
                var ids: [Int] = []
                for obs in alt {
                    let slot = slots.count
                    slots.append(Slot(indicator: i, alternative: a, observation: obs, kind: Self.kind(of: obs)))
                    ids.append(slot)
                    for conj in obs.conjunctions {
                        for t in conj where t.objectType == MoatExtension.keyedHashType && t.path == "key_id" {
                            for v in t.values { keyIDs.insert(v.text) }
                        }
                        if Self.needsSystemPrompt(conj) { needsSystemPromptHash = true }
                        for t in conj where t.objectType == MoatExtension.fingerprintType && t.path == "value" && !t.negated {
                            for v in t.values {
                                guard let sketch = TextFamily.decode(v.text), !familySketches.contains(where: { $0.value == v.text }) else { continue }
                                familySketches.append((v.text, sketch))
                            }
                        }
                        index(conj, slot: slot)
                    }
                }
                alts.append(ids)
            }
            alternatives.append(alts)
        }
        neededKeys = keyIDs.sorted().compactMap { keys[$0] }
    }

    /// Whether exchanges must be read with their text: only indicators on system prompts (SHA-256 of the
    /// text) need it; everything else matches on metadata (`ExchangeReader.Fields.withoutText`).
    /// Sketch indicators (`fam1:`) need the system prompt's text too, to sketch it here.
    public var needsText: Bool { needsSystemPromptHash || !familySketches.isEmpty }

    static func needsSystemPrompt(_ conj: [STIXPattern.Test]) -> Bool {
        let fingerprint = conj.filter { $0.objectType == MoatExtension.fingerprintType }
        guard !fingerprint.isEmpty else { return false }
        let kinds = fingerprint.filter { $0.path == "kind" && !$0.negated && ($0.op == .equal || $0.op == .in) }
        return kinds.isEmpty || kinds.contains { $0.values.contains(.string(FingerprintKind.systemPrompt.rawValue)) }
    }

    /// Indicators Moat cannot evaluate, with why.
    public var unsupported: [(ReceivedIndicator, String)] {
        indicators.compactMap { i in i.unsupported.map { (i, $0) } }
    }

    /// Keyed indicators whose key we do not hold (their key ids).
    public var missingKeys: Set<String> {
        var out = Set<String>()
        for s in slots {
            for conj in s.observation.conjunctions {
                for t in conj where t.objectType == MoatExtension.keyedHashType && t.path == "key_id" {
                    for v in t.values where keys[v.text] == nil { out.insert(v.text) }
                }
            }
        }
        return out
    }

    private mutating func index(_ conj: [STIXPattern.Test], slot: Int) {
        // The most selective positive test: an exact value or a network prefix.
        let positive = conj.filter { !$0.negated && ($0.op == .equal || $0.op == .in || $0.op == .isSubset) }
        let ranked = positive.sorted { Self.selectivity($0) > Self.selectivity($1) }
        guard let anchor = ranked.first, Self.selectivity(anchor) > 0 else {
            unindexed.append(slot)
            return
        }
        if anchor.op == .isSubset {
            for v in anchor.values {
                guard let p = IPPrefix(v.text) else { continue }
                prefixes[PrefixKey(type: anchor.objectType, path: anchor.path, prefix: p), default: []].append(slot)
                prefixLengths[anchor.objectType + ":" + anchor.path, default: []].insert(p.length)
            }
        } else {
            for v in anchor.values {
                let text = IPAddress(v.text).map(\.description) ?? v.text
                exact[AnchorKey(type: anchor.objectType, path: anchor.path, value: text), default: []].append(slot)
            }
        }
    }

    /// Higher is more selective; 0 cannot anchor (`kind = 'account-id'` says nothing about which account).
    static func selectivity(_ t: STIXPattern.Test) -> Int {
        if t.path == "kind" || t.path == "key_id" || t.path == "algorithm" { return 0 }
        if t.op == .isSubset { return 1 }
        return 2
    }

    static func kind(of obs: STIXPattern.Observation) -> String {
        let tests = obs.conjunctions.flatMap { $0 }
        func literal(_ type: String, _ path: String) -> String? {
            tests.first { $0.objectType == type && $0.path == path }?.values.first?.text
        }
        if let k = literal(MoatExtension.keyedHashType, "kind") { return "keyed:" + k }
        if let k = literal(MoatExtension.identifierType, "kind") { return "raw:" + k }
        if let k = literal(MoatExtension.fingerprintType, "kind") { return k }
        let types = Set(tests.map { $0.objectType + ":" + $0.path })
        let ua = types.contains("network-traffic:extensions.http-request-ext.request_header.user-agent")
        let tls = types.contains("network-traffic:extensions.\(MoatExtension.id).tls_fingerprint")
        if ua && tls { return "client-stack" }
        if ua { return "user-agent" }
        if tls { return "tls-fingerprint" }
        if tests.contains(where: { ($0.objectType == "ipv4-addr" || $0.objectType == "ipv6-addr") && $0.op == .isSubset }) { return "network-prefix" }
        if tests.contains(where: { $0.objectType == "ipv4-addr" || $0.objectType == "ipv6-addr" }) { return "ip-address" }
        if types.contains("autonomous-system:number") { return "autonomous-system" }
        if tests.contains(where: { $0.objectType == "user-account" }) { return "account-id" }
        if tests.contains(where: { $0.objectType == "domain-name" }) { return "domain" }
        return "pattern"
    }

    // MARK: - Observing

    /// An exchange: its network, client, account and system prompt. Returns the (account, indicator)
    /// matches this exchange completed, so a streaming engine can add the evidence at this event time;
    /// their `tooBroad` is judged on what has been observed so far (`matches()` judges on everything).
    @discardableResult
    public mutating func observe(exchange e: Exchange) -> [IndicatorMatch] {
        observedAccounts.insert(e.accountID)
        var objects: [ObservedObject] = []
        var props: [(String, ObservedValue)] = []
        if let text = e.client.ip, let ip = IPAddress(text) {
            objects.append(ObservedObject(type: ip.isIPv4 ? "ipv4-addr" : "ipv6-addr", properties: [("value", .ip(ip))]))
            props.append(("src_ref.value", .ip(ip)))
            objects.append(ObservedObject(type: MoatExtension.identifierType, properties: [("kind", .string(IdentifierKind.ipAddress.rawValue)), ("value", .ip(ip))]))
            if !neededKeys.isEmpty {
                if let cached = ipHashCache[text] {
                    objects += cached
                } else {
                    let hashed = neededKeys.compactMap { key in key.hash(.ipAddress, text).map { keyed(.ipAddress, key, $0) } }
                    if ipHashCache.count >= Self.ipCacheLimit { ipHashCache.removeAll(keepingCapacity: true) }
                    ipHashCache[text] = hashed
                    objects += hashed
                }
            }
        }
        if let ua = e.client.userAgent { props.append(("extensions.http-request-ext.request_header.user-agent", .string(ua))) }
        if let tls = e.client.tlsFingerprint { props.append(("extensions.\(MoatExtension.id).tls_fingerprint", .string(tls))) }
        if !props.isEmpty { objects.append(ObservedObject(type: "network-traffic", properties: props)) }
        if let asn = e.client.asn {
            var p: [(String, ObservedValue)] = [("number", .int(Int64(asn)))]
            if let org = e.client.asnOrg { p.append(("name", .string(org))) }
            objects.append(ObservedObject(type: "autonomous-system", properties: p))
        }
        if needsSystemPromptHash, let sp = e.systemPrompt, !sp.isEmpty {
            objects.append(fingerprint(.systemPrompt, Fingerprint.sha256(sp)))
        }
        if !familySketches.isEmpty, let sp = e.systemPrompt, !sp.isEmpty {
            let similar: [String]
            if let cached = sketchCache[sp] {
                similar = cached
            } else {
                similar = similarFamilies(TextFamily.sketch(sp))
                if sketchCache.count >= Self.sketchCacheLimit { sketchCache.removeAll(keepingCapacity: true) }
                sketchCache[sp] = similar
            }
            for v in similar { objects.append(fingerprint(.systemPromptFamily, v)) }
        }
        objects += accountObjects(e.accountID)
        return evaluate(account: e.accountID, objects: objects, at: e.ts, isExchange: true)
    }

    /// An account's sign-up and billing data; returns the matches it completed.
    @discardableResult
    public mutating func observe(account a: Account) -> [IndicatorMatch] {
        observedAccounts.insert(a.accountID)
        var objects = accountObjects(a.accountID)
        func add(_ kind: IdentifierKind, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            let shown = kind == .emailDomain ? value.lowercased() : value
            objects.append(ObservedObject(type: MoatExtension.identifierType, properties: [("kind", .string(kind.rawValue)), ("value", .string(shown))]))
            for key in neededKeys {
                if let h = key.hash(kind, value) { objects.append(keyed(kind, key, h)) }
            }
        }
        add(.paymentFingerprint, a.paymentFingerprint)
        add(.emailDomain, a.emailDomain)
        if let d = a.emailDomain, !d.isEmpty { objects.append(ObservedObject(type: "domain-name", properties: [("value", .string(d.lowercased()))])) }
        return evaluate(account: a.accountID, objects: objects, at: a.createdAt, isExchange: false, signUp: true)
    }

    /// What the engine computed for an account: a family signature (hex, as the report writes it), a
    /// request shape, a prompt template's text or a system prompt's text; hashed here as the exporter does.
    /// Returns the matches it completed.
    @discardableResult
    public mutating func observe(accountID: String, fingerprint kind: FingerprintKind, value: String, at t: Timestamp?) -> [IndicatorMatch] {
        observedAccounts.insert(accountID)
        if kind == .systemPromptFamily, let sketch = TextFamily.decode(value.lowercased()) {
            // A portable sketch (the report's `system_prompt_families`): matched by similarity.
            let objects = similarFamilies(sketch).map { fingerprint(.systemPromptFamily, $0) }
            return objects.isEmpty ? [] : evaluate(account: accountID, objects: objects, at: t, isExchange: false)
        }
        let shared: String
        switch kind {
        case .systemPrompt: shared = Fingerprint.sha256(value)
        case .requestShape: shared = value
        case .systemPromptFamily, .promptFamily, .promptTemplate: shared = Fingerprint.family(kind, signature: value)
        }
        return evaluate(account: accountID, objects: [fingerprint(kind, shared)], at: t, isExchange: false)
    }

    /// The peers' family sketches that `sketch` is similar to.
    func similarFamilies(_ sketch: [UInt64]) -> [String] {
        familySketches.filter { TextFamily.similarity(sketch, $0.sketch) >= config.familySimilarity }.map(\.value)
    }

    private func fingerprint(_ kind: FingerprintKind, _ value: String) -> ObservedObject {
        ObservedObject(type: MoatExtension.fingerprintType, properties: [("kind", .string(kind.rawValue)), ("value", .string(value))])
    }

    private func keyed(_ kind: IdentifierKind, _ key: TrustGroupKey, _ h: String) -> ObservedObject {
        ObservedObject(type: MoatExtension.keyedHashType, properties: [
            ("kind", .string(kind.rawValue)), ("algorithm", .string(MoatExtension.algorithm)), ("key_id", .string(key.keyID)),
            ("value", .string(h)),
        ])
    }

    /// The account id as a user account, in clear (for TLP:RED indicators) and keyed (cached).
    private mutating func accountObjects(_ account: String) -> [ObservedObject] {
        if let cached = accountHashCache[account] { return cached }
        var out = [
            ObservedObject(type: "user-account", properties: [("user_id", .string(account)), ("account_login", .string(account))]),
            ObservedObject(type: MoatExtension.identifierType, properties: [("kind", .string(IdentifierKind.accountID.rawValue)), ("value", .string(account))]),
        ]
        for key in neededKeys {
            if let h = key.hash(.accountID, account) { out.append(keyed(.accountID, key, h)) }
        }
        accountHashCache[account] = out
        return out
    }

    private mutating func evaluate(account: String, objects: [ObservedObject], at t: Timestamp?, isExchange: Bool,
                                   signUp: Bool = false) -> [IndicatorMatch] {
        var candidates = Set(unindexed)
        for o in objects {
            for (path, v) in o.properties {
                if let slots = exact[AnchorKey(type: o.type, path: path, value: v.key)] { candidates.formUnion(slots) }
                if case .ip(let ip) = v, let lengths = prefixLengths[o.type + ":" + path] {
                    for l in lengths {
                        if let slots = prefixes[PrefixKey(type: o.type, path: path, prefix: ip.prefix(l))] { candidates.formUnion(slots) }
                    }
                }
            }
        }
        var touched = Set<Int>()
        for slot in candidates {
            let s = slots[slot]
            guard valid(indicators[s.indicator], at: signUp ? (config.asOf ?? t) : t, signUp: signUp && config.asOf == nil),
                  s.observation.holds(on: objects) else { continue }
            var hit = hits[account, default: [:]][slot] ?? Hit(first: t, exchanges: 0)
            if let t, hit.first.map({ t < $0 }) ?? true { hit.first = t }
            if isExchange { hit.exchanges += 1 }
            hits[account, default: [:]][slot] = hit
            touched.insert(s.indicator)
        }
        var new: [IndicatorMatch] = []
        for i in touched.sorted() where !(completed[account]?.contains(i) ?? false) {
            guard let best = best(account: account, indicator: i) else { continue }
            completed[account, default: []].insert(i)
            matchedAccounts[i, default: []].insert(account)
            new.append(match(account: account, indicator: i, best))
        }
        return new
    }

    /// The earliest complete alternative of indicator `i` for `account`: when, in how many exchanges, what kind.
    private func best(account: String, indicator i: Int) -> (first: Timestamp?, exchanges: Int, kind: String)? {
        guard let slotHits = hits[account] else { return nil }
        var best: (first: Timestamp?, exchanges: Int, kind: String)?
        for ids in alternatives[i] where !ids.isEmpty && ids.allSatisfy({ slotHits[$0] != nil }) {
            let times = ids.compactMap { slotHits[$0]?.first }
            let first = times.count == ids.count ? times.max() : nil
            let exchanges = ids.map { slotHits[$0]!.exchanges }.reduce(0, +)
            let kinds = Set(ids.map { slots[$0].kind })
            let kind = kinds.count == 1 ? kinds.first! : "pattern"
            if best == nil || (first ?? Timestamp(milliseconds: .max)) < (best!.first ?? Timestamp(milliseconds: .max)) {
                best = (first, exchanges, kind)
            }
        }
        return best
    }

    /// The match of `account` and indicator `i`, judged too broad on what has been observed so far.
    private func match(account: String, indicator i: Int, _ best: (first: Timestamp?, exchanges: Int, kind: String)) -> IndicatorMatch {
        let ind = indicators[i]
        let population = observedAccounts.count
        let matched = matchedAccounts[i]?.count ?? 0
        let shareLimit = max(config.minAccountsForBreadth, Int((config.maxShareOfAccounts * Double(population)).rounded(.down)))
        // A campaign the peer saw with N accounts may well have that many here too.
        let limit = max(shareLimit, ind.peerCampaignAccounts.map { $0 * config.peerCampaignFactor } ?? 0)
        let broad = matched > limit
        let conf = ind.effectiveConfidence
        var reason = "matches \(ind.producer ?? "a peer")'s indicator \"\(ind.name ?? ind.id)\" (\(best.kind), \(ind.tlp?.label ?? "no TLP"), confidence \(conf), from \(ind.source))"
        reason += best.exchanges > 0 ? " in \(best.exchanges) exchange(s)" : " on sign-up data"
        if let first = best.first { reason += " from \(first.rfc3339)" }
        if broad { reason += "; too broad here (\(matched) of \(population) accounts match), not weighed" }
        return IndicatorMatch(
            accountID: account, indicatorID: ind.id, indicatorVersion: ind.version, source: ind.source, producer: ind.producer,
            tlp: ind.tlp, confidence: conf, weight: broad ? 0 : Double(conf) / 100, tooBroad: broad, kind: best.kind,
            firstMatchedAt: best.first, exchanges: best.exchanges, reason: reason)
    }

    /// Sign-up data is checked at `config.asOf` when given; else an account created before `valid_from` still
    /// matches (its sign-up data is no less the operator's), unless the indicator expired before it signed up:
    /// a streaming engine takes that evidence at `valid_from` (`PeerFeed`).
    private func valid(_ i: ReceivedIndicator, at t: Timestamp?, signUp: Bool = false) -> Bool {
        guard config.respectValidity, let t else { return true }
        if !signUp, let from = i.validFrom, t < from { return false }
        if let until = i.validUntil, t >= until { return false }
        return true
    }

    // MARK: - Results

    /// Every (account, indicator) pair where an alternative of the indicator's pattern had all its
    /// observations seen for the account, with counts and breadth judged on everything observed,
    /// ordered by account then indicator.
    public func matches() -> [IndicatorMatch] {
        var out: [IndicatorMatch] = []
        for (account, indicatorsMatched) in completed {
            for i in indicatorsMatched {
                if let best = best(account: account, indicator: i) { out.append(match(account: account, indicator: i, best)) }
            }
        }
        out.sort { ($0.accountID, $0.indicatorID) < ($1.accountID, $1.indicatorID) }
        return out
    }

    /// Per indicator: how many accounts and exchanges matched (for sightings and for the operator).
    public func summary() -> [(indicator: ReceivedIndicator, accounts: Int, exchanges: Int)] {
        var acc: [String: (Int, Int)] = [:]
        for m in matches() {
            let x = acc[m.indicatorID] ?? (0, 0)
            acc[m.indicatorID] = (x.0 + 1, x.1 + m.exchanges)
        }
        return indicators.map { ($0, acc[$0.id]?.0 ?? 0, acc[$0.id]?.1 ?? 0) }
    }
}
