import MoatCore

/// What another lab shared, as the engine sees it: an account matched one of the peer's indicators.
///
/// The matching itself (STIX patterns, keyed hashes under a trust-group key) happens outside the engine
/// (`MoatIntel`); the engine receives the result. A match is evidence twice over: it raises the account's
/// extraction score by the peer's confidence, and accounts that matched the same indicator are linked,
/// weighted by that confidence. The link is as hard as what the indicator describes (`linkKind`): an
/// indicator of infrastructure, identity or the operator's own text (an address, a keyed card, a system
/// prompt) links like a shared identity value, while one of software defaults (a client stack, a request
/// shape) is soft, like the local link of that kind: ordinary customers share those too, so it only adds
/// to a hard link, never makes one.
public struct PeerEvidence: Sendable, Equatable {
    public var accountID: String
    /// The peer's indicator (its STIX id): accounts matching the same one are linked.
    public var indicatorID: String
    /// The peer's confidence, 0...1.
    public var confidence: Double
    /// A sentence for the account's reasons, naming the peer and what matched.
    public var reason: String
    /// Event time of the exchange or sign-up that matched.
    public var at: Timestamp
    /// The kind of link a match makes: `.peerIndicator` (hard), or the soft kind of the software default the
    /// indicator describes (`.clientStack`, `.requestShape`); any other hard kind counts as `.peerIndicator`.
    public var linkKind: LinkKind

    public init(accountID: String, indicatorID: String, confidence: Double, reason: String, at: Timestamp,
                linkKind: LinkKind = .peerIndicator) {
        self.accountID = accountID
        self.indicatorID = indicatorID
        self.confidence = confidence
        self.reason = reason
        self.at = at
        self.linkKind = linkKind
    }
}

extension DetectionEngine {
    /// Takes a peer's indicator match into account, at the event time of the match. Returns the verdicts that
    /// changed. Call it after the exchange that matched was ingested (or, for sign-up data, any time).
    public mutating func ingest(peer evidence: PeerEvidence) -> [VerdictChange] {
        var changes: [VerdictChange] = []
        let ts = max(evidence.at.milliseconds, stats.lastTs ?? evidence.at.milliseconds)
        let a = account(evidence.accountID, ts: ts, &changes)
        let i = Int(a)
        let confidence = min(1, max(0, evidence.confidence))
        profiles[i].peerConfidence = max(profiles[i].peerConfidence, confidence)
        if profiles[i].peerReasons.count < 4, !profiles[i].peerReasons.contains(evidence.reason) {
            profiles[i].peerReasons.append(evidence.reason)
        }
        let kind = evidence.linkKind.isHard ? LinkKind.peerIndicator : evidence.linkKind
        register(a, key: StableHash.of(evidence.indicatorID, seed: 31), kind: kind,
                 label: { kind == .peerIndicator ? evidence.indicatorID : "of peer indicator \(evidence.indicatorID)" },
                 ts: ts, &changes, weight: { _ in confidence })
        updateScore(a, ts: ts, &changes)
        return changes
    }
}

/// Portable near-duplicate sketches of system prompts, for sharing families with peers: two labs that see
/// variants of one operator's system prompt compute sketches whose agreement estimates the similarity of
/// the texts (the same masked word sets and MinHash the engine uses for its families).
public enum TextFamily {
    /// Values in a portable sketch (the first of the engine's MinHash values).
    public static let sketchLength = 16

    public static func sketch(_ text: String) -> [UInt64] {
        Array(FamilyIndex.signature(text, hashes: 64).prefix(sketchLength))
    }

    /// The share of equal values: an estimate of the Jaccard similarity of the two texts' word sets.
    public static func similarity(_ a: [UInt64], _ b: [UInt64]) -> Double { FamilyIndex.similarity(a, b) }

    /// `fam1:` and the values in hex, 16 digits each.
    public static func encode(_ sketch: [UInt64]) -> String {
        "fam1:" + sketch.map { v in
            let hex = String(v, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    public static func decode(_ text: String) -> [UInt64]? {
        guard text.hasPrefix("fam1:") else { return nil }
        let hex = Array(text.utf8.dropFirst(5))
        guard hex.count % 16 == 0, !hex.isEmpty else { return nil }
        var out: [UInt64] = []
        for k in stride(from: 0, to: hex.count, by: 16) {
            guard let v = UInt64(String(decoding: hex[k..<(k + 16)], as: UTF8.self), radix: 16) else { return nil }
            out.append(v)
        }
        return out
    }
}
