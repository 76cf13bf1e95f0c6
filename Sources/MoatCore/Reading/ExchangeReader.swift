/// Streams the exchanges of a JSON Lines log (contract section 1), one at a time.
///
/// ```swift
/// let reader = try ExchangeReader(path: "exchanges.jsonl", skipInvalid: true)
/// while let e = try reader.next() { ... }
/// print(reader.invalidLines, reader.firstErrors)
/// ```
public final class ExchangeReader {
    public enum Fields: Sendable {
        /// Every field.
        case all
        /// Everything but `system_prompt`, `prompt` and `response`, which are validated but not built
        /// (they come back nil): for fast metadata-only passes.
        case withoutText
        /// Everything but `response`, which is validated but not built (it comes back nil): what detection
        /// reads (it never looks at answers' text), without the cost of building the largest field.
        case withoutResponse
    }

    /// How many errors `firstErrors` keeps.
    public static let maxReportedErrors = 10

    public let path: String
    public let skipInvalid: Bool
    public let fields: Fields
    /// Lines read so far, including blank and skipped ones (the number of the last line read).
    public private(set) var linesRead = 0
    /// Lines skipped because they were invalid (only with `skipInvalid`).
    public private(set) var invalidLines = 0
    /// The first skipped errors (up to `maxReportedErrors`), for reporting.
    public private(set) var firstErrors: [ContractError] = []
    /// Bytes read from the file so far, for progress bars.
    public var bytesRead: Int64 { lines.bytesRead }

    private let lines: LineReader

    /// Opens `path` (`-` for standard input). A file that cannot be opened throws a `ContractError`.
    public convenience init(path: String, skipInvalid: Bool = false, fields: Fields = .all) throws(ContractError) {
        try self.init(path: path, skipInvalid: skipInvalid, fields: fields, chunkSize: LineReader.defaultChunkSize)
    }

    init(path: String, skipInvalid: Bool, fields: Fields, chunkSize: Int) throws(ContractError) {
        self.path = path
        self.skipInvalid = skipInvalid
        self.fields = fields
        self.lines = try LineReader(path: path, chunkSize: chunkSize)
    }

    /// The next exchange, or nil at the end. Blank lines are skipped. An invalid line throws, or with
    /// `skipInvalid` is counted and skipped. I/O errors always throw.
    public func next() throws(ContractError) -> Exchange? {
        while let line = try lines.nextLine() {
            linesRead = lines.lineNumber
            if line.isBlankLine { continue }
            do {
                return try Exchange.decode(line: line, file: lines.displayName, lineNumber: lines.lineNumber,
                                           fields: fields)
            } catch {
                guard skipInvalid else { throw error }
                invalidLines += 1
                if firstErrors.count < ExchangeReader.maxReportedErrors { firstErrors.append(error) }
            }
        }
        return nil
    }
}
