import Foundation
import GRDB
import MoatCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Moat's embedded store: API keys, accounts, the exchange log, the audit trail and operator
/// overrides, in one SQLite file (no server to set up).
///
/// The file is opened as a GRDB `DatabasePool` in WAL mode: one writer and concurrent readers, so
/// lookups (keys, overrides) never wait behind log appends. `synchronous = NORMAL`: a transaction is
/// in the WAL (the operating system's page cache) when its method returns, so it survives the process
/// being killed; the WAL is synced at checkpoints. Served exchanges reach the store through its journal
/// (`ExchangeJournal`, durable when written) and are ingested in batches off the request path
/// (`JournalIngester`), which syncs the store's files (`syncFiles`) before it lets a journal segment
/// go: a power loss never loses both copies. WAL checkpoints run on a background connection, off the
/// append path but for a short pause every 64 MiB of log that keeps the WAL bounded; see `Checkpointer`.
///
/// Every method is synchronous (it blocks while SQLite works) and thread-safe; call it from any
/// thread or task. Dates round-trip
/// exactly: they are stored as seconds since Foundation's reference date (2001-01-01T00:00:00Z).
public final class MoatStore: Sendable {
    /// The SQLite file.
    public let path: String
    let pool: DatabasePool
    let checkpointer: Checkpointer

    /// Opens the store at `path`, creating the file and bringing its schema up to date.
    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.label = "moat.store"
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Exchange lines are often 1-3 KB: 8 KiB pages waste less than 4 KiB ones. Only takes
            // effect when the file is created (before WAL mode is set); a no-op afterwards.
            try db.execute(sql: "PRAGMA page_size = 8192")
            // Checkpoints run in the background (`Checkpointer`), never inside a commit.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0")
            try db.execute(sql: "PRAGMA journal_size_limit = \(64 << 20)")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Self.migrate(pool, path: path)
            checkpointer = try Checkpointer(path: path, writer: pool)
        } catch let error as DatabaseError {
            throw MoatStoreError("cannot open the store \(path): \(error.message ?? error.description)")
        }
    }

    /// Brings the schema up to date under an exclusive lock on `PATH-migrate.lock` (two gateways starting
    /// together on one store migrate one after the other), after refusing a store that a newer Moat
    /// migrated: its schema has migrations this version does not know.
    static func migrate(_ pool: DatabasePool, path: String) throws {
        let migrator = Schema.migrator
        let lockPath = path + "-migrate.lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MoatStoreError("cannot open \(lockPath) to migrate the store: \(String(cString: strerror(errno)))") }
        defer { sysClose(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw MoatStoreError("cannot lock \(lockPath) to migrate the store") }
        defer { flock(fd, LOCK_UN) }
        let unknown = try pool.read { db in try migrator.appliedIdentifiers(db).subtracting(migrator.migrations) }
        guard unknown.isEmpty else {
            throw MoatStoreError("the store \(path) has a newer schema than this moat knows (migrations \(unknown.sorted().joined(separator: ", "))): "
                                 + "upgrade moat, or use a store this version wrote")
        }
        try migrator.migrate(pool)
    }

    /// The schema migrations applied to the store, in order.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Schema.migrator.appliedMigrations(db) }
    }

    /// The migrations this version of Moat knows, in order.
    public static var knownMigrations: [String] { Schema.migrator.migrations }

    /// Checks that the store answers (a trivial read): the health check's store connectivity.
    public func ping() throws {
        _ = try pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    /// Flushes the store's file and its WAL to disk: every transaction committed before the call is then
    /// durable against a power loss.
    public func syncFiles() {
        for file in [path, path + "-wal"] {
            let fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            _ = fdatasync(fd)
            sysClose(fd)
        }
    }

    /// A store in a fresh file of a new temporary directory, for tests.
    public static func temporary() throws -> MoatStore {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("moat-store-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return try MoatStore(path: dir.appendingPathComponent("moat.sqlite").path)
    }
}

/// A store error with a one-line message for the operator.
public struct MoatStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Date {
    /// The stored form of a date: seconds since the reference date, an exact round trip.
    var storeValue: Double { timeIntervalSinceReferenceDate }
    init(storeValue: Double) { self.init(timeIntervalSinceReferenceDate: storeValue) }
}
