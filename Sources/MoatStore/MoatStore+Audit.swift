import Foundation
import GRDB

/// One enforcement action or operator decision, with its reasons.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var at: Date
    /// Who acted: `gateway`, `policy`, or an operator's name.
    public var actor: String
    /// What was done: `block`, `throttle`, `override`, `revoke_key`, ...
    public var action: String
    /// What it was done to: an account, org or key id.
    public var subject: String
    public var reasons: [String]

    public init(at: Date, actor: String, action: String, subject: String, reasons: [String] = []) {
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
        self.reasons = reasons
    }
}

extension MoatStore {
    /// Appends an entry to the audit trail (append-only).
    public func appendAudit(_ entry: AuditEntry) throws {
        try appendAudit([entry])
    }

    /// Appends entries to the audit trail in one transaction.
    public func appendAudit(_ entries: [AuditEntry]) throws {
        guard !entries.isEmpty else { return }
        let encoder = JSONEncoder()
        let reasons = try entries.map { String(decoding: try encoder.encode($0.reasons), as: UTF8.self) }
        try pool.write { db in
            let statement = try db.cachedStatement(sql: "INSERT INTO audit (at, actor, action, subject, reasons) VALUES (?, ?, ?, ?, ?)")
            for (entry, reasons) in zip(entries, reasons) {
                try statement.execute(arguments: [entry.at.storeValue, entry.actor, entry.action, entry.subject, reasons])
            }
        }
    }

    /// The latest `limit` entries, newest first, of every subject or of one.
    public func audit(limit: Int = 100, subject: String? = nil) throws -> [AuditEntry] {
        let rows: [Row] = try pool.read { db in
            if let subject {
                return try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE subject = ? ORDER BY id DESC LIMIT ?",
                                        arguments: [subject, max(limit, 0)])
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id DESC LIMIT ?", arguments: [max(limit, 0)])
        }
        let decoder = JSONDecoder()
        return try rows.map { row in
            let reasons: String = row["reasons"]
            return AuditEntry(at: Date(storeValue: row["at"]), actor: row["actor"], action: row["action"],
                              subject: row["subject"], reasons: try decoder.decode([String].self, from: Data(reasons.utf8)))
        }
    }
}
