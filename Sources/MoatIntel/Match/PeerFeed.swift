import MoatCore
import MoatDetect

/// Peers' indicators feeding the detection engine, in event time.
///
/// Wraps an `IndicatorMatcher` and turns its matches into the engine's `PeerEvidence`: the peer's confidence
/// as the weight, the peer and what matched in the reason, and the time at which the evidence became
/// available. An exchange match counts at the exchange that completed it; a sign-up match (payment,
/// e-mail domain, account id under a shared key) at the account's `created_at`, or at the indicator's
/// `valid_from` when the account is older (nobody knew before the peer did). Matches judged too broad here
/// (`IndicatorMatch.tooBroad`) carry no weight and are not given to the engine.
///
/// ```swift
/// var feed = PeerFeed(indicators: received, keys: ring, accounts: accounts)
/// for e in log {
///     engine.ingest(e)
///     for p in feed.evidence(after: e) { engine.ingest(peer: p) }
/// }
/// ```
public struct PeerFeed: Sendable {
    public private(set) var matcher: IndicatorMatcher
    var validFrom: [String: Timestamp] = [:]
    var validUntil: [String: Timestamp] = [:]
    /// Sign-up evidence waiting for its time, latest first (taken from the end).
    var pending: [PeerEvidence] = []
    /// Evidence handed out so far, and the accounts it named.
    public private(set) var given = 0
    public private(set) var accounts: Set<String> = []
    /// Matches of a network indicator (a prefix, an AS) by traffic from a residential network, not given to
    /// the engine (`evidence(after:)`).
    public private(set) var residentialNotWeighed = 0
    /// The engine's view of networks: which are hosting, and how much a residential address weighs.
    let networks: DetectionConfig

    /// `detection`: the engine's configuration, for its view of networks (hosting providers, the weight of a
    /// residential address), so that a peer's network indicator weighs as the engine's own link would.
    public init(indicators: [ReceivedIndicator], keys: KeyRing = KeyRing(), config: MatchConfig = MatchConfig(),
                accounts: [Account] = [], detection: DetectionConfig = DetectionConfig()) {
        networks = detection
        matcher = IndicatorMatcher(indicators: indicators, keys: keys, config: config)
        for i in indicators {
            if let t = i.validFrom { validFrom[i.id] = t }
            if let t = i.validUntil { validUntil[i.id] = t }
        }
        observe(accounts: accounts)
    }

    /// Accounts that signed up (or were imported) later: their sign-up matches wait for their time.
    public mutating func observe(accounts: [Account]) {
        for a in accounts {
            for m in matcher.observe(account: a) {
                if let p = evidence(m, at: m.firstMatchedAt) { pending.append(p) }
            }
        }
        pending.sort { $0.at.milliseconds > $1.at.milliseconds }
    }

    /// Whether exchanges must be read with their text (system-prompt indicators).
    public var needsText: Bool { matcher.needsText }

    /// The evidence due once `e` has been ingested: sign-up matches up to its time, then what it completed.
    public mutating func evidence(after e: Exchange) -> [PeerEvidence] {
        var out: [PeerEvidence] = []
        while let next = pending.last, next.at.milliseconds <= e.ts.milliseconds {
            pending.removeLast()
            // Delivered late (the log starts after it was due): only while the indicator is still valid.
            if matcher.config.respectValidity, let until = validUntil[next.indicatorID], until.milliseconds <= e.ts.milliseconds { continue }
            out.append(next)
        }
        // Residential only when the network is known (an AS) and is not a hosting provider's; a log without
        // enrichment keeps every network match.
        let residential = (e.client.asnOrg != nil || e.client.asn != nil) && !networks.isHosting(asnOrg: e.client.asnOrg, asn: e.client.asn)
        for m in matcher.observe(exchange: e) {
            guard var p = evidence(m, at: e.ts) else { continue }
            if residential {
                // As the engine links residential traffic itself: a home's /24 or AS links nobody (proxy exits
                // share them with real subscribers), an exact home address weighs `residentialIPWeight`.
                switch Self.network(of: m.kind) {
                case .range?:
                    residentialNotWeighed += 1
                    continue
                case .address?:
                    p.confidence *= networks.residentialIPWeight
                    p.reason += "; a residential address, weighed ×\(networks.residentialIPWeight)"
                case nil:
                    break
                }
            }
            out.append(p)
        }
        note(out)
        return out
    }

    enum NetworkKind { case address, range }

    /// Whether a match kind is an address, a range of addresses (a prefix, an AS), or not about networks.
    static func network(of matchKind: String) -> NetworkKind? {
        switch matchKind {
        case "ip-address", "keyed:ip-address", "raw:ip-address": return .address
        case "network-prefix", "autonomous-system": return .range
        default: return nil
        }
    }

    /// An engine observation of an account (a family sketch, a request shape), with what it completed.
    public mutating func evidence(accountID: String, fingerprint kind: FingerprintKind, value: String, at t: Timestamp) -> [PeerEvidence] {
        let out = matcher.observe(accountID: accountID, fingerprint: kind, value: value, at: t).compactMap { evidence($0, at: t) }
        note(out)
        return out
    }

    /// Sign-up evidence not yet due when the log ended (accounts created after its last exchange).
    public mutating func remaining() -> [PeerEvidence] {
        let out = Array(pending.reversed())
        pending = []
        note(out)
        return out
    }

    private mutating func note(_ out: [PeerEvidence]) {
        given += out.count
        for p in out { accounts.insert(p.accountID) }
    }

    private func evidence(_ m: IndicatorMatch, at t: Timestamp?) -> PeerEvidence? {
        guard !m.tooBroad, m.weight > 0 else { return nil }
        var at = t ?? m.firstMatchedAt ?? validFrom[m.indicatorID] ?? Timestamp(milliseconds: 0)
        if let from = validFrom[m.indicatorID], at.milliseconds < from.milliseconds { at = from }
        return PeerEvidence(accountID: m.accountID, indicatorID: m.indicatorID, confidence: m.weight, reason: m.reason, at: at,
                            linkKind: Self.linkKind(of: m.kind))
    }

    /// The link a match of this kind makes in the engine. Software defaults that ordinary customers share too
    /// (client stacks, user agents, TLS fingerprints, request shapes) link softly, like the engine's own links
    /// of those kinds: they add to a hard link, never make one. Infrastructure, identity and text the operator
    /// wrote (system prompts and their families, prompt templates) link hard, as a peer's confirmed evidence.
    public static func linkKind(of matchKind: String) -> LinkKind {
        switch matchKind {
        case "client-stack", "user-agent", "tls-fingerprint": return .clientStack
        case FingerprintKind.requestShape.rawValue: return .requestShape
        default: return .peerIndicator
        }
    }
}
