/// A piece of HTML in which only the literal parts of the source are markup.
///
/// Every `String` interpolated into an `HTML` literal is escaped (`& < > " '`), so text from the log — an
/// account id, a user agent, a prompt template — can never become markup, in element content or in a
/// quoted attribute. Numbers are written as they are; nested `HTML` values are trusted markup.
///
/// ```swift
/// var page = HTMLBuffer()
/// page.add("<td data-v=\"\(row.exchanges)\">\(accountID)</td>")
/// ```
public struct HTML: ExpressibleByStringInterpolation, Sendable {
    public var bytes: [UInt8]

    public init(stringLiteral value: String) { bytes = Array(value.utf8) }

    public init(stringInterpolation: StringInterpolation) { bytes = stringInterpolation.bytes }

    /// Escaped text.
    public init(text: String) {
        bytes = []
        HTML.escape(text, into: &bytes)
    }

    public static let empty = HTML(stringLiteral: "")

    public struct StringInterpolation: StringInterpolationProtocol {
        var bytes: [UInt8] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            bytes.reserveCapacity(literalCapacity + 16 * interpolationCount)
        }

        public mutating func appendLiteral(_ literal: String) { bytes.append(contentsOf: literal.utf8) }

        /// Text: always escaped.
        public mutating func appendInterpolation(_ text: String) { HTML.escape(text, into: &bytes) }
        public mutating func appendInterpolation(_ text: Substring) { HTML.escape(String(text), into: &bytes) }

        public mutating func appendInterpolation(_ n: Int) { bytes.append(contentsOf: String(n).utf8) }
        public mutating func appendInterpolation(_ n: Int64) { bytes.append(contentsOf: String(n).utf8) }

        /// A coordinate or measure, with at most `decimals` decimals.
        public mutating func appendInterpolation(_ x: Double, decimals: Int = 1) {
            bytes.append(contentsOf: HTML.number(x, decimals: decimals).utf8)
        }

        /// Markup built elsewhere from literals and escaped text.
        public mutating func appendInterpolation(_ html: HTML) { bytes.append(contentsOf: html.bytes) }
    }

    /// `x` with at most `decimals` decimals and no trailing zeros: `12.5`, `3`, `-0.25`.
    public static func number(_ x: Double, decimals: Int) -> String {
        guard x.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<max(0, decimals) { scale *= 10 }
        let r = (x * scale).rounded()
        if r == 0 { return "0" }
        let negative = r < 0
        let m = Int64(abs(r))
        let whole = m / Int64(scale)
        var frac = m % Int64(scale)
        var digits = ""
        if decimals > 0, frac > 0 {
            var width = decimals
            while frac % 10 == 0 { frac /= 10; width -= 1 }
            let f = String(frac)
            digits = "." + String(repeating: "0", count: width - f.count) + f
        }
        return (negative ? "-" : "") + String(whole) + digits
    }

    public static func escape(_ s: String, into out: inout [UInt8]) {
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "&"): out.append(contentsOf: "&amp;".utf8)
            case UInt8(ascii: "<"): out.append(contentsOf: "&lt;".utf8)
            case UInt8(ascii: ">"): out.append(contentsOf: "&gt;".utf8)
            case UInt8(ascii: "\""): out.append(contentsOf: "&quot;".utf8)
            case UInt8(ascii: "'"): out.append(contentsOf: "&#39;".utf8)
            case 0: out.append(contentsOf: "&#xFFFD;".utf8)
            case 1..<9, 11, 12, 14..<32, 127: out.append(contentsOf: "&#xFFFD;".utf8)  // controls are not allowed in HTML
            default: out.append(c)
            }
        }
    }
}

/// The page being written.
public struct HTMLBuffer: Sendable {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    public mutating func add(_ html: HTML) { bytes.append(contentsOf: html.bytes) }

    /// Appends each piece.
    public mutating func add(_ parts: [HTML]) { for p in parts { bytes.append(contentsOf: p.bytes) } }
}
