import Crypto
import Foundation  // DataProtocol conformances of the byte buffers handed to swift-crypto

/// The operator's master key. Campaign keys are derived from it (HKDF-SHA-256 with the campaign id as
/// `info`), so each campaign's answers carry a mark of their own and a later test names the campaign.
///
/// Encoding (the value of the environment variable that holds it, e.g. `MOAT_FINGERPRINT_KEY`): hex
/// digits (even count) are decoded as hex, anything else is taken as its UTF-8 bytes; surrounding
/// whitespace is ignored. At least 16 bytes after decoding. `openssl rand -hex 32` makes a good one.
public struct FingerprintMasterKey: Sendable {
    let secret: [UInt8]

    /// The campaign id for answers fingerprinted outside any detected campaign (suspicious accounts,
    /// accounts under review, operator overrides): `moat provenance score` tests it without `--campaign`.
    public static let defaultCampaign = "default"

    public init(encoded: String) throws(ProvenanceError) {
        secret = try FingerprintMasterKey.decode(encoded)
    }

    public init(bytes: [UInt8]) throws(ProvenanceError) {
        guard bytes.count >= 16 else { throw ProvenanceError("a fingerprint key needs at least 16 bytes (got \(bytes.count))") }
        secret = bytes
    }

    /// Safe to print and log: it identifies the key without revealing it.
    public var id: String { FingerprintKey.keyID(of: secret, prefix: "fpm-") }

    /// The key that marks (and tests) the answers served to one campaign.
    public func campaignKey(_ campaignID: String) -> FingerprintKey {
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: secret),
                                             salt: Array("moat-provenance-v1 campaign key".utf8),
                                             info: Array(campaignID.utf8), outputByteCount: 32)
        return FingerprintKey(secret: derived.withUnsafeBytes { Array($0) }, campaign: campaignID)
    }

    static func decode(_ encoded: String) throws(ProvenanceError) -> [UInt8] {
        let trimmed = Array(encoded.utf8).drop { isSpace($0) }.reversed().drop { isSpace($0) }.reversed()
        let bytes = Array(trimmed)
        var out: [UInt8]
        if !bytes.isEmpty, bytes.count % 2 == 0, bytes.allSatisfy({ hexValue($0) != nil }) {
            out = []
            out.reserveCapacity(bytes.count / 2)
            var i = 0
            while i < bytes.count {
                out.append(hexValue(bytes[i])! << 4 | hexValue(bytes[i + 1])!)
                i += 2
            }
        } else {
            out = bytes
        }
        guard out.count >= 16 else {
            throw ProvenanceError("a fingerprint key needs at least 16 bytes (32 hex digits); got \(out.count) byte(s)")
        }
        return out
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }

    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }
}

/// The key that decides the keyed choices of one campaign's answers.
public struct FingerprintKey: Sendable, Equatable {
    let secret: [UInt8]
    /// Safe to print, log and put in reports: `fpk-` and 16 hex digits of a keyed hash of the key.
    public let id: String
    /// The campaign id the key was derived for (nil for a key given directly).
    public let campaign: String?

    init(secret: [UInt8], campaign: String?) {
        self.secret = secret
        self.campaign = campaign
        id = FingerprintKey.keyID(of: secret, prefix: "fpk-")
    }

    /// A campaign key given directly (for example one handed to an outside expert, who then never sees
    /// the master key): the same encoding as `FingerprintMasterKey`.
    public init(encoded: String) throws(ProvenanceError) {
        self.init(secret: try FingerprintMasterKey.decode(encoded), campaign: nil)
    }

    /// The key in hex (only for handing a campaign key to someone on purpose).
    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in secret { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func keyID(of secret: [UInt8], prefix: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("moat-provenance key id v1".utf8), using: SymmetricKey(data: secret))
        let digits = Array("0123456789abcdef".utf8)
        var out = Array(prefix.utf8)
        mac.withUnsafeBytes { raw in
            for b in raw.prefix(8) { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The green form (0 or 1) of a unit: the low bit of HMAC-SHA-256(key, "moat-fp1" ‖ class tag ‖ context).
    func greenForm(tag: UInt64, context: UInt64) -> UInt8 {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: secret))
        FingerprintKey.feed(&hmac, tag: tag, context: context)
        return hmac.finalize().withUnsafeBytes { $0[0] & 1 }
    }

    /// Green forms of many units with one key setup.
    func greenForms(_ units: [(tag: UInt64, context: UInt64)]) -> [UInt8] {
        let base = HMAC<SHA256>(key: SymmetricKey(data: secret))
        return units.map { unit in
            var hmac = base
            FingerprintKey.feed(&hmac, tag: unit.tag, context: unit.context)
            return hmac.finalize().withUnsafeBytes { $0[0] & 1 }
        }
    }

    @inline(__always)
    private static func feed(_ hmac: inout HMAC<SHA256>, tag: UInt64, context: UInt64) {
        var input: (UInt64, UInt64, UInt64) = (UInt64(0x3170_662D_7461_6F6D).littleEndian, tag.littleEndian, context.littleEndian)  // "moat-fp1"
        withUnsafeBytes(of: &input) { hmac.update(data: $0) }
    }
}
