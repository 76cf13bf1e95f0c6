/// A problem with intelligence input or configuration, with a one-line message for the operator.
public struct IntelError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
