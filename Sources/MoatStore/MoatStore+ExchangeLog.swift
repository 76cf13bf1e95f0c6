import Foundation
import GRDB
import MoatCore

extension MoatStore {
    /// Appends exchanges to the log in one transaction; they are durable when this returns (see the
    /// type's documentation). An id already in the log is skipped, not an error, so a retried batch
    /// does not fail or duplicate.
    public func appendExchanges(_ exchanges: [Exchange]) throws {
        guard !exchanges.isEmpty else { return }
        // Serialise outside the write lock: the writer is held only for the inserts.
        let lines = exchanges.map(\.jsonLine)
        try pool.write { db in
            let statement = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO exchanges (id, ts_ms, account_id, line) VALUES (?, ?, ?, ?)")
            for (e, line) in zip(exchanges, lines) {
                statement.setUncheckedArguments([e.id, e.ts.milliseconds, e.accountID, line])
                try statement.execute()
            }
        }
        // Row, key and index overhead included, roughly.
        checkpointer.wrote(bytes: lines.reduce(exchanges.count * 128) { $0 + $1.utf8.count })
    }

    /// How many exchanges the log holds.
    public func exchangeCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM exchanges") ?? 0 }
    }

    /// Hands each stored exchange to `body` as its contract JSON line (no newline), in `ts` order
    /// (ties in append order), from `since` on (inclusive) when given. Reads one consistent snapshot;
    /// appends made meanwhile are not seen.
    ///
    /// Exchanges still in the journal count as stored: with no gateway running (after a crash, say) they
    /// are ingested into the log first; while a gateway runs, the journal's tail that its ingester has not
    /// reached yet is merged in.
    public func exportExchanges(since: Timestamp? = nil, _ body: (String) throws -> Void) throws {
        let directory = journalDirectory
        guard FileManager.default.fileExists(atPath: directory) else {
            return try pool.read { db in try Self.export(db, since: since, tail: [], body) }
        }
        if try withIdleJournal({ try ingestJournal() }) {
            return try pool.read { db in try Self.export(db, since: since, tail: [], body) }
        }
        for _ in 0..<50 {
            let done = try pool.read { db -> Bool in
                guard let tail = try Self.journalTail(db, directory: directory, since: since) else { return false }
                try Self.export(db, since: since, tail: tail, body)
                return true
            }
            if done { return }
        }
        throw MoatStoreError("export: the gateway's journal kept moving under the reader; try again")
    }

    /// The log's rows merged with `tail` (sorted by time), in time order; on equal times the log first.
    static func export(_ db: Database, since: Timestamp?, tail: [(Int64, String)], _ body: (String) throws -> Void) throws {
        let rows: RowCursor
        if let since {
            rows = try Row.fetchCursor(db, sql: "SELECT ts_ms, line FROM exchanges WHERE ts_ms >= ? ORDER BY ts_ms, rowid",
                                       arguments: [since.milliseconds])
        } else {
            rows = try Row.fetchCursor(db, sql: "SELECT ts_ms, line FROM exchanges ORDER BY ts_ms, rowid")
        }
        var t = 0
        while let row = try rows.next() {
            let ts: Int64 = row[0]
            while t < tail.count, tail[t].0 < ts {
                try body(tail[t].1)
                t += 1
            }
            try body(row[1])
        }
        while t < tail.count {
            try body(tail[t].1)
            t += 1
        }
    }
}

extension MoatStore {
    /// Up to `limit` rows of the log after row `after`, in the order they were logged: each exchange's event
    /// time (Unix milliseconds, as `export` orders by) and contract JSON line, with the last row read.
    /// What a replica ships to the combined log of a shared store.
    public func loggedRows(after: Int64, limit: Int) throws -> (rows: [LoggedRow], last: Int64) {
        try pool.read { db in
            var rows: [LoggedRow] = []
            rows.reserveCapacity(min(limit, 4_096))
            var last = after
            let cursor = try Row.fetchCursor(db, sql: "SELECT rowid, ts_ms, line FROM exchanges WHERE rowid > ? ORDER BY rowid LIMIT ?",
                                             arguments: [after, limit])
            while let row = try cursor.next() {
                last = row[0]
                rows.append(LoggedRow(tsMilliseconds: row[1], line: row[2]))
            }
            return (rows, last)
        }
    }
}

/// One exchange of the log: its event time (Unix milliseconds) and its contract JSON line.
public struct LoggedRow: Sendable, Equatable {
    public var tsMilliseconds: Int64
    public var line: String

    public init(tsMilliseconds: Int64, line: String) {
        self.tsMilliseconds = tsMilliseconds
        self.line = line
    }
}
