#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem found by `JSONScanner`. `field` is set when the problem belongs to a known field's value
/// (wrong type, bad range, invalid UTF-8); pure syntax errors leave it nil.
package struct JSONError: Error, Sendable {
    package var field: StaticString?
    package var message: String

    package init(_ message: String, field: StaticString? = nil) {
        self.message = message
        self.field = field
    }

    func contractError(file: String, line: Int) -> ContractError {
        ContractError(file: file, line: line, field: field.map { "\($0)" }, message: message)
    }
}

/// The raw bytes of a JSON string as they appear between the quotes.
package struct JSONStringSpan: Sendable {
    /// Offset of the first byte after the opening quote.
    package var start: Int
    /// Offset of the closing quote.
    package var end: Int
    /// The raw bytes contain backslash escapes, so they are not the string's UTF-8 as-is.
    package var hasEscapes: Bool

    package var count: Int { end - start }
}

/// A byte-level JSON scanner over one line of input.
///
/// It never builds a `String` unless asked for a value, validates the UTF-8 of every string it passes
/// over, and never reads outside `base[0..<count]`. It is a cursor: callers drive it through an
/// object's members (`beginObject`, `readKey`, `endMember`) and read or skip each value.
package struct JSONScanner {
    package let base: UnsafePointer<UInt8>
    package let count: Int
    package var pos: Int = 0

    /// Objects and arrays nested deeper than this are rejected (protects the stack in `skipValue`).
    static let maxDepth = 128

    package init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.count = max(0, count)
    }

    // MARK: - Errors

    private func describeByte(at i: Int) -> String {
        guard i < count else { return "end of line" }
        let c = base[i]
        if c >= 0x21 && c < 0x7F { return "character '\(String(UnicodeScalar(c)))' at column \(i + 1)" }
        return "byte 0x\(String(c, radix: 16, uppercase: true)) at column \(i + 1)"
    }

    /// A syntax error at the current position: "not valid JSON: unexpected end of line" or
    /// "not valid JSON: expected ':' but found character 'x' at column 12".
    package func syntaxError(expected: String? = nil, at i: Int? = nil) -> JSONError {
        let i = i ?? pos
        let found = describeByte(at: i)
        if let expected {
            return JSONError("not valid JSON: expected \(expected) but found \(found)")
        }
        return JSONError("not valid JSON: unexpected \(found)")
    }

    // MARK: - Whitespace and structure

    @inline(__always)
    package mutating func skipWhitespace() {
        while pos < count {
            let c = base[pos]
            // space, \t, \n, \r
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { pos += 1 } else { return }
        }
    }

    @inline(__always)
    package var atEnd: Bool { pos >= count }

    @inline(__always)
    package func peek() -> UInt8? { pos < count ? base[pos] : nil }

    /// Consumes `{` and following whitespace. Returns false when the object is empty (`}` consumed too).
    @inline(__always)
    package mutating func beginObject() throws(JSONError) -> Bool {
        guard pos < count, base[pos] == UInt8(ascii: "{") else { throw syntaxError(expected: "'{'") }
        pos += 1
        skipWhitespace()
        if pos < count, base[pos] == UInt8(ascii: "}") {
            pos += 1
            return false
        }
        return true
    }

    /// Reads `"key"` `:` and the whitespace around it; leaves the cursor on the value.
    @inline(__always)
    package mutating func readKey() throws(JSONError) -> JSONStringSpan {
        guard pos < count, base[pos] == UInt8(ascii: "\"") else { throw syntaxError(expected: "a key in quotes") }
        let span = try scanString(field: nil)
        skipWhitespace()
        guard pos < count, base[pos] == UInt8(ascii: ":") else { throw syntaxError(expected: "':'") }
        pos += 1
        skipWhitespace()
        return span
    }

    /// After a member's value: consumes `,` (returns true, more members follow) or `}` (returns false).
    @inline(__always)
    package mutating func endMember() throws(JSONError) -> Bool {
        try endItem(closing: UInt8(ascii: "}"), expected: "',' or '}'")
    }

    /// After an object member or array element: consumes `,` (returns true) or `closing` (returns false).
    @inline(__always)
    mutating func endItem(closing: UInt8, expected: StaticString) throws(JSONError) -> Bool {
        skipWhitespace()
        guard pos < count else { throw syntaxError() }
        let c = base[pos]
        if c == UInt8(ascii: ",") {
            pos += 1
            skipWhitespace()
            return true
        }
        if c == closing {
            pos += 1
            return false
        }
        throw syntaxError(expected: "\(expected)")
    }

    /// After the top-level value: only whitespace may follow.
    package mutating func expectEnd() throws(JSONError) {
        skipWhitespace()
        if pos < count {
            throw JSONError("not valid JSON: unexpected \(describeByte(at: pos)) after the end of the object")
        }
    }

    // MARK: - Strings

    /// Scans a string starting at its opening quote; leaves the cursor after the closing quote.
    /// Validates escapes (including `\u` surrogate pairs), rejects raw control characters and
    /// validates the UTF-8 of the content. `field` names the field in a UTF-8 error.
    package mutating func scanString(field: StaticString?) throws(JSONError) -> JSONStringSpan {
        pos += 1  // opening quote
        let start = pos
        var hasEscapes = false
        while true {
            #if _endian(little)
            // Sixteen, then eight bytes at a time while they are plain ASCII without quote, backslash or
            // control characters. The lowest flagged byte is always a true hit (borrows only propagate
            // upward), so it is where the byte-wise loop resumes.
            while pos &+ 16 <= count {
                let h0 = JSONScanner.specialBytes(UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self))
                let h1 = JSONScanner.specialBytes(UnsafeRawPointer(base + pos + 8).loadUnaligned(as: UInt64.self))
                if h0 | h1 == 0 {
                    pos &+= 16
                } else {
                    pos &+= h0 != 0 ? h0.trailingZeroBitCount >> 3 : 8 &+ h1.trailingZeroBitCount >> 3
                    break
                }
            }
            while pos &+ 8 <= count {
                let h = JSONScanner.specialBytes(UnsafeRawPointer(base + pos).loadUnaligned(as: UInt64.self))
                if h == 0 {
                    pos &+= 8
                } else {
                    pos &+= h.trailingZeroBitCount >> 3
                    break
                }
            }
            #endif
            guard pos < count else { throw syntaxError() }
            let c = base[pos]
            if c == UInt8(ascii: "\"") {
                let span = JSONStringSpan(start: start, end: pos, hasEscapes: hasEscapes)
                pos += 1
                return span
            } else if c == UInt8(ascii: "\\") {
                hasEscapes = true
                try scanEscape()
            } else if c < 0x20 {
                throw JSONError("not valid JSON: unescaped control character (byte 0x\(String(c, radix: 16, uppercase: true))) in a string at column \(pos + 1)")
            } else if c < 0x80 {
                pos += 1
            } else {
                try scanUTF8Sequence(field: field)
            }
        }
    }

    /// High bit set in (at least the lowest of) the bytes of `w` that are `"`, `\\`, below 0x20 or above 0x7F.
    @inline(__always)
    static func specialBytes(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let q = w ^ 0x2222_2222_2222_2222
        let b = w ^ 0x5C5C_5C5C_5C5C_5C5C
        return ((q &- ones) | (b &- ones) | (w &- 0x2020_2020_2020_2020) | w) & 0x8080_8080_8080_8080
    }

    /// Validates one escape sequence at `pos` (the backslash) and moves past it.
    @inline(__always)
    private mutating func scanEscape() throws(JSONError) {
        guard pos + 1 < count else { throw syntaxError(at: count) }
        switch base[pos + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            pos += 2
        case UInt8(ascii: "u"):
            let u = try hex4(at: pos + 2)
            pos += 6
            if u >= 0xD800 && u <= 0xDBFF {
                guard pos + 1 < count, base[pos] == UInt8(ascii: "\\"), base[pos + 1] == UInt8(ascii: "u") else {
                    throw JSONError("not valid JSON: unpaired surrogate in \\u escape at column \(pos - 5)")
                }
                let low = try hex4(at: pos + 2)
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw JSONError("not valid JSON: unpaired surrogate in \\u escape at column \(pos - 5)")
                }
                pos += 6
            } else if u >= 0xDC00 && u <= 0xDFFF {
                throw JSONError("not valid JSON: unpaired surrogate in \\u escape at column \(pos - 5)")
            }
        default:
            throw JSONError("not valid JSON: invalid escape sequence at column \(pos + 1)")
        }
    }

    /// The value of four hex digits at `i`.
    @inline(__always)
    private func hex4(at i: Int) throws(JSONError) -> UInt32 {
        guard i + 4 <= count else { throw syntaxError(at: count) }
        var v: UInt32 = 0
        for k in i..<(i + 4) {
            let c = base[k]
            let d: UInt8
            switch c {
            case 48...57: d = c &- 48
            case 65...70: d = c &- 55
            case 97...102: d = c &- 87
            default: throw JSONError("not valid JSON: invalid \\u escape at column \(i - 1)")
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }

    /// Validates one multi-byte UTF-8 sequence at `pos` (first byte ≥ 0x80) and moves past it.
    @inline(__always)
    private mutating func scanUTF8Sequence(field: StaticString?) throws(JSONError) {
        let c0 = base[pos]
        @inline(__always) func cont(_ i: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            i < count && base[i] >= lo && base[i] <= hi
        }
        let len: Int
        switch c0 {
        case 0xC2...0xDF:
            guard cont(pos + 1) else { throw utf8Error(field) }
            len = 2
        case 0xE0:
            guard cont(pos + 1, 0xA0, 0xBF), cont(pos + 2) else { throw utf8Error(field) }
            len = 3
        case 0xE1...0xEC, 0xEE...0xEF:
            guard cont(pos + 1), cont(pos + 2) else { throw utf8Error(field) }
            len = 3
        case 0xED:
            guard cont(pos + 1, 0x80, 0x9F), cont(pos + 2) else { throw utf8Error(field) }
            len = 3
        case 0xF0:
            guard cont(pos + 1, 0x90, 0xBF), cont(pos + 2), cont(pos + 3) else { throw utf8Error(field) }
            len = 4
        case 0xF1...0xF3:
            guard cont(pos + 1), cont(pos + 2), cont(pos + 3) else { throw utf8Error(field) }
            len = 4
        case 0xF4:
            guard cont(pos + 1, 0x80, 0x8F), cont(pos + 2), cont(pos + 3) else { throw utf8Error(field) }
            len = 4
        default:
            throw utf8Error(field)
        }
        pos += len
    }

    private func utf8Error(_ field: StaticString?) -> JSONError {
        JSONError("not valid UTF-8 (byte 0x\(String(base[pos], radix: 16, uppercase: true)) at column \(pos + 1))",
                  field: field)
    }

    /// The string's value. Bytes were validated by `scanString`, so decoding never repairs anything.
    package func makeString(_ span: JSONStringSpan) -> String {
        let n = span.count
        if n <= 0 { return "" }
        if !span.hasEscapes {
            return String(decoding: UnsafeBufferPointer(start: base + span.start, count: n), as: UTF8.self)
        }
        // Unescaping never makes the text longer: \uXXXX (6 bytes) -> at most 3, a pair (12) -> 4.
        return String(unsafeUninitializedCapacity: n) { out in
            unescape(span, into: out)
        }
    }

    /// Writes the unescaped bytes of a validated string into `out` (capacity ≥ span.count), returns the length.
    func unescape(_ span: JSONStringSpan, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var i = span.start
        var o = 0
        let end = span.end
        guard out.count >= span.count else { return 0 }
        @inline(__always) func hex(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            var k = at
            while k < at + 4 && k < end {
                let c = base[k]
                let d: UInt32 = c <= 57 ? UInt32(c &- 48) : (c <= 70 ? UInt32(c &- 55) : UInt32(c &- 87))
                v = v << 4 | (d & 15)
                k += 1
            }
            return v
        }
        guard let outBase = out.baseAddress else { return 0 }
        while i < end {
            // Copy the run up to the next backslash in one go.
            let run: Int
            if let found = memchr(base + i, Int32(UInt8(ascii: "\\")), end - i) {
                run = UnsafeRawPointer(found) - UnsafeRawPointer(base + i)
            } else {
                run = end - i
            }
            if run > 0 {
                (outBase + o).initialize(from: base + i, count: run)
                o += run
                i += run
                if i >= end { break }
            }
            guard i + 1 < end else { break }
            let e = base[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out[o] = 0x08; o += 1
            case UInt8(ascii: "f"): out[o] = 0x0C; o += 1
            case UInt8(ascii: "n"): out[o] = 0x0A; o += 1
            case UInt8(ascii: "r"): out[o] = 0x0D; o += 1
            case UInt8(ascii: "t"): out[o] = 0x09; o += 1
            case UInt8(ascii: "u"):
                var scalar = hex(i)
                i += 4
                if scalar >= 0xD800 && scalar <= 0xDBFF && i + 6 <= end {
                    let low = hex(i + 2)
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low &- 0xDC00)
                    i += 6
                }
                if scalar < 0x80 {
                    out[o] = UInt8(scalar); o += 1
                } else if scalar < 0x800 {
                    out[o] = UInt8(0xC0 | (scalar >> 6))
                    out[o + 1] = UInt8(0x80 | (scalar & 0x3F))
                    o += 2
                } else if scalar < 0x10000 {
                    out[o] = UInt8(0xE0 | (scalar >> 12))
                    out[o + 1] = UInt8(0x80 | ((scalar >> 6) & 0x3F))
                    out[o + 2] = UInt8(0x80 | (scalar & 0x3F))
                    o += 3
                } else {
                    out[o] = UInt8(0xF0 | ((scalar >> 18) & 0x07))
                    out[o + 1] = UInt8(0x80 | ((scalar >> 12) & 0x3F))
                    out[o + 2] = UInt8(0x80 | ((scalar >> 6) & 0x3F))
                    out[o + 3] = UInt8(0x80 | (scalar & 0x3F))
                    o += 4
                }
            default:  // " \ /
                out[o] = e; o += 1
            }
        }
        return o
    }

    /// Calls `body` with the string's UTF-8 bytes: the raw slice when there are no escapes, else a
    /// temporary unescaped copy.
    package func withStringBytes<R>(_ span: JSONStringSpan, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if !span.hasEscapes {
            return body(UnsafeBufferPointer(start: base + span.start, count: max(0, span.count)))
        }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(1, span.count)) { tmp in
            let n = unescape(span, into: tmp)
            return body(UnsafeBufferPointer(rebasing: tmp[0..<n]))
        }
    }

    // MARK: - Numbers

    /// A JSON number as scanned: sign, up to 19 significant decimal digits and a decimal exponent.
    package struct Number {
        var start: Int
        var end: Int
        var negative: Bool
        var mantissa: UInt64
        /// value = ±mantissa × 10^exponent (exact when `!truncated`)
        var exponent: Int
        /// It had a fraction or an exponent part.
        var isIntegerLiteral: Bool
        /// More than 19 significant digits: `mantissa` holds only the leading ones.
        var truncated: Bool
    }

    /// Scans a number per the JSON grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
    @inline(__always)
    package mutating func scanNumber() throws(JSONError) -> Number {
        let start = pos
        var n = Number(start: start, end: start, negative: false, mantissa: 0, exponent: 0,
                       isIntegerLiteral: true, truncated: false)
        if pos < count, base[pos] == UInt8(ascii: "-") {
            n.negative = true
            pos += 1
        }
        guard pos < count, base[pos] &- 48 < 10 else { throw invalidNumber(start) }
        var digits = 0
        if base[pos] == 48 {
            pos += 1
            if pos < count, base[pos] &- 48 < 10 { throw invalidNumber(start) }  // leading zero
        } else {
            while pos < count {
                let d = base[pos] &- 48
                if d >= 10 { break }
                if digits < 19 {
                    n.mantissa = n.mantissa &* 10 &+ UInt64(d)
                    digits += 1
                } else {
                    n.exponent += 1
                    if d != 0 { n.truncated = true }
                }
                pos += 1
            }
        }
        if pos < count, base[pos] == UInt8(ascii: ".") {
            n.isIntegerLiteral = false
            pos += 1
            guard pos < count, base[pos] &- 48 < 10 else { throw invalidNumber(start) }
            while pos < count {
                let d = base[pos] &- 48
                if d >= 10 { break }
                if digits < 19 {
                    if n.mantissa != 0 || d != 0 { digits += 1 }
                    n.mantissa = n.mantissa &* 10 &+ UInt64(d)
                    n.exponent -= 1
                } else if d != 0 {
                    n.truncated = true
                }
                pos += 1
            }
        }
        if pos < count, base[pos] | 0x20 == UInt8(ascii: "e") {
            n.isIntegerLiteral = false
            pos += 1
            var expNegative = false
            if pos < count, base[pos] == UInt8(ascii: "+") || base[pos] == UInt8(ascii: "-") {
                expNegative = base[pos] == UInt8(ascii: "-")
                pos += 1
            }
            guard pos < count, base[pos] &- 48 < 10 else { throw invalidNumber(start) }
            var e = 0
            while pos < count {
                let d = base[pos] &- 48
                if d >= 10 { break }
                if e < 100_000 { e = e * 10 + Int(d) }
                pos += 1
            }
            n.exponent += expNegative ? -e : e
        }
        n.end = pos
        return n
    }

    private func invalidNumber(_ start: Int) -> JSONError {
        JSONError("not valid JSON: invalid number at column \(start + 1)")
    }

    private static let powersOf10: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// The number's value as a correctly rounded Double (nil when it overflows to infinity).
    package func doubleValue(_ n: Number) -> Double? {
        // Clinger's fast path: exact mantissa and exact power of ten give a correctly rounded result.
        if !n.truncated, n.mantissa <= (1 << 53), n.exponent >= -22, n.exponent <= 22 {
            var d = Double(n.mantissa)
            if n.exponent >= 0 {
                d *= JSONScanner.powersOf10[n.exponent]
            } else {
                d /= JSONScanner.powersOf10[-n.exponent]
            }
            return n.negative ? -d : d
        }
        if n.mantissa == 0 && !n.truncated { return n.negative ? -0.0 : 0.0 }
        let text = String(decoding: UnsafeBufferPointer(start: base + n.start, count: n.end - n.start), as: UTF8.self)
        guard let d = Double(text), d.isFinite else { return nil }
        return d
    }

    // MARK: - Literals

    /// Consumes `true`, `false` or `null` when it is at the cursor; returns false otherwise.
    @inline(__always)
    package mutating func consumeLiteral(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard pos + n <= count else { return false }
        let p = word.utf8Start
        for k in 0..<n where base[pos + k] != p[k] { return false }
        pos += n
        return true
    }

    /// The error for a misspelt or cut-off literal: points at the first byte that does not match.
    func literalError(_ word: StaticString) -> JSONError {
        let p = word.utf8Start
        var k = 0
        while k < word.utf8CodeUnitCount && pos + k < count && base[pos + k] == p[k] { k += 1 }
        return syntaxError(at: pos + k)
    }

    // MARK: - Typed values

    /// `null` at the cursor: consumes it and returns true.
    @inline(__always)
    package mutating func consumeNull() throws(JSONError) -> Bool {
        guard pos < count, base[pos] == UInt8(ascii: "n") else { return false }
        guard consumeLiteral("null") else { throw literalError("null") }
        return true
    }

    private func typeError(_ expected: String, _ field: StaticString) -> JSONError {
        if pos >= count { return syntaxError() }
        let found: String
        switch base[pos] {
        case UInt8(ascii: "\""): found = "a string"
        case UInt8(ascii: "{"): found = "an object"
        case UInt8(ascii: "["): found = "an array"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): found = "a boolean"
        case UInt8(ascii: "-"), 48...57: found = "a number"
        default: return syntaxError()
        }
        return JSONError("expected \(expected), found \(found)", field: field)
    }

    /// A string value or nil for `null`.
    @inline(__always)
    package mutating func readString(field: StaticString) throws(JSONError) -> String? {
        if try consumeNull() { return nil }
        guard pos < count, base[pos] == UInt8(ascii: "\"") else { throw typeError("a string", field) }
        let span = try scanString(field: field)
        return makeString(span)
    }

    /// Passes over a string value (validating it) without building it. Returns false for `null`.
    @inline(__always)
    package mutating func skipString(field: StaticString) throws(JSONError) -> Bool {
        if try consumeNull() { return false }
        guard pos < count, base[pos] == UInt8(ascii: "\"") else { throw typeError("a string", field) }
        _ = try scanString(field: field)
        return true
    }

    /// An RFC 3339 time value or nil for `null`.
    @inline(__always)
    mutating func readTimestamp(field: StaticString) throws(JSONError) -> Timestamp? {
        if try consumeNull() { return nil }
        guard pos < count, base[pos] == UInt8(ascii: "\"") else { throw typeError("an RFC 3339 time string", field) }
        let span = try scanString(field: field)
        let t = withStringBytes(span) { Timestamp.parse($0) }
        guard let t else { throw JSONError("not an RFC 3339 time", field: field) }
        return t
    }

    /// An integer value or nil for `null`. Accepts integral numbers written with a fraction or exponent
    /// (`12.0`, `1e3`); rejects `1.5`.
    @inline(__always)
    package mutating func readInt(field: StaticString, nonNegative: Bool) throws(JSONError) -> Int? {
        if try consumeNull() { return nil }
        guard pos < count, base[pos] == UInt8(ascii: "-") || base[pos] &- 48 < 10 else {
            throw typeError(nonNegative ? "a non-negative integer" : "an integer", field)
        }
        let n = try scanNumber()
        let value: Int
        if n.isIntegerLiteral && !n.truncated && n.exponent == 0 {
            if n.negative {
                guard n.mantissa <= UInt64(Int.max) + 1 else { throw JSONError("integer out of range", field: field) }
                value = n.mantissa == UInt64(Int.max) + 1 ? Int.min : -Int(n.mantissa)
            } else {
                guard n.mantissa <= UInt64(Int.max) else { throw JSONError("integer out of range", field: field) }
                value = Int(n.mantissa)
            }
        } else {
            guard let d = doubleValue(n) else { throw JSONError("integer out of range", field: field) }
            guard d == d.rounded(.towardZero) else { throw JSONError("expected an integer, found a fraction", field: field) }
            guard d >= -9.223372036854775e18 && d <= 9.223372036854775e18 else {
                throw JSONError("integer out of range", field: field)
            }
            value = Int(d)
        }
        if nonNegative && value < 0 { throw JSONError("must not be negative", field: field) }
        return value
    }

    /// A number value or nil for `null`.
    @inline(__always)
    package mutating func readDouble(field: StaticString) throws(JSONError) -> Double? {
        if try consumeNull() { return nil }
        guard pos < count, base[pos] == UInt8(ascii: "-") || base[pos] &- 48 < 10 else {
            throw typeError("a number", field)
        }
        let n = try scanNumber()
        guard let d = doubleValue(n) else { throw JSONError("number out of range", field: field) }
        return d
    }

    /// A boolean value or nil for `null`.
    @inline(__always)
    package mutating func readBool(field: StaticString) throws(JSONError) -> Bool? {
        guard pos < count else { throw syntaxError() }
        switch base[pos] {
        case UInt8(ascii: "t"):
            guard consumeLiteral("true") else { throw literalError("true") }
            return true
        case UInt8(ascii: "f"):
            guard consumeLiteral("false") else { throw literalError("false") }
            return false
        case UInt8(ascii: "n"):
            guard consumeLiteral("null") else { throw literalError("null") }
            return nil
        default:
            throw typeError("a boolean", field)
        }
    }

    // MARK: - Skipping

    /// Passes over any value (validating its syntax and the UTF-8 of its strings).
    package mutating func skipValue(depth: Int = 0) throws(JSONError) {
        guard pos < count else { throw syntaxError() }
        switch base[pos] {
        case UInt8(ascii: "\""):
            _ = try scanString(field: nil)
        case UInt8(ascii: "{"):
            guard depth < JSONScanner.maxDepth else { throw JSONError("not valid JSON: nested too deeply") }
            if try beginObject() {
                repeat {
                    _ = try readKey()
                    try skipValue(depth: depth + 1)
                } while try endMember()
            }
        case UInt8(ascii: "["):
            guard depth < JSONScanner.maxDepth else { throw JSONError("not valid JSON: nested too deeply") }
            pos += 1
            skipWhitespace()
            if pos < count, base[pos] == UInt8(ascii: "]") {
                pos += 1
                return
            }
            while true {
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard pos < count else { throw syntaxError() }
                if base[pos] == UInt8(ascii: ",") {
                    pos += 1
                    skipWhitespace()
                } else if base[pos] == UInt8(ascii: "]") {
                    pos += 1
                    return
                } else {
                    throw syntaxError(expected: "',' or ']'")
                }
            }
        case UInt8(ascii: "t"):
            guard consumeLiteral("true") else { throw literalError("true") }
        case UInt8(ascii: "f"):
            guard consumeLiteral("false") else { throw literalError("false") }
        case UInt8(ascii: "n"):
            guard consumeLiteral("null") else { throw literalError("null") }
        case UInt8(ascii: "-"), 48...57:
            _ = try scanNumber()
        default:
            throw syntaxError()
        }
    }

    // MARK: - Keys

    /// True when the key's raw bytes equal `name` (keys are compared byte-wise; escaped keys are
    /// unescaped first by the caller).
    @inline(__always)
    package static func equals(_ p: UnsafePointer<UInt8>, _ name: StaticString) -> Bool {
        memcmp(p, name.utf8Start, name.utf8CodeUnitCount) == 0
    }

    /// The rare case of a key written with escapes (`"\u0069d"`).
    func matchEscapedKey<K>(_ span: JSONStringSpan, _ match: (UnsafePointer<UInt8>, Int) -> K) -> K {
        withStringBytes(span) { bytes in
            guard let p = bytes.baseAddress else { return match(base, 0) }
            return match(p, bytes.count)
        }
    }
}
