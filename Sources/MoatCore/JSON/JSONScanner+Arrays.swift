extension JSONScanner {
    /// Consumes `[` and following whitespace. Returns false when the array is empty (`]` consumed too).
    @inline(__always)
    package mutating func beginArray() throws(JSONError) -> Bool {
        guard pos < count, base[pos] == UInt8(ascii: "[") else { throw syntaxError(expected: "'['") }
        pos += 1
        skipWhitespace()
        if pos < count, base[pos] == UInt8(ascii: "]") {
            pos += 1
            return false
        }
        return true
    }

    /// After an array element: consumes `,` (returns true, more elements follow) or `]` (returns false).
    @inline(__always)
    package mutating func endElement() throws(JSONError) -> Bool {
        try endItem(closing: UInt8(ascii: "]"), expected: "',' or ']'")
    }

    /// True when the key (as read by `readKey`) is `name`; escaped keys are compared unescaped.
    @inline(__always)
    package func key(_ span: JSONStringSpan, is name: StaticString) -> Bool {
        let n = name.utf8CodeUnitCount
        if !span.hasEscapes {
            return span.count == n && JSONScanner.equals(base + span.start, name)
        }
        return withStringBytes(span) { bytes in
            bytes.count == n && (n == 0 || JSONScanner.equals(bytes.baseAddress!, name))
        }
    }

    /// True when the string value at `span` is `value` (compared unescaped).
    @inline(__always)
    package func string(_ span: JSONStringSpan, is value: StaticString) -> Bool { key(span, is: value) }

    /// The byte at the cursor is the start of a string, object, array, number, literal or nothing.
    @inline(__always)
    package var next: UInt8 { pos < count ? base[pos] : 0 }
}
