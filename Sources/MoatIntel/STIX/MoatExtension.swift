/// Moat's STIX 2.1 extension: the new cyber-observable types that carry keyed hashes and fingerprints,
/// and the properties it adds to standard objects. Declared once in an `extension-definition` that
/// every bundle carries, so a consumer that does not know it can still store and forward the objects.
///
/// - `moat-keyed-hash` (new SCO): `kind` (an `IdentifierKind`: account-id, ip-address,
///   payment-fingerprint, email-address, email-domain), `algorithm` (`HMAC-SHA-256`), `key_id` (which
///   trust-group key), `value` (lowercase hex). Only holders of that key can compute or match it.
/// - `moat-fingerprint` (new SCO): `kind` (a `FingerprintKind`), `value`: a SHA-256 of a system prompt
///   or of a prompt family's signature (never the text), or a request shape.
/// - `moat-identifier` (new SCO, TLP:RED exports with raw identifiers only): `kind`, `value` in clear.
/// - Property extension: `tls_fingerprint` on `network-traffic` (JA3/JA4 text, used in patterns);
///   `accounts`, `exchanges`, `capabilities`, `detected_at`, `operator` on `campaign`, `sighting` and
///   `indicator`.
public enum MoatExtension {
    /// The identity of the Moat project, which defines the extension (not the producing lab).
    public static let definerID = STIXIdentifier.make("identity", seed: "moat-project")
    public static let id = STIXIdentifier.make("extension-definition", seed: "moat-intel/v1")
    public static let version = "1.0.0"
    /// Fixed, so the definition is the same object in every bundle.
    public static let created = "2026-04-01T00:00:00.000Z"

    public static let keyedHashType = "moat-keyed-hash"
    public static let fingerprintType = "moat-fingerprint"
    public static let identifierType = "moat-identifier"
    public static let algorithm = "HMAC-SHA-256"

    public static let schema = """
        Moat distillation-intelligence extension, version 1.0.0. New SCO moat-keyed-hash: kind (account-id, \
        ip-address, payment-fingerprint, email-address or email-domain), algorithm (HMAC-SHA-256), key_id (the \
        trust-group key), value (lowercase hex of HMAC-SHA-256 under that key of the bytes 'moat-intel/v1', NUL, \
        kind, NUL, canonical value; canonical: IP addresses as their 4 or 16 bytes, e-mail addresses and domains \
        lowercased without a trailing dot, other values trimmed). New SCO moat-fingerprint: kind \
        (system-prompt-sha256, system-prompt-family, prompt-family, prompt-template or request-shape) and value \
        (SHA-256 hex of the text, or of 'moat-family/v1', NUL, kind, NUL, lowercase family signature; request \
        shapes in clear). New SCO moat-identifier (TLP:RED only): kind and value in clear. Property extension: \
        tls_fingerprint (string) on network-traffic; accounts, exchanges (integers), capabilities (shares by \
        capability), detected_at (timestamp) and operator (string) on campaign, indicator and sighting.
        """

    public static func definer(markings: [String]) -> JSONValue {
        .object([
            ("type", "identity"), ("spec_version", "2.1"), ("id", .string(definerID)),
            ("created", .string(created)), ("modified", .string(created)),
            ("name", "Moat"), ("description", "Moat, the distillation-attack detector and gateway that defines this extension."),
            ("identity_class", "system"),
            ("object_marking_refs", .array(markings.map { .string($0) })),
        ])
    }

    public static func definition(markings: [String]) -> JSONValue {
        .object([
            ("type", "extension-definition"), ("spec_version", "2.1"), ("id", .string(id)),
            ("created_by_ref", .string(definerID)), ("created", .string(created)), ("modified", .string(created)),
            ("name", "Moat distillation intelligence"),
            ("description", "Keyed hashes of identifiers that must not leave in clear, fingerprints of prompt families, and campaign sizes, as shared by Moat."),
            ("schema", .string(schema)), ("version", .string(version)),
            ("extension_types", ["new-sco", "property-extension"]),
            ("object_marking_refs", .array(markings.map { .string($0) })),
        ])
    }

    /// `"extensions": {id: {"extension_type": "property-extension", ...}}` for an SDO or SRO.
    public static func properties(_ members: [(String, JSONValue)]) -> JSONValue {
        .object([(id, .object([("extension_type", "property-extension")] + members))])
    }

    /// `"extensions": {id: {"extension_type": "new-sco"}}` for one of the new observable types.
    public static let newSCO: JSONValue = .object([(id, .object([("extension_type", "new-sco")]))])
}

/// Building STIX patterns (STIX 2.1 section 9).
public enum PatternText {
    /// A string literal: in quotes, with `\` and `'` escaped.
    public static func quote(_ s: String) -> String {
        var out = "'"
        for c in s {
            if c == "\\" || c == "'" { out.append("\\") }
            out.append(c)
        }
        return out + "'"
    }

    /// `path = 'v'` for one value, `path IN ('a', 'b')` for several.
    public static func equalsAny(_ path: String, _ values: [String]) -> String {
        values.count == 1 ? "\(path) = \(quote(values[0]))" : "\(path) IN (" + values.map(quote).joined(separator: ", ") + ")"
    }

    public static let userAgentPath = "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"
    public static var tlsPath: String { "network-traffic:extensions.'\(MoatExtension.id)'.tls_fingerprint" }
}
