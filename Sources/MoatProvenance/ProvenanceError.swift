/// A problem with provenance input: a key, a file, a record. The message says what to fix.
public struct ProvenanceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
