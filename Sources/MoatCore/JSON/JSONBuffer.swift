/// Appends compact JSON to a byte buffer with keys in the order they are written.
///
/// Moat writes its JSON Lines by hand: it is several times faster than `JSONEncoder`, and the
/// fixed key order makes the simulator's output byte-for-byte reproducible.
public struct JSONBuffer: Sendable {
    public var bytes: [UInt8]
    private var needsComma = false

    public init(capacity: Int = 1024) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Empties the buffer, keeping its capacity, to write the next document.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    public mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma = false }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma = true }
    public mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma = false }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma = true }
    public mutating func newline() { bytes.append(10); needsComma = false }

    public mutating func key(_ k: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        k.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ s: String) {
        separate()
        JSONBuffer.appendQuoted(s, to: &bytes)
        needsComma = true
    }

    public mutating func int<I: BinaryInteger>(_ v: I) {
        separate()
        JSONBuffer.appendInt(Int64(v), to: &bytes)
        needsComma = true
    }

    /// Writes a number; integral values are written without a fraction.
    public mutating func double(_ v: Double) {
        separate()
        if v.isFinite, v == v.rounded(), abs(v) < 1e15 {
            JSONBuffer.appendInt(Int64(v), to: &bytes)
        } else if v.isFinite {
            bytes.append(contentsOf: v.description.utf8)
        } else {
            bytes.append(contentsOf: "null".utf8)
        }
        needsComma = true
    }

    public mutating func bool(_ v: Bool) {
        separate()
        bytes.append(contentsOf: (v ? "true" : "false").utf8)
        needsComma = true
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    public mutating func timestamp(_ t: Timestamp) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        t.appendRFC3339(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    // Optional helpers: write the key only when the value is present.
    public mutating func field(_ k: StaticString, _ v: String?) { if let v { key(k); string(v) } }
    public mutating func field(_ k: StaticString, _ v: Int?) { if let v { key(k); int(v) } }
    public mutating func field(_ k: StaticString, _ v: Double?) { if let v { key(k); double(v) } }
    public mutating func field(_ k: StaticString, _ v: Bool?) { if let v { key(k); bool(v) } }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    public static func appendInt(_ v: Int64, to out: inout [UInt8]) {
        if v == 0 { out.append(48); return }
        var n = v.magnitude
        if v < 0 { out.append(45) }
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                  UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &tmp) { buf in
            while n > 0 {
                buf[count] = UInt8(48 + n % 10)
                n /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { out.append(buf[i]) }
        }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    public static func appendQuoted(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): out.append(92); out.append(c)
            case UInt8(ascii: "\\"): out.append(92); out.append(c)
            case 10: out.append(92); out.append(UInt8(ascii: "n"))
            case 13: out.append(92); out.append(UInt8(ascii: "r"))
            case 9: out.append(92); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(c >> 4)], hex[Int(c & 15)]])
            default: out.append(c)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
