import MoatCore
import MoatStore

/// The store replicas share (PostgreSQL), as one gateway replica uses it: keys and accounts
/// (`DirectoryStore`), the limit buckets it leases slices of (`LimitLeaseStore`), and operators' overrides,
/// campaign choices, the audit trail and campaigns (`OperatorStore`). The accounts, verdicts, overrides and
/// campaign choices are read before the gateway starts (`Gateway.init` does no I/O on a shared store).
public struct ReplicaStore: Sendable {
    public var directory: any DirectoryStore
    public var limits: any LimitLeaseStore
    /// The accounts as they were at start, and the mark to read newer ones after.
    public var accounts: [Account]
    public var accountsMark: Int64
    /// The combined log, published verdicts and leadership (nil: each replica detects on its own traffic).
    public var detection: (any SharedDetectionStore)?
    /// The verdicts published when the replica started, and the mark to read newer ones after.
    public var verdicts: [StoredVerdict] = []
    public var verdictsMark: Int64 = 0
    /// Overrides, campaign choices, the audit trail and campaigns (nil: in the replica's own SQLite store).
    public var operators: (any OperatorStore)?
    /// The overrides and campaign choices when the replica started.
    public var operatorState: OperatorState?

    public init(directory: any DirectoryStore, limits: any LimitLeaseStore, accounts: [Account], accountsMark: Int64) {
        self.directory = directory
        self.limits = limits
        self.accounts = accounts
        self.accountsMark = accountsMark
    }

    /// Reads what a replica needs before it starts.
    public static func load(directory: any DirectoryStore, limits: any LimitLeaseStore,
                            detection: (any SharedDetectionStore)? = nil,
                            operators: (any OperatorStore)? = nil) async throws -> ReplicaStore {
        let (accounts, mark) = try await directory.accounts(writtenAfter: 0)
        var replica = ReplicaStore(directory: directory, limits: limits, accounts: accounts, accountsMark: mark)
        if let detection {
            replica.detection = detection
            (replica.verdicts, replica.verdictsMark) = try await detection.verdicts(after: 0)
        }
        if let operators {
            replica.operators = operators
            replica.operatorState = try await operators.operatorState(after: -1)
        }
        return replica
    }
}
