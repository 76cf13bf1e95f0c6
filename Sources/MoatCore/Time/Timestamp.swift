/// A moment in event time: milliseconds since the Unix epoch, UTC.
///
/// Moat never reads the wall clock for detection; every time comes from the data.
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }
    public init(seconds: Double) { self.milliseconds = Int64((seconds * 1000).rounded()) }

    public var seconds: Double { Double(milliseconds) / 1000 }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    public func adding(milliseconds delta: Int64) -> Timestamp { Timestamp(milliseconds: milliseconds + delta) }
    public func adding(seconds delta: Double) -> Timestamp { adding(milliseconds: Int64((delta * 1000).rounded())) }

    public static let second: Int64 = 1_000
    public static let minute: Int64 = 60_000
    public static let hour: Int64 = 3_600_000
    public static let day: Int64 = 86_400_000

    /// RFC 3339 in UTC with millisecond precision: `2026-04-22T08:15:02.114Z`.
    public var description: String { rfc3339 }
}
