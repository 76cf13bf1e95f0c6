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
        let fast: Void? = s.utf8.withContiguousStorageIfAvailable { appendEscaped($0, to: &out) }
        if fast == nil {
            var copy = s
            copy.withUTF8 { appendEscaped($0, to: &out) }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends UTF-8 text with JSON escapes: runs that need none are copied whole, found 8 bytes at a time.
    package static func appendEscaped(_ text: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        guard let base = text.baseAddress else { return }
        let n = text.count
        out.reserveCapacity(out.count + n + 2)
        var i = 0
        var run = 0
        while i < n {
            while i &+ 8 <= n, needsEscape(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) == 0 { i &+= 8 }
            guard i < n else { break }
            let c = base[i]
            guard c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 else {
                i += 1
                continue
            }
            if run < i { out.append(contentsOf: UnsafeBufferPointer(start: base + run, count: i - run)) }
            switch c {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(92); out.append(c)
            case 10: out.append(92); out.append(UInt8(ascii: "n"))
            case 13: out.append(92); out.append(UInt8(ascii: "r"))
            case 9: out.append(92); out.append(UInt8(ascii: "t"))
            default:
                out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(c >> 4)], hex[Int(c & 15)]])
            }
            i += 1
            run = i
        }
        if run < n { out.append(contentsOf: UnsafeBufferPointer(start: base + run, count: n - run)) }
    }

    /// Nonzero when one of the 8 bytes of `w` may be `"`, a backslash or a control character (a few false
    /// alarms are fine: the byte loop looks again).
    @inline(__always)
    static func needsEscape(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, high: UInt64 = 0x8080_8080_8080_8080
        let q = w ^ 0x2222_2222_2222_2222, b = w ^ 0x5C5C_5C5C_5C5C_5C5C
        return (((q &- ones) & ~q) | ((b &- ones) & ~b) | ((w &- 0x2020_2020_2020_2020) & ~w)) & high
    }
}
