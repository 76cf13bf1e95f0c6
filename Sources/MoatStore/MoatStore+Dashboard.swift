import Foundation
import GRDB
import MoatCore

/// What the operator dashboard filters the audit trail by; nil or empty fields match everything.
public struct AuditFilter: Sendable, Equatable {
    /// Entries whose subject contains this text (`account:acct-1`, `key:`, a campaign id).
    public var subject: String?
    /// Entries whose subject is exactly this.
    public var exactSubject: String?
    /// Entries whose action starts with this (`review`, `key-revoked`, `override`).
    public var action: String?
    /// Entries by this actor, exactly.
    public var actor: String?
    /// Entries at or after this time.
    public var since: Date?
    public var limit: Int

    public init(subject: String? = nil, exactSubject: String? = nil, action: String? = nil, actor: String? = nil, since: Date? = nil,
                limit: Int = 200) {
        self.subject = subject
        self.exactSubject = exactSubject
        self.action = action
        self.actor = actor
        self.since = since
        self.limit = limit
    }
}

extension MoatStore {
    /// The latest `filter.limit` audit entries matching `filter`, newest first.
    public func audit(_ filter: AuditFilter) throws -> [AuditEntry] {
        var clauses: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        func like(_ text: String) -> String {
            text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        }
        if let s = filter.subject, !s.isEmpty {
            clauses.append("subject LIKE ? ESCAPE '\\'")
            arguments.append("%" + like(s) + "%")
        }
        if let s = filter.exactSubject {
            clauses.append("subject = ?")
            arguments.append(s)
        }
        if let a = filter.action, !a.isEmpty {
            clauses.append("action LIKE ? ESCAPE '\\'")
            arguments.append(like(a) + "%")
        }
        if let a = filter.actor, !a.isEmpty {
            clauses.append("actor = ?")
            arguments.append(a)
        }
        if let since = filter.since {
            clauses.append("at >= ?")
            arguments.append(since.storeValue)
        }
        arguments.append(max(0, min(filter.limit, 10_000)))
        let sql = "SELECT * FROM audit" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")) + " ORDER BY id DESC LIMIT ?"
        let rows = try pool.read { db in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)) }
        let decoder = JSONDecoder()
        return try rows.map { row in
            let reasons: String = row["reasons"]
            return AuditEntry(at: Date(storeValue: row["at"]), actor: row["actor"], action: row["action"],
                              subject: row["subject"], reasons: try decoder.decode([String].self, from: Data(reasons.utf8)))
        }
    }

    /// The latest `limit` exchanges of one account in the log, newest first, decoded without their texts
    /// (system prompt, prompt and response come back nil): metadata only.
    public func recentExchanges(account: String, limit: Int = 50) throws -> [Exchange] {
        let lines = try pool.read { db in
            try String.fetchAll(db, sql: "SELECT line FROM exchanges WHERE account_id = ? ORDER BY ts_ms DESC, rowid DESC LIMIT ?",
                                arguments: [account, max(0, min(limit, 1_000))])
        }
        return lines.enumerated().compactMap { i, line in
            var bytes = Array(line.utf8)
            return bytes.withUnsafeMutableBufferPointer { buffer in
                try? Exchange.decode(line: UnsafeBufferPointer(buffer), file: "store", lineNumber: i + 1, fields: .withoutText)
            }
        }
    }

    /// How many exchanges of one account the log holds.
    public func exchangeCount(account: String) throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM exchanges WHERE account_id = ?", arguments: [account]) ?? 0 }
    }
}
