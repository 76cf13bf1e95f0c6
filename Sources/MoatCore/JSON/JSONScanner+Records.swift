extension JSONScanner {
    /// Decodes one JSON Lines record with `body`; its errors come back as `file:line: field ...` errors.
    @inline(__always)
    static func decodeLine<T>(_ line: UnsafeBufferPointer<UInt8>, file: String, lineNumber: Int,
                              _ body: (inout JSONScanner) throws(JSONError) -> T) throws(ContractError) -> T {
        guard let base = line.baseAddress, line.count > 0 else {
            throw ContractError(file: file, line: lineNumber, message: "not valid JSON: empty line")
        }
        var s = JSONScanner(base: base, count: line.count)
        do {
            return try body(&s)
        } catch {
            throw error.contractError(file: file, line: lineNumber)
        }
    }

    /// Reads a record's top-level object to the end of the line, handing each member's key (as `match`
    /// names it) to `member`, which reads or skips the value.
    @inline(__always)
    mutating func readRecord<Key>(matching match: (UnsafePointer<UInt8>, Int) -> Key,
                                  _ member: (Key, inout JSONScanner) throws(JSONError) -> Void) throws(JSONError) {
        skipWhitespace()
        guard !atEnd else { throw JSONError("not valid JSON: empty line") }
        guard peek() == UInt8(ascii: "{") else { throw JSONError("not valid JSON: the line is not a JSON object") }
        if try beginObject() {
            repeat {
                let key = try readKey()
                try member(key.hasEscapes ? matchEscapedKey(key, match) : match(base + key.start, key.count), &self)
            } while try endMember()
        }
        try expectEnd()
    }
}
