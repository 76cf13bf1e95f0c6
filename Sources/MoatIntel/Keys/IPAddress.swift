/// An IPv4 or IPv6 address as its bytes (4 or 16). IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) are
/// read as the IPv4 address they carry, so one client is one address whichever way a proxy wrote it.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]

    public var isIPv4: Bool { bytes.count == 4 }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    public init?(_ text: String) {
        let t = text.utf8
        if t.contains(UInt8(ascii: ":")) {
            guard var b = IPAddress.parseIPv6(Array(t)) else { return nil }
            if b[0..<10].allSatisfy({ $0 == 0 }), b[10] == 0xFF, b[11] == 0xFF { b = Array(b[12...]) }
            bytes = b
        } else {
            guard let b = IPAddress.parseIPv4(Array(t)) else { return nil }
            bytes = b
        }
    }

    /// Dotted decimal for IPv4; RFC 5952 text (lowercase, longest zero run as `::`) for IPv6.
    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        var groups: [Int] = []
        for i in stride(from: 0, to: 16, by: 2) { groups.append(Int(bytes[i]) << 8 | Int(bytes[i + 1])) }
        var bestStart = -1, bestLen = 0, i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8, groups[j] == 0 { j += 1 }
                if j - i > bestLen, j - i >= 2 { bestStart = i; bestLen = j - i }
                i = j
            } else { i += 1 }
        }
        func hex(_ r: Range<Int>) -> String { groups[r].map { String($0, radix: 16) }.joined(separator: ":") }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLen)..<8)
    }

    /// The network of the first `length` bits.
    public func prefix(_ length: Int) -> IPPrefix { IPPrefix(address: self, length: length) }

    static func parseIPv4(_ t: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        var value = -1, digits = 0
        for c in t + [UInt8(ascii: ".")] {
            if c == UInt8(ascii: ".") {
                guard value >= 0, value <= 255, out.count < 4 else { return nil }
                out.append(UInt8(value))
                value = -1
                digits = 0
            } else if c >= 0x30 && c <= 0x39 {
                // No leading zeros (`010` is octal to some parsers and decimal to others).
                if digits > 0 && value == 0 { return nil }
                value = max(value, 0) * 10 + Int(c - 0x30)
                digits += 1
                if digits > 3 { return nil }
            } else {
                return nil
            }
        }
        return out.count == 4 ? out : nil
    }

    static func parseIPv6(_ t: [UInt8]) -> [UInt8]? {
        // Split at "::" (at most once), then parse each side's groups; an IPv4 tail takes two groups.
        var text = t
        if let pct = text.firstIndex(of: UInt8(ascii: "%")) { text = Array(text[..<pct]) }  // zone id
        var head: [UInt8] = [], tail: [UInt8] = [], compressed = false
        var i = 0
        while i + 1 < text.count {
            if text[i] == UInt8(ascii: ":"), text[i + 1] == UInt8(ascii: ":") {
                compressed = true
                head = Array(text[..<i])
                tail = Array(text[(i + 2)...])
                break
            }
            i += 1
        }
        if !compressed { head = text }
        if compressed, zip(tail, tail.dropFirst()).contains(where: { $0 == UInt8(ascii: ":") && $1 == UInt8(ascii: ":") }) { return nil }
        func groups(_ part: [UInt8]) -> [UInt8]? {
            if part.isEmpty { return [] }
            var out: [UInt8] = []
            let pieces = part.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            for (n, piece) in pieces.enumerated() {
                if n == pieces.count - 1, piece.contains(UInt8(ascii: ".")) {
                    guard let v4 = parseIPv4(Array(piece)) else { return nil }
                    out += v4
                    continue
                }
                guard !piece.isEmpty, piece.count <= 4 else { return nil }
                var v = 0
                for c in piece {
                    guard let d = hexDigit(c) else { return nil }
                    v = v << 4 | d
                }
                out.append(UInt8(v >> 8))
                out.append(UInt8(v & 0xFF))
            }
            return out
        }
        guard let h = groups(head), let tl = groups(tail) else { return nil }
        if compressed {
            guard h.count + tl.count <= 14 else { return nil }
            return h + [UInt8](repeating: 0, count: 16 - h.count - tl.count) + tl
        }
        return h.count == 16 ? h : nil
    }

    static func hexDigit(_ c: UInt8) -> Int? {
        switch c {
        case 0x30...0x39: return Int(c - 0x30)
        case 0x61...0x66: return Int(c - 0x57)
        case 0x41...0x46: return Int(c - 0x37)
        default: return nil
        }
    }
}

/// A network: an address with all bits after `length` cleared (`203.0.113.0/24`, `2001:db8:7::/48`).
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var length: Int

    public init(address: IPAddress, length: Int) {
        let bits = address.bytes.count * 8
        let l = min(max(length, 0), bits)
        var b = address.bytes
        for i in 0..<b.count {
            let keep = min(max(l - i * 8, 0), 8)
            b[i] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        self.address = IPAddress(bytes: b)!
        self.length = l
    }

    /// `a.b.c.d/n` or `v6/n`; a bare address is its own /32 or /128.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let a = IPAddress(String(parts[0])) else { return nil }
        var l = a.bytes.count * 8
        if parts.count == 2 {
            guard let n = Int(parts[1]), n >= 0 else { return nil }
            // `::ffff:192.0.2.0/120` was read as IPv4: its length counts from the IPv4 part.
            if a.isIPv4, String(parts[0]).contains(":") { l = n - 96 } else { l = n }
            guard l >= 0, l <= a.bytes.count * 8 else { return nil }
        }
        self.init(address: a, length: l)
    }

    public func contains(_ ip: IPAddress) -> Bool {
        ip.bytes.count == address.bytes.count && IPPrefix(address: ip, length: length).address == address
    }

    public var description: String { "\(address)/\(length)" }
}
