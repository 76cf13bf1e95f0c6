import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as numbers (IPv4-mapped IPv6 addresses are IPv4).
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt64, UInt64)

    /// Parses `1.2.3.4` or an IPv6 address; with `allowPort`, also `1.2.3.4:80` and `[::1]:80`.
    /// Anything else (host names, `unknown`, obfuscated identifiers) is nil.
    public init?<S: StringProtocol>(_ text: S, allowPort: Bool = false) {
        var t = Substring(text)
        while t.first == " " || t.first == "\t" { t = t.dropFirst() }
        while t.last == " " || t.last == "\t" { t = t.dropLast() }
        guard !t.isEmpty, t.utf8.count <= 64 else { return nil }
        if allowPort, t.first == "[", let close = t.firstIndex(of: "]") {
            let rest = t[t.index(after: close)...]
            guard rest.isEmpty || (rest.first == ":" && rest.dropFirst().allSatisfy(\.isNumber)) else { return nil }
            t = t[t.index(after: t.startIndex)..<close]
            guard let v6 = Self.parse6(t) else { return nil }
            self = v6
            return
        }
        if let v4 = Self.parse4(t) {
            self = .v4(v4)
            return
        }
        if allowPort, let colon = t.firstIndex(of: ":"), t[t.index(after: colon)...].allSatisfy(\.isNumber),
           !t[t.index(after: colon)...].isEmpty, let v4 = Self.parse4(t[..<colon]) {
            self = .v4(v4)
            return
        }
        guard let v6 = Self.parse6(t) else { return nil }
        self = v6
    }

    /// The address of a socket peer; nil for Unix sockets.
    public init?(_ address: SocketAddress) {
        switch address {
        case .v4(let a):
            self = .v4(UInt32(bigEndian: a.address.sin_addr.s_addr))
        case .v6(let a):
            var storage = a.address.sin6_addr
            let (hi, lo) = withUnsafeBytes(of: &storage) { raw in
                (UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
                 UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            }
            self = Self.normalized(hi, lo)
        case .unixDomainSocket:
            return nil
        }
    }

    static func normalized(_ hi: UInt64, _ lo: UInt64) -> IPAddress {
        if hi == 0, lo >> 32 == 0xFFFF { return .v4(UInt32(truncatingIfNeeded: lo)) }
        return .v6(hi, lo)
    }

    static func parse4<S: StringProtocol>(_ t: S) -> UInt32? {
        var value: UInt32 = 0
        var octet: UInt32 = 0
        var digits = 0
        var parts = 0
        for c in t.utf8 {
            if c == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return nil }
                value = value << 8 | octet
                octet = 0
                digits = 0
                parts += 1
            } else if c >= 48 && c <= 57 {
                guard digits < 3 else { return nil }
                octet = octet * 10 + UInt32(c - 48)
                guard octet <= 255 else { return nil }
                digits += 1
            } else {
                return nil
            }
        }
        guard parts == 3, digits > 0 else { return nil }
        return value << 8 | octet
    }

    static func parse6<S: StringProtocol>(_ t: S) -> IPAddress? {
        guard t.contains(":") else { return nil }
        var addr = in6_addr()
        let ok = String(t).withCString { inet_pton(AF_INET6, $0, &addr) } == 1
        guard ok else { return nil }
        let (hi, lo) = withUnsafeBytes(of: &addr) { raw in
            (UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
             UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
        return normalized(hi, lo)
    }

    public var description: String {
        switch self {
        case .v4(let v):
            return "\(v >> 24).\((v >> 16) & 255).\((v >> 8) & 255).\(v & 255)"
        case .v6(let hi, let lo):
            var addr = in6_addr()
            withUnsafeMutableBytes(of: &addr) { raw in
                raw.storeBytes(of: hi.bigEndian, toByteOffset: 0, as: UInt64.self)
                raw.storeBytes(of: lo.bigEndian, toByteOffset: 8, as: UInt64.self)
            }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            guard inet_ntop(AF_INET6, &addr, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
            let length = buffer.firstIndex(of: 0) ?? buffer.count
            return String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}

/// An address range: `10.0.0.0/8`, `2001:db8::/32`, or one address (`127.0.0.1` is `/32`).
public struct CIDR: Hashable, Sendable {
    public let network: IPAddress
    public let prefix: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        let width: Int
        if case .v4 = address { width = 32 } else { width = 128 }
        var prefix = width
        if parts.count == 2 {
            guard let p = Int(parts[1]), (0...width).contains(p) else { return nil }
            prefix = p
        }
        self.prefix = prefix
        network = CIDR.mask(address, prefix)
    }

    public func contains(_ address: IPAddress) -> Bool {
        switch (network, address) {
        case (.v4, .v4), (.v6, .v6): return CIDR.mask(address, prefix) == network
        default: return false
        }
    }

    static func mask(_ a: IPAddress, _ prefix: Int) -> IPAddress {
        switch a {
        case .v4(let v):
            return .v4(prefix == 0 ? 0 : v & ~UInt32(0) << UInt32(32 - prefix))
        case .v6(let hi, let lo):
            if prefix <= 64 {
                return .v6(prefix == 0 ? 0 : hi & ~UInt64(0) << UInt64(64 - prefix), 0)
            }
            return .v6(hi, prefix == 128 ? lo : lo & ~UInt64(0) << UInt64(128 - prefix))
        }
    }
}

/// HTTP header names (RFC 9110 tokens).
enum HeaderName {
    static func isToken(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { c in
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "!#$%&'*+-.^_`|~".utf8.contains(c)
            }
        }
    }
}
