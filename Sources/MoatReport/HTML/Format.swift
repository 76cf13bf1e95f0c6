import MoatCore

/// How numbers, times and shares are written in the report.
enum Format {
    /// `1,234,567`
    static func count(_ n: Int) -> String {
        let s = String(n.magnitude)
        var out = ""
        out.reserveCapacity(s.count + s.count / 3 + 1)
        for (i, c) in s.enumerated() {
            if i > 0, (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    /// `12.3 M`, `45.6 k`, `789`
    static func compact(_ n: Double) -> String {
        let a = abs(n)
        if a >= 1e9 { return HTML.number(n / 1e9, decimals: 1) + " G" }
        if a >= 1e6 { return HTML.number(n / 1e6, decimals: 1) + " M" }
        if a >= 1e4 { return HTML.number(n / 1e3, decimals: 0) + " k" }
        if a >= 1e3 { return HTML.number(n / 1e3, decimals: 1) + " k" }
        return HTML.number(n, decimals: a < 10 ? 1 : 0)
    }

    /// A share as a percentage: `45%`, `3.2%`, `0.04%`, `0%`.
    static func percent(_ part: Int, of whole: Int) -> String {
        whole > 0 ? percent(Double(part) / Double(whole)) : "–"
    }

    static func percent(_ x: Double) -> String {
        let p = x * 100
        if p == 0 { return "0%" }
        if p >= 10 || p == p.rounded() { return HTML.number(p, decimals: 0) + "%" }
        if p >= 1 { return HTML.number(p, decimals: 1) + "%" }
        if p >= 0.01 { return HTML.number(p, decimals: 2) + "%" }
        return "< 0.01%"
    }

    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `2026-04-22 08:15 UTC`
    static func time(_ ms: Int64) -> String {
        let s = Timestamp(milliseconds: ms).rfc3339  // 2026-04-22T08:15:02.114Z
        return String(s.prefix(10)) + " " + String(s.dropFirst(11).prefix(5)) + " UTC"
    }

    /// `2026-04-22 08:15` (for tables whose heading says UTC)
    static func stamp(_ ms: Int64) -> String {
        let s = Timestamp(milliseconds: ms).rfc3339
        return String(s.prefix(10)) + " " + String(s.dropFirst(11).prefix(5))
    }

    /// `2026-04-22`
    static func day(_ ms: Int64) -> String { String(Timestamp(milliseconds: ms).rfc3339.prefix(10)) }

    /// `Apr 22`
    static func shortDay(_ ms: Int64) -> String {
        let s = Array(Timestamp(milliseconds: ms).rfc3339.utf8)  // 2026-04-22T...
        let m = Int(s[5] - 48) * 10 + Int(s[6] - 48)
        let d = Int(s[8] - 48) * 10 + Int(s[9] - 48)
        return months[max(0, min(11, m - 1))] + " " + String(d)
    }

    /// `08:00`
    static func clock(_ ms: Int64) -> String { String(Timestamp(milliseconds: ms).rfc3339.dropFirst(11).prefix(5)) }

    /// A duration: `45 min`, `12.2 h`, `3.5 days`.
    static func duration(_ ms: Int64) -> String {
        let minutes = Double(ms) / 60_000
        if abs(minutes) < 90 { return HTML.number(minutes, decimals: 0) + " min" }
        let hours = minutes / 60
        if abs(hours) < 48 { return HTML.number(hours, decimals: 1) + " h" }
        return HTML.number(hours / 24, decimals: 1) + " days"
    }

    /// The text cut to `limit` characters with an ellipsis.
    static func cut(_ s: String, _ limit: Int) -> String {
        s.count <= limit ? s : String(s.prefix(max(1, limit - 1))) + "…"
    }

    /// Bytes: `17.1 GB`.
    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(n)
        var u = 0
        while v >= 1000, u < units.count - 1 { v /= 1000; u += 1 }
        return u == 0 ? "\(n) B" : HTML.number(v, decimals: 1) + " " + units[u]
    }

    /// A short, stable id fragment for HTML ids from any text.
    static func slug(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars.prefix(40) {
            if (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") { out.unicodeScalars.append(c) } else { out.append("-") }
        }
        var h: UInt32 = 2_166_136_261
        for b in s.utf8 { h = (h ^ UInt32(b)) &* 16_777_619 }
        return out + "-" + String(h % 65_536, radix: 16)
    }
}
