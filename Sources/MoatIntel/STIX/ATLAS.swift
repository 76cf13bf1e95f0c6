/// The MITRE ATLAS techniques a distillation campaign uses, as STIX attack-patterns with ATLAS's own ids.
///
/// ATLAS derives the STIX id of a technique as a name-based UUID (version 5): the namespace is the 16
/// ASCII bytes of `atlas.mitre.org.` read as a UUID, the name is the technique's ATLAS id. So
/// `AML.T0024.002` is `attack-pattern--3f567912-629a-5e0b-ab0c-0102977c2d6c` wherever it appears,
/// and a peer that loaded the ATLAS collection sees these objects as the ones it already has.
public struct ATLASTechnique: Sendable, Equatable {
    public var atlasID: String
    public var name: String
    /// ATLAS's `created` and `modified` of the object (ATLAS 5.6), kept so the object is ATLAS's version.
    public var created: String
    public var modified: String
    /// The ATLAS tactic (kill-chain phase) it belongs to.
    public var phase: String
    /// Why a distillation campaign uses it, for the relationship's description.
    public var use: String

    /// `attack-pattern--<uuid5>`.
    public var stixID: String { "attack-pattern--" + ATLASTechnique.uuid(for: atlasID) }

    /// The namespace ATLAS uses: the bytes of `atlas.mitre.org.`.
    public static let namespace: [UInt8] = Array("atlas.mitre.org.".utf8)

    public static func uuid(for atlasID: String) -> String { STIXIdentifier.uuid5(namespace: namespace, name: atlasID) }

    public static let extractModel = ATLASTechnique(
        atlasID: "AML.T0024.002", name: "Extract AI Model", created: "2021-05-13T00:00:00.000Z",
        modified: "2025-12-23T00:00:00.000Z", phase: "exfiltration",
        use: "The campaign collected the model's answers at scale to train a model of its own (distillation).")
    public static let inferenceAPIAccess = ATLASTechnique(
        atlasID: "AML.T0040", name: "AI Model Inference API Access", created: "2021-05-13T00:00:00.000Z",
        modified: "2025-03-12T00:00:00.000Z", phase: "ai-model-access",
        use: "The campaign reached the model through its paid inference API.")
    public static let serviceProxies = ATLASTechnique(
        atlasID: "AML.T0008.005", name: "AI Service Proxies", created: "2026-03-30T00:00:00.000Z",
        modified: "2026-03-30T00:00:00.000Z", phase: "resource-development",
        use: "The campaign spread its traffic over many accounts and networks, as proxy services that resell model access do.")
    public static let establishAccounts = ATLASTechnique(
        atlasID: "AML.T0021", name: "Establish Accounts", created: "2022-01-24T00:00:00.000Z",
        modified: "2023-01-18T00:00:00.000Z", phase: "resource-development",
        use: "The campaign opened many accounts with the provider to stay under per-account limits.")

    public static let distillation: [ATLASTechnique] = [extractModel, inferenceAPIAccess, serviceProxies, establishAccounts]

    /// The attack-pattern object as ATLAS publishes it (name, phase, `mitre-atlas` reference), with the
    /// bundle's markings added. The reference carries the ATLAS id but no URL: a URL without a hash is a
    /// `stix2_validator` warning.
    public func attackPattern(markings: [String]) -> JSONValue {
        .object([
            ("type", "attack-pattern"),
            ("spec_version", "2.1"),
            ("id", .string(stixID)),
            ("created", .string(created)),
            ("modified", .string(modified)),
            ("name", .string(name)),
            ("kill_chain_phases", [.object([("kill_chain_name", "mitre-atlas"), ("phase_name", .string(phase))])]),
            ("external_references", [.object([("source_name", "mitre-atlas"), ("external_id", .string(atlasID))])]),
            ("object_marking_refs", .array(markings.map { .string($0) })),
        ])
    }
}
