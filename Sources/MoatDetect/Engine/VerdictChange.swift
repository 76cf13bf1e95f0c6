import MoatCore

/// A change of an account's verdict, produced by `DetectionEngine.ingest(_:)` at the exchange that caused it.
public struct VerdictChange: Sendable, Equatable {
    public enum Verdict: String, Sendable { case clear, suspicious, campaign }

    public var accountID: String
    public var verdict: Verdict
    public var campaignID: String?
    /// Event time of the exchange at which the verdict changed.
    public var at: Timestamp
    public var score: Double
}
