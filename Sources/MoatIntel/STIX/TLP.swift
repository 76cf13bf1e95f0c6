/// Traffic Light Protocol 2.0 (FIRST): who may see a piece of intelligence. Ordered from the widest
/// audience to the narrowest: `clear < green < amber < amber+strict < red`.
public enum TLP: String, Sendable, CaseIterable, Comparable, Codable {
    /// No limit on disclosure.
    case clear
    /// The recipient's community (here: any authenticated peer).
    case green
    /// The recipient's organisation and its clients, on a need-to-know basis.
    case amber
    /// The recipient's organisation only.
    case amberStrict = "amber+strict"
    /// The named recipients only.
    case red

    public var rank: Int { TLP.allCases.firstIndex(of: self)! }
    public static func < (a: TLP, b: TLP) -> Bool { a.rank < b.rank }

    /// `TLP:AMBER+STRICT`.
    public var label: String { "TLP:" + rawValue.uppercased() }

    /// The STIX 2.1 extension that defines the TLP 2.0 marking definitions (OASIS cti-stix-common-objects).
    public static let extensionDefinitionID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

    /// The official identifier of this level's TLP 2.0 marking definition.
    public var markingDefinitionID: String {
        switch self {
        case .clear: return "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
        case .green: return "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
        case .amber: return "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
        case .amberStrict: return "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
        case .red: return "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
        }
    }

    /// The official TLP 2.0 marking-definition object, exactly as OASIS publishes it.
    public var markingDefinition: JSONValue {
        .object([
            ("type", "marking-definition"),
            ("spec_version", "2.1"),
            ("id", .string(markingDefinitionID)),
            ("created", "2022-10-01T00:00:00.000Z"),
            ("name", .string(label)),
            ("extensions", .object([
                (TLP.extensionDefinitionID, .object([("extension_type", "property-extension"), ("tlp_2_0", .string(rawValue))])),
            ])),
        ])
    }

    /// The level a marking-definition id stands for: TLP 2.0, or the STIX 2.1 built-in TLP 1.0 markings
    /// (white is read as clear). Nil for any other marking.
    public init?(markingDefinitionID id: String) {
        switch id {
        case TLP.clear.markingDefinitionID, "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": self = .clear
        case TLP.green.markingDefinitionID, "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": self = .green
        case TLP.amber.markingDefinitionID, "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": self = .amber
        case TLP.amberStrict.markingDefinitionID: self = .amberStrict
        case TLP.red.markingDefinitionID, "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": self = .red
        default: return nil
        }
    }

    /// The level of a STIX object: the narrowest TLP among its `object_marking_refs`, nil when it has none.
    public init?(object: JSONValue) {
        guard let refs = object["object_marking_refs"]?.strings else { return nil }
        guard let level = refs.compactMap(TLP.init(markingDefinitionID:)).max() else { return nil }
        self = level
    }

    /// Parses `clear`, `TLP:GREEN`, `amber+strict`, `amber-strict`, `white` (TLP 1.0), any case.
    public init?(text: String) {
        var t = text.lowercased()
        if t.hasPrefix("tlp:") { t.removeFirst(4) }
        switch t {
        case "white": self = .clear
        case "amber-strict", "amber_strict": self = .amberStrict
        default:
            guard let v = TLP(rawValue: t) else { return nil }
            self = v
        }
    }
}
