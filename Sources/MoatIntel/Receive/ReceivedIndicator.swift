import MoatCore

/// An indicator a peer shared, as Moat keeps and matches it.
public struct ReceivedIndicator: Sendable, Equatable {
    public var id: String
    /// `modified` (or `created`): which version of the indicator this is.
    public var version: String
    /// Where it came from: the peer and collection it was pulled from (`https://lab-a.example/taxii2/ collection 9c1f…`).
    public var source: String
    /// The producing organisation's name when the bundle carried its identity, else its identity id.
    public var producer: String?
    public var tlp: TLP?
    /// The peer's confidence, 0–100 (STIX `confidence`); nil when the peer gave none.
    public var confidence: Int?
    public var validFrom: Timestamp?
    public var validUntil: Timestamp?
    public var name: String?
    public var pattern: String
    /// The parsed pattern, or nil when Moat cannot evaluate it (`unsupported` says why).
    public var parsed: STIXPattern?
    public var unsupported: String?
    /// The indicator as received.
    public var object: JSONValue
    /// How many accounts the peer's campaign had, when the peer is a Moat (its extension says so).
    public var peerCampaignAccounts: Int? { object["extensions"]?[MoatExtension.id]?["campaign_accounts"]?.int }

    /// The confidence used when a peer gives none: STIX's "unknown" is taken as an even chance.
    public static let defaultConfidence = 50

    public var effectiveConfidence: Int { confidence ?? Self.defaultConfidence }

    /// Whether it is expired at `t` (its `valid_until` is at or before `t`).
    public func isExpired(at t: Timestamp) -> Bool { validUntil.map { $0 <= t } ?? false }

    /// The indicators among `objects` (a bundle's or an envelope's), with their producers' names resolved
    /// from the identities among the same objects. Objects that are not STIX pattern indicators are skipped.
    public static func indicators(in objects: [JSONValue], source: String) -> [ReceivedIndicator] {
        var names: [String: String] = [:]
        for o in objects where o["type"]?.string == "identity" {
            if let id = o["id"]?.string, let name = o["name"]?.string { names[id] = name }
        }
        return objects.compactMap { ReceivedIndicator(object: $0, source: source, identities: names) }
    }

    public init?(object o: JSONValue, source: String, identities: [String: String] = [:]) {
        guard o["type"]?.string == "indicator", let id = o["id"]?.string, STIXIdentifier.isValid(id),
              let pattern = o["pattern"]?.string else { return nil }
        self.id = id
        self.version = o["modified"]?.string ?? o["created"]?.string ?? ""
        self.source = source
        self.producer = o["created_by_ref"]?.string.map { identities[$0] ?? $0 }
        self.tlp = TLP(object: o)
        self.confidence = o["confidence"]?.int.map { min(100, max(0, $0)) }
        self.validFrom = o["valid_from"]?.string.flatMap { Timestamp(rfc3339: $0) }
        self.validUntil = o["valid_until"]?.string.flatMap { Timestamp(rfc3339: $0) }
        self.name = o["name"]?.string
        self.pattern = pattern
        self.object = o
        let type = o["pattern_type"]?.string ?? "stix"
        if o["revoked"]?.bool == true {
            parsed = nil
            unsupported = "revoked by its producer"
        } else if type != "stix" {
            parsed = nil
            unsupported = "pattern type \(type) (only STIX patterns are matched)"
        } else {
            do {
                parsed = try STIXPattern.parse(pattern)
                unsupported = nil
            } catch {
                parsed = nil
                unsupported = error.message
            }
        }
    }
}
