import Crypto
import Foundation

/// STIX identifiers (`type--UUID`, STIX 2.1 section 2.9) and the UUIDs in them.
public enum STIXIdentifier {
    /// A stable identifier for one of Moat's own objects: the same `type` and `seed` always give the same
    /// id, so re-exporting a report gives the same ids and peers see a new version of an object rather
    /// than a new object.
    ///
    /// The UUID is the first 16 bytes of SHA-256 over the seed with the version (4) and variant bits
    /// set: a pseudo-random UUID in the sense of RFC 4122 section 4.4. Version 4, not 5, because the
    /// STIX specification recommends UUIDv4 for domain, relationship and meta objects and
    /// `stix2_validator --strict` turns that recommendation into an error.
    public static func make(_ type: String, seed: String) -> String {
        var hasher = SHA256()
        hasher.update(data: Array("moat-stix-id/v1\u{0}\(type)\u{0}".utf8))
        hasher.update(data: Array(seed.utf8))
        var bytes = Array(hasher.finalize().prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return type + "--" + format(uuid: bytes)
    }

    /// RFC 4122 version 5 (name-based, SHA-1) UUID of `name` in `namespace`, as lowercase text.
    public static func uuid5(namespace: [UInt8], name: String) -> String {
        precondition(namespace.count == 16, "a UUID namespace is 16 bytes")
        var hasher = Insecure.SHA1()
        hasher.update(data: namespace)
        hasher.update(data: Array(name.utf8))
        var bytes = Array(hasher.finalize().prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return format(uuid: bytes)
    }

    /// `8-4-4-4-12` lowercase hex.
    public static func format(uuid bytes: [UInt8]) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (i, b) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(b >> 4)])
            out.append(hex[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The object type of an identifier (`indicator` for `indicator--…`), nil when `id` is not one.
    public static func type(of id: String) -> String? {
        guard isValid(id), let range = id.range(of: "--") else { return nil }
        return String(id[..<range.lowerBound])
    }

    /// Whether `id` has the form `type--UUID`: a type of 3 to 250 characters of `a-z`, `0-9` and `-`
    /// (starting with a letter, not ending with `-`) and an RFC 4122 UUID.
    public static func isValid(_ id: String) -> Bool {
        let b = Array(id.utf8)
        guard b.count >= 3 + 2 + 36, b.count <= 250 + 2 + 36 else { return false }
        let typeEnd = b.count - 38
        guard b[typeEnd] == UInt8(ascii: "-"), b[typeEnd + 1] == UInt8(ascii: "-") else { return false }
        let t = b[0..<typeEnd]
        guard let first = t.first, first >= 0x61 && first <= 0x7A, t.last != UInt8(ascii: "-") else { return false }
        for c in t where !((c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-")) { return false }
        let u = Array(b[(typeEnd + 2)...])
        for (i, c) in u.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                if c != UInt8(ascii: "-") { return false }
            } else if !((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)) {
                return false
            }
        }
        return true
    }
}
