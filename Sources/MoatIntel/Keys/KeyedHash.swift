import Crypto
import Foundation

/// What a keyed hash stands for. These are the values that identify a customer or a person, so they
/// never leave in clear below TLP:RED: only their HMAC under a trust group's key does.
public enum IdentifierKind: String, Sendable, CaseIterable, Codable {
    case accountID = "account-id"
    case ipAddress = "ip-address"
    case paymentFingerprint = "payment-fingerprint"
    case emailAddress = "email-address"
    case emailDomain = "email-domain"

    /// Words for a reason or description: "payment fingerprint".
    public var phrase: String {
        switch self {
        case .accountID: return "account id"
        case .ipAddress: return "exact IP address"
        case .paymentFingerprint: return "payment fingerprint"
        case .emailAddress: return "e-mail address"
        case .emailDomain: return "e-mail domain"
        }
    }

    /// "payment fingerprints".
    public var plural: String { self == .ipAddress ? "exact IP addresses" : phrase + "s" }

    /// The bytes that are hashed for `value`, so that two labs that saw the same thing written two ways
    /// hash the same bytes: IP addresses as their 4 or 16 bytes (`::ffff:192.0.2.1` is `192.0.2.1`),
    /// e-mail addresses and domains lowercased without a trailing dot, the rest trimmed of surrounding
    /// white space. Nil when the value is not one of these (an IP that does not parse, an empty string).
    public func canonicalBytes(_ value: String) -> [UInt8]? {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return nil }
        switch self {
        case .ipAddress: return IPAddress(trimmed)?.bytes
        case .emailAddress: return Array(trimmed.lowercased().utf8)
        case .emailDomain:
            var d = trimmed.lowercased()
            while d.hasSuffix(".") { d.removeLast() }
            if d.hasPrefix("@") { d.removeFirst() }
            return d.isEmpty ? nil : Array(d.utf8)
        case .accountID, .paymentFingerprint: return Array(trimmed.utf8)
        }
    }
}

/// A trust group's shared secret: the key its members hash identifiers with, named by `keyID` so a
/// bundle says which key its hashes need and keys can be rotated.
public struct TrustGroupKey: Sendable {
    public var group: String
    public var keyID: String
    /// The secret's bytes (a `SymmetricKey` is made per use: it is not `Sendable`).
    let secret: [UInt8]

    /// The smallest key accepted: 128 bits. `moat intel key generate` makes 256-bit keys.
    public static let minimumBytes = 16

    public init(group: String, keyID: String, secret: [UInt8]) throws(IntelError) {
        guard secret.count >= TrustGroupKey.minimumBytes else {
            throw IntelError("the key of trust group \(group) (\(keyID)) has \(secret.count * 8) bits; at least \(TrustGroupKey.minimumBytes * 8) are needed")
        }
        guard !keyID.isEmpty else { throw IntelError("trust group \(group): a key needs a key_id") }
        self.group = group
        self.keyID = keyID
        self.secret = secret
    }

    /// A key written as 64 hex digits (or any even number ≥ 32) or as base64.
    public static func decodeSecret(_ text: String) -> [UInt8]? {
        let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.count % 2 == 0, t.count >= 2 * minimumBytes, t.utf8.allSatisfy({ IPAddress.hexDigit($0) != nil }) {
            var out: [UInt8] = []
            var it = t.utf8.makeIterator()
            while let a = it.next(), let b = it.next() { out.append(UInt8(IPAddress.hexDigit(a)! << 4 | IPAddress.hexDigit(b)!)) }
            return out
        }
        if let data = Data(base64Encoded: t), data.count >= minimumBytes { return Array(data) }
        return nil
    }

    /// 32 random bytes from the system's secure generator, as 64 hex digits.
    public static func generateSecret() -> String {
        var rng = SystemRandomNumberGenerator()
        return hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }

    /// HMAC-SHA-256 of `value` as `kind`, lowercase hex; nil when the value is not a valid `kind`.
    /// The message is `moat-intel/v1 NUL kind NUL canonical bytes`: the kind separates domains, so an
    /// account id and a payment fingerprint that happen to be the same string hash differently.
    public func hash(_ kind: IdentifierKind, _ value: String) -> String? {
        guard let canonical = kind.canonicalBytes(value) else { return nil }
        var mac = HMAC<SHA256>(key: SymmetricKey(data: secret))
        mac.update(data: Array("moat-intel/v1\u{0}\(kind.rawValue)\u{0}".utf8))
        mac.update(data: canonical)
        return TrustGroupKey.hex(Array(mac.finalize()))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The keys a lab holds, by key id: its own groups' current and earlier keys.
public struct KeyRing: Sendable {
    public private(set) var keys: [String: TrustGroupKey] = [:]

    public init(_ keys: [TrustGroupKey] = []) {
        for k in keys { self.keys[k.keyID] = k }
    }

    public subscript(keyID: String) -> TrustGroupKey? { keys[keyID] }
    public var isEmpty: Bool { keys.isEmpty }
}

/// A SHA-256 fingerprint of a non-personal value that is shared as a hash rather than as text: a
/// system prompt, a prompt-family signature. Anyone can compute it from the same value, so peers match
/// it without a key; nobody can read the text back from it.
public enum Fingerprint {
    public static func sha256(_ text: String) -> String { TrustGroupKey.hex(Array(SHA256.hash(data: Array(text.utf8)))) }

    /// The shared form of a family signature (hex, as the engine writes it): SHA-256 of
    /// `moat-family/v1 NUL kind NUL signature` with the signature lowercased.
    public static func family(_ kind: FingerprintKind, signature: String) -> String {
        sha256("moat-family/v1\u{0}\(kind.rawValue)\u{0}" + signature.trimmingCharacters(in: .whitespaces).lowercased())
    }
}

/// What a shared fingerprint stands for.
public enum FingerprintKind: String, Sendable, CaseIterable, Codable {
    /// SHA-256 of a system prompt's exact text.
    case systemPrompt = "system-prompt-sha256"
    /// A near-duplicate family of system prompts (hash of the engine's family signature).
    case systemPromptFamily = "system-prompt-family"
    /// A near-duplicate family of user prompts filled from one template (hash of the family signature).
    case promptFamily = "prompt-family"
    /// A prompt template as an older report names it (hash of its text).
    case promptTemplate = "prompt-template"
    /// The request shape an orchestrator sends (`max_tokens=8192 temperature=0 …`), in clear.
    case requestShape = "request-shape"

    public var phrase: String {
        switch self {
        case .systemPrompt: return "system prompt"
        case .systemPromptFamily: return "system-prompt family"
        case .promptFamily: return "prompt family"
        case .promptTemplate: return "prompt template"
        case .requestShape: return "request shape"
        }
    }
}
