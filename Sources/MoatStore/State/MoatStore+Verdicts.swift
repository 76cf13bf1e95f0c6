import Foundation
import GRDB

/// What the gateway enforces on one account because of a detection verdict: restored on start, before the
/// first request is served.
public struct StoredVerdict: Sendable, Equatable {
    public var account: String
    /// `allow`, `throttle`, `withhold_reasoning` or `block`.
    public var action: String
    /// `clear`, `suspicious` or `campaign`.
    public var verdict: String
    public var campaign: String?
    public var score: Double
    public var since: Date
    public var reasons: [String]
    public var pendingReview: Bool

    public init(account: String, action: String, verdict: String, campaign: String?, score: Double, since: Date,
                reasons: [String], pendingReview: Bool) {
        self.account = account
        self.action = action
        self.verdict = verdict
        self.campaign = campaign
        self.score = score
        self.since = since
        self.reasons = reasons
        self.pendingReview = pendingReview
    }
}

extension MoatStore {
    /// Writes verdicts (replacing each account's earlier one) and audit entries in one transaction.
    public func saveEnforcement(verdicts: [StoredVerdict], audit: [AuditEntry]) throws {
        guard !verdicts.isEmpty || !audit.isEmpty else { return }
        let encoder = JSONEncoder()
        let verdictReasons = try verdicts.map { String(decoding: try encoder.encode($0.reasons), as: UTF8.self) }
        let auditReasons = try audit.map { String(decoding: try encoder.encode($0.reasons), as: UTF8.self) }
        let now = Date().storeValue
        try pool.write { db in
            let upsert = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO verdicts (account_id, action, verdict, campaign, score, since, reasons, pending_review, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for (v, reasons) in zip(verdicts, verdictReasons) {
                try upsert.execute(arguments: [v.account, v.action, v.verdict, v.campaign, v.score, v.since.storeValue, reasons,
                                               v.pendingReview ? 1 : 0, now])
            }
            let insert = try db.cachedStatement(sql: "INSERT INTO audit (at, actor, action, subject, reasons) VALUES (?, ?, ?, ?, ?)")
            for (entry, reasons) in zip(audit, auditReasons) {
                try insert.execute(arguments: [entry.at.storeValue, entry.actor, entry.action, entry.subject, reasons])
            }
        }
    }

    /// Every stored verdict, by account.
    public func verdicts() throws -> [StoredVerdict] {
        let rows = try pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM verdicts ORDER BY account_id") }
        let decoder = JSONDecoder()
        return try rows.map { row in
            let reasons: String = row["reasons"]
            return StoredVerdict(account: row["account_id"], action: row["action"], verdict: row["verdict"], campaign: row["campaign"],
                                 score: row["score"], since: Date(storeValue: row["since"]),
                                 reasons: try decoder.decode([String].self, from: Data(reasons.utf8)),
                                 pendingReview: (row["pending_review"] as Int) != 0)
        }
    }

    /// Replaces the stored campaigns: `(id, JSON object)` each, as in the report.
    public func saveCampaigns(_ campaigns: [(id: String, json: String)]) throws {
        let now = Date().storeValue
        try pool.write { db in
            try db.execute(sql: "DELETE FROM campaigns")
            let insert = try db.cachedStatement(sql: "INSERT INTO campaigns (id, body, updated_at) VALUES (?, ?, ?)")
            for c in campaigns { try insert.execute(arguments: [c.id, c.json, now]) }
        }
    }

    /// The stored campaigns' JSON objects, by id.
    public func campaignBodies() throws -> [(id: String, json: String)] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, body FROM campaigns ORDER BY id").map { (id: $0[0], json: $0[1]) }
        }
    }

    // MARK: - Replaying the log

    /// The newest row of the exchange log (0 when empty): a bound for `forEachLoggedExchange`.
    public func lastExchangeRow() throws -> Int64 {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(rowid), 0) FROM exchanges") ?? 0 }
    }

    /// Up to `limit` of the log's exchanges (contract JSON lines) in the order they were logged, from the
    /// rows `after` < row <= `through` (and `ts_ms >= since` when given), with the last row read (to pass
    /// as `after` next time). One short read transaction: the ingester is never held up long.
    public func loggedExchanges(after: Int64, through: Int64, since: Int64? = nil, limit: Int = 4_096) throws -> (lines: [String], last: Int64) {
        guard after < through else { return ([], after) }
        return try pool.read { db in
            let sql = since == nil
                ? "SELECT rowid, line FROM exchanges WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?"
                : "SELECT rowid, line FROM exchanges WHERE rowid > ? AND rowid <= ? AND ts_ms >= ? ORDER BY rowid LIMIT ?"
            let arguments: StatementArguments = since.map { [after, through, $0, limit] } ?? [after, through, limit]
            var lines: [String] = []
            lines.reserveCapacity(limit)
            var last = after
            let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            while let row = try rows.next() {
                last = row[0]
                lines.append(row[1])
            }
            return (lines, last)
        }
    }
}

extension MoatStore {
    /// The event time of the newest exchange in the log (Unix milliseconds), nil when it is empty.
    public func newestExchangeMilliseconds() throws -> Int64? {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(ts_ms) FROM exchanges") }
    }
}
