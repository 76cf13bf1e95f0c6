import Foundation
import MoatCore

/// The store that several gateway replicas share (PostgreSQL, `store: postgres://…`): what a replica reads
/// and writes there instead of its embedded SQLite store. Every call is asynchronous (a network round trip),
/// never made on an event loop's thread, and never made per request but for a key's first lookup.
///
/// `moat keys`, `moat accounts import` and the gateway's admin API use the same calls on either store
/// (`MoatStore` conforms too, blocking on SQLite, which is fine off the event loops).
public protocol DirectoryStore: Sendable {
    /// `postgres` or `sqlite`, for health and logs.
    var kind: String { get }
    func createKey(account: String, org: String?, name: String?) async throws -> CreatedKey
    func revokeKey(id: String) async throws -> Bool
    func keys(account: String?) async throws -> [APIKeyRecord]
    func key(sha256Hex digest: String) async throws -> APIKeyRecord?
    func revokedKeyDigests(since: Date) async throws -> [String]
    func importAccounts(_ accounts: [Account]) async throws -> Int
    func accounts(writtenAfter after: Int64) async throws -> (accounts: [Account], mark: Int64)
    /// Answers when the store is reachable; with the schema migrations it has applied.
    func ping() async throws -> [String]
}

/// One limited budget of a shared limiter: a subject's bucket in one dimension.
public struct LeaseAsk: Sendable, Equatable {
    /// `key`, `account` or `org`.
    public var scope: String
    public var subject: String
    /// 0 requests, 1 input tokens, 2 output tokens (per minute, refilled continuously), 3 tokens per UTC day.
    public var dimension: Int
    /// The bucket's size: its limit per minute, or per day.
    public var capacity: Double
    /// What the request needs now.
    public var want: Double

    public init(scope: String, subject: String, dimension: Int, capacity: Double, want: Double) {
        self.scope = scope
        self.subject = subject
        self.dimension = dimension
        self.capacity = capacity
        self.want = want
    }
}

/// What the shared store granted of one ask: `granted` (at most `want` plus a prefetch when the budget is
/// far from spent), and the level left in the shared bucket after the grant.
public struct LeaseGrant: Sendable, Equatable {
    public var granted: Double
    public var level: Double

    public init(granted: Double, level: Double) {
        self.granted = granted
        self.level = level
    }
}

/// Usage returned to (positive) or charged on top of (negative) a shared bucket.
public struct LeaseReturn: Sendable, Equatable {
    public var scope: String
    public var subject: String
    public var dimension: Int
    public var capacity: Double
    public var amount: Double

    public init(scope: String, subject: String, dimension: Int, capacity: Double, amount: Double) {
        self.scope = scope
        self.subject = subject
        self.dimension = dimension
        self.capacity = capacity
        self.amount = amount
    }
}

/// The shared buckets that replicas lease slices of (reserve, then settle). Each call is one transaction.
public protocol LimitLeaseStore: Sendable {
    /// Takes what it can of every ask at once; `now` in Unix seconds.
    func lease(_ asks: [LeaseAsk], now: Double) async throws -> [LeaseGrant]
    /// Gives back unused leases, or charges usage beyond them.
    func giveBack(_ returns: [LeaseReturn], now: Double) async throws
}

/// Detection across replicas: every replica ships its exchange log to the shared store (the combined log),
/// one replica at a time (the leader) runs the engine on the combined log and publishes verdict changes,
/// and every replica applies the published verdicts.
public protocol SharedDetectionStore: Sendable {
    /// The last row of `replica`'s own log already shipped (0: none).
    func shippedRow(replica: String) async throws -> Int64
    /// Appends rows of `replica`'s log (event time and line each) and moves its shipped row to `row`, in one
    /// transaction.
    func ship(replica: String, rows: [LoggedRow], through row: Int64) async throws
    /// Lines of the combined log after position `after`, in order, with the position of the last.
    func combinedLog(after: Int64, limit: Int) async throws -> (lines: [String], last: Int64)
    /// How many exchanges the combined log holds, every replica's together.
    func combinedLogSize() async throws -> Int64
    /// Publishes verdict changes (the leader, and a replica where an operator decided a review).
    func publish(_ verdicts: [StoredVerdict]) async throws
    /// Hands each exchange of the combined log to `body` as its contract JSON line, in event-time order (ties
    /// in the order shipped), from `since` on (inclusive) when given: what `moat export` writes.
    func exportCombinedLog(since: Timestamp?, _ body: (String) throws -> Void) async throws
    /// Verdicts published after `mark`, with the mark to pass next time. Start from 0.
    func verdicts(after mark: Int64) async throws -> (verdicts: [StoredVerdict], mark: Int64)
    /// A claim on detection leadership, on a connection of its own.
    func leadership() -> any DetectionLeadership
}

/// Detection leadership: held by at most one replica; released when its holder dies (its connection ends).
public protocol DetectionLeadership: Sendable {
    /// Takes leadership if free; true while this claim holds it (false once its connection is lost).
    func tryLead() async -> Bool
    func release() async
}
