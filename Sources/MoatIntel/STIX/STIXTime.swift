import MoatCore

/// STIX and TAXII timestamps (RFC 3339, UTC, `Z`) at microsecond precision: TAXII's `date_added` needs
/// more than milliseconds to order objects added together.
public enum STIXTime {
    /// Microseconds since the Unix epoch of an RFC 3339 time with any number of fractional digits
    /// (those past the sixth are dropped) and any offset; nil when it is not one.
    public static func micros(_ text: String) -> Int64? {
        let b = Array(text.utf8)
        // Split off the fraction so the millisecond parser sees at most three digits.
        guard let dot = b.firstIndex(of: UInt8(ascii: ".")) else {
            return Timestamp(rfc3339: text).map { $0.milliseconds * 1000 }
        }
        var end = dot + 1
        while end < b.count, b[end] >= 0x30 && b[end] <= 0x39 { end += 1 }
        let digits = Array(b[(dot + 1)..<end])
        guard !digits.isEmpty else { return nil }
        let base = String(decoding: b[..<dot] + b[end...], as: UTF8.self)
        guard let t = Timestamp(rfc3339: base) else { return nil }
        var frac: Int64 = 0
        for i in 0..<6 { frac = frac * 10 + (i < digits.count ? Int64(digits[i] - 0x30) : 0) }
        return t.milliseconds * 1000 + frac
    }

    /// `2026-04-22T08:15:02.114223Z`.
    public static func format(micros: Int64) -> String {
        let ms = micros >= 0 ? micros / 1000 : (micros - 999) / 1000
        let rest = micros - ms * 1000
        var s = Timestamp(milliseconds: ms).rfc3339
        s.removeLast()  // Z
        return s + String(format3(rest)) + "Z"
    }

    private static func format3(_ v: Int64) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, 3 - s.count)) + s
    }
}
