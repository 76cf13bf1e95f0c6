#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads chosen string fields of JSON Lines records that are not contract records (texts to test, probe
/// prompts), with the same byte-level scanner and `file:line: field` errors as the contract readers.
public struct JSONLineFields: Sendable {
    /// The field names, in the order their values are returned.
    public let names: [String]
    private let keys: [[UInt8]]

    public init(_ names: [String]) {
        self.names = names
        keys = names.map { Array($0.utf8) }
    }

    /// The values of the fields in one line (nil for a field that is absent or null). Other fields are
    /// skipped after validating their syntax; a named field that is not a string is an error.
    public func values(line: UnsafeBufferPointer<UInt8>, file: String, lineNumber: Int) throws(ContractError) -> [String?] {
        let keys = self.keys
        var current = -1
        do {
            return try JSONScanner.decodeLine(line, file: file, lineNumber: lineNumber) { (s) throws(JSONError) in
                var out = [String?](repeating: nil, count: keys.count)
                try s.readRecord(matching: { (p, n) -> Int in
                    for (i, k) in keys.enumerated() where k.count == n {
                        if k.withUnsafeBufferPointer({ memcmp(p, $0.baseAddress!, n) }) == 0 { return i }
                    }
                    return -1
                }) { (i, s) throws(JSONError) in
                    if i < 0 {
                        try s.skipValue()
                    } else {
                        current = i
                        out[i] = try s.readString(field: "value")
                        current = -1
                    }
                }
                return out
            }
        } catch {
            var e = error
            if e.field != nil && current >= 0 { e.field = names[current] }
            throw e
        }
    }
}
