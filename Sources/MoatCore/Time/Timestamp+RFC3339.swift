extension Timestamp {
    /// Parses an RFC 3339 date-time (`2026-04-22T08:15:02.114Z`, `2026-04-22T10:15:02+02:00`).
    /// Fractions beyond milliseconds are truncated. Returns nil when the text is not RFC 3339.
    public init?(rfc3339 text: String) {
        var text = text
        let parsed: Timestamp? = text.withUTF8 { Timestamp.parse(UnsafeBufferPointer(rebasing: $0[...])) }
        guard let parsed else { return nil }
        self = parsed
    }

    /// Parses RFC 3339 from raw UTF-8 bytes.
    public static func parse(_ b: UnsafeBufferPointer<UInt8>) -> Timestamp? {
        let n = b.count
        guard n >= 20 else { return nil }
        @inline(__always) func digit(_ i: Int) -> Int? {
            let c = b[i]
            return (c >= 48 && c <= 57) ? Int(c - 48) : nil
        }
        @inline(__always) func number(_ i: Int, _ len: Int) -> Int? {
            var v = 0
            for k in i..<(i + len) {
                guard let d = digit(k) else { return nil }
                v = v * 10 + d
            }
            return v
        }
        guard let year = number(0, 4), b[4] == 45, let month = number(5, 2), b[7] == 45,
              let day = number(8, 2), b[10] == 84 || b[10] == 116 || b[10] == 32,
              let hour = number(11, 2), b[13] == 58, let minute = number(14, 2), b[16] == 58,
              let second = number(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year, month),
              hour < 24, minute < 60, second <= 60
        else { return nil }
        var i = 19
        var millis = 0
        if i < n, b[i] == 46 {  // '.'
            i += 1
            var digits = 0
            while i < n, let d = digit(i) {
                if digits < 3 { millis = millis * 10 + d }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { millis *= 10 } }
        }
        guard i < n else { return nil }
        var offsetMinutes = 0
        switch b[i] {
        case 90, 122:  // Z z
            i += 1
        case 43, 45:  // + -
            guard i + 6 == n, let oh = number(i + 1, 2), b[i + 3] == 58, let om = number(i + 4, 2),
                  oh < 24, om < 60
            else { return nil }
            offsetMinutes = (oh * 60 + om) * (b[i] == 45 ? -1 : 1)
            i += 6
        default:
            return nil
        }
        guard i == n else { return nil }
        let days = daysFromCivil(year, month, day)
        let secs = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + min(second, 59)) - Int64(offsetMinutes * 60)
        return Timestamp(milliseconds: secs * 1000 + Int64(millis))
    }

    /// `2026-04-22T08:15:02.114Z`
    public var rfc3339: String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(24)
        appendRFC3339(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the RFC 3339 form to a byte buffer without allocating a String.
    public func appendRFC3339(to out: inout [UInt8]) {
        var ms = milliseconds
        var days = ms / Timestamp.day
        ms -= days * Timestamp.day
        if ms < 0 { ms += Timestamp.day; days -= 1 }
        let (y, m, d) = Timestamp.civilFromDays(Int(days))
        let secOfDay = Int(ms / 1000)
        let millis = Int(ms % 1000)
        @inline(__always) func put(_ v: Int, _ width: Int) {
            var div = 1
            for _ in 1..<width { div *= 10 }
            var v = v
            while div > 0 {
                out.append(UInt8(48 + (v / div) % 10))
                v %= div
                div /= 10
            }
        }
        put(y, 4); out.append(45); put(m, 2); out.append(45); put(d, 2); out.append(84)
        put(secOfDay / 3600, 2); out.append(58); put((secOfDay / 60) % 60, 2); out.append(58)
        put(secOfDay % 60, 2); out.append(46); put(millis, 3); out.append(90)
    }

    /// Hour of day (0–23) in UTC shifted by `offsetHours`.
    public func hourOfDay(offsetHours: Int = 0) -> Int {
        var hours = milliseconds / Timestamp.hour
        if milliseconds % Timestamp.hour < 0 { hours -= 1 }  // floor, not truncation, before 1970
        let h = (hours + Int64(offsetHours)) % 24
        return Int(h < 0 ? h + 24 : h)
    }

    /// Day index since the epoch (UTC).
    public var dayIndex: Int64 {
        milliseconds >= 0 ? milliseconds / Timestamp.day : (milliseconds - Timestamp.day + 1) / Timestamp.day
    }

    static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's civil-date algorithms.
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
