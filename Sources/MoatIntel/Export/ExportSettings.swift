/// The organisation that produces a bundle: its STIX `identity`, and `created_by_ref` of everything it says.
public struct Producer: Sendable, Equatable, Codable {
    public var name: String
    /// STIX identity class: `organization` for a lab.
    public var identityClass: String
    /// STIX industry sectors (open vocabulary), e.g. `technology`.
    public var sectors: [String]
    public var contact: String?

    public init(name: String, identityClass: String = "organization", sectors: [String] = ["technology"], contact: String? = nil) {
        self.name = name
        self.identityClass = identityClass
        self.sectors = sectors
        self.contact = contact
    }

    /// The same name always gives the same identity id.
    public var stixID: String { STIXIdentifier.make("identity", seed: "producer\u{0}" + name) }

    enum CodingKeys: String, CodingKey {
        case name, sectors, contact
        case identityClass = "identity_class"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try c.decode(String.self, forKey: .name),
                  identityClass: try c.decodeIfPresent(String.self, forKey: .identityClass) ?? "organization",
                  sectors: try c.decodeIfPresent([String].self, forKey: .sectors) ?? ["technology"],
                  contact: try c.decodeIfPresent(String.self, forKey: .contact))
    }
}

/// How the four ATLAS techniques appear in a bundle. Either way the campaign `uses` them by ATLAS's own
/// ids. The default is `references`: the bundle then passes `stix2_validator --strict`, and re-publishing
/// MITRE's objects under our marking (same id and `modified`, different content) is avoided.
public enum ATLASMode: String, Sendable, CaseIterable {
    /// As `attack-pattern` objects with ATLAS's own ids, and `uses` relationships to them. ATLAS's ids are
    /// UUIDv5, which `stix2_validator --strict` reports as `{103}` (it wants UUIDv4 for domain objects).
    case objects
    /// Only `uses` relationships whose targets are ATLAS's ids: consumers that loaded ATLAS resolve them,
    /// and the bundle passes `stix2_validator --strict` with no finding.
    case references
}

/// Everything `BundleBuilder` needs besides the report: one value, frozen before building.
public struct ExportSettings: Sendable {
    public var tlp: TLP
    public var producer: Producer
    /// The trust group's key for keyed hashes; without one, identifiers are withheld.
    public var key: TrustGroupKey?
    public var atlas: ATLASMode
    /// Also share identifiers in clear (`moat-identifier`); refused below TLP:RED.
    public var rawIdentifiers: Bool
    public var limits: ExportLimits

    public init(tlp: TLP, producer: Producer, key: TrustGroupKey? = nil, atlas: ATLASMode = .references,
                rawIdentifiers: Bool = false, limits: ExportLimits = ExportLimits()) {
        self.tlp = tlp
        self.producer = producer
        self.key = key
        self.atlas = atlas
        self.rawIdentifiers = rawIdentifiers
        self.limits = limits
    }
}

/// The tunables of an export, in one place.
public struct ExportLimits: Sendable, Equatable {
    /// A value in the exchange log is shared only if at least this many of the campaign's accounts used it,
    public var minCampaignAccounts = 2
    /// ...and, of all the accounts that used it, at least this share were the campaign's: on our own
    /// traffic the indicator would have been this precise. Ordinary accounts (outside every campaign and
    /// verdict) that used it too are the ones a peer would wrongly match.
    public var minPrecision = 0.95
    /// Clear indicators per kind and campaign, most widely used first.
    public var maxClearValuesPerKind = 50
    /// Keyed identifiers per kind and campaign, most active first.
    public var maxKeyedValuesPerKind = 10_000
    /// Values in one indicator's pattern (keyed hashes are listed with `IN`).
    public var maxValuesPerIndicator = 500
    /// Days an indicator stays valid after the campaign last used it, by what it describes: networks
    /// change hands fastest, client software next, prompt families and identities last longest.
    public var networkValidDays = 30
    public var clientValidDays = 60
    public var contentValidDays = 90
    public var identityValidDays = 180

    public init() {}

    /// Whether a value used by `campaignUsers` of the campaign's accounts and `others` ordinary accounts is
    /// precise enough to share.
    func preciseEnough(campaignUsers: Int, others: Int) -> Bool {
        others == 0 || Double(campaignUsers) >= minPrecision * Double(campaignUsers + others)
    }
}
