import Foundation
import GRDB

/// An operator's last word on an account, org or key: never act on it (`allow`), or force an action.
public struct Override: Sendable, Equatable, Codable {
    public static let scopes: Set<String> = ["account", "org", "key"]
    public static let actions: Set<String> = ["allow", "fingerprint", "throttle", "withhold_reasoning", "withhold_reasoning+fingerprint", "block"]

    /// `account`, `org` or `key`.
    public var scope: String
    /// The account id, org id or key id.
    public var subject: String
    /// `allow`, `fingerprint`, `throttle`, `withhold_reasoning`, `withhold_reasoning+fingerprint` or `block`.
    public var action: String
    public var reason: String
    public var actor: String
    public var at: Date

    public init(scope: String, subject: String, action: String, reason: String = "", actor: String = "operator",
                at: Date = Date()) {
        self.scope = scope
        self.subject = subject
        self.action = action
        self.reason = reason
        self.actor = actor
        self.at = at
    }
}

extension Override {
    /// Throws `MoatStoreError` for a scope or action outside `Override.scopes` / `Override.actions` (any store).
    public func validate() throws {
        guard Override.scopes.contains(scope) else {
            throw MoatStoreError("override scope `\(scope)` is not one of account, org, key")
        }
        guard Override.actions.contains(action) else {
            throw MoatStoreError("override action `\(action)` is not one of \(Override.actions.sorted().joined(separator: ", "))")
        }
    }
}

extension MoatStore {
    /// Sets the override of (scope, subject), replacing any earlier one. Throws `MoatStoreError` for
    /// a scope or action outside `Override.scopes` / `Override.actions`.
    public func setOverride(_ o: Override) throws {
        try o.validate()
        try pool.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO overrides (scope, subject, action, reason, actor, at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [o.scope, o.subject, o.action, o.reason, o.actor, o.at.storeValue])
        }
    }

    /// Removes the override of (scope, subject). Returns false if there was none.
    public func removeOverride(scope: String, subject: String) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM overrides WHERE scope = ? AND subject = ?", arguments: [scope, subject])
            return db.changesCount > 0
        }
    }

    /// Every override, by scope then subject.
    public func overrides() throws -> [Override] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM overrides ORDER BY scope, subject").map { row in
                Override(scope: row["scope"], subject: row["subject"], action: row["action"], reason: row["reason"],
                         actor: row["actor"], at: Date(storeValue: row["at"]))
            }
        }
    }
}
