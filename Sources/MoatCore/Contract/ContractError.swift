/// A problem with input that names where it is: `exchanges.jsonl:1042: field \`ts\`: not an RFC 3339 time`.
public struct ContractError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var field: String?
    public var message: String

    public init(file: String, line: Int? = nil, field: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        if let field { s += ": field `\(field)`" }
        return s + ": " + message
    }
}
