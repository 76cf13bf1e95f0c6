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
    public func exportExchanges(since: Timestamp? = nil, _ body: (String) throws -> Void) throws {
        try pool.read { db in
            let lines: RowCursor
            if let since {
                lines = try Row.fetchCursor(db, sql: "SELECT line FROM exchanges WHERE ts_ms >= ? ORDER BY ts_ms, rowid",
                                            arguments: [since.milliseconds])
            } else {
                lines = try Row.fetchCursor(db, sql: "SELECT line FROM exchanges ORDER BY ts_ms, rowid")
            }
            while let row = try lines.next() {
                try body(row[0])
            }
        }
    }
}
