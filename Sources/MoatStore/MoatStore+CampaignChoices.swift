import Foundation
import GRDB

/// An operator's choice for one detected campaign, until it expires: typically `fingerprint` ("fingerprint
/// and keep serving") instead of the policy's block, so the campaign keeps harvesting marked answers
/// rather than rotating to fresh accounts. After `until`, the policy's action applies again.
public struct CampaignChoice: Sendable, Equatable, Codable {
    public static let actions: Set<String> = ["fingerprint", "withhold_reasoning+fingerprint"]

    public var campaign: String
    /// `fingerprint` or `withhold_reasoning+fingerprint`.
    public var action: String
    public var until: Date
    public var reason: String
    public var actor: String
    public var at: Date

    public init(campaign: String, action: String, until: Date, reason: String = "", actor: String = "operator", at: Date = Date()) {
        self.campaign = campaign
        self.action = action
        self.until = until
        self.reason = reason
        self.actor = actor
        self.at = at
    }

    public func isActive(at now: Date) -> Bool { now < until }

    /// Throws `MoatStoreError` for an action outside `CampaignChoice.actions` (any store).
    public func validate() throws {
        guard CampaignChoice.actions.contains(action) else {
            throw MoatStoreError("campaign choice `\(action)` is not one of fingerprint, withhold_reasoning+fingerprint")
        }
    }
}

extension Schema {
    static func registerCampaignChoices(_ m: inout DatabaseMigrator) {
        m.registerMigration("campaign-choices-v1") { db in
            try db.execute(sql: """
                CREATE TABLE campaign_choices (
                    campaign TEXT PRIMARY KEY,
                    action TEXT NOT NULL,
                    until REAL NOT NULL,
                    reason TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    at REAL NOT NULL
                );
                """)
        }
    }
}

extension MoatStore {
    /// Sets a campaign's choice, replacing any earlier one. Throws `MoatStoreError` for an action outside
    /// `CampaignChoice.actions`.
    public func setCampaignChoice(_ c: CampaignChoice) throws {
        try c.validate()
        try pool.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO campaign_choices (campaign, action, until, reason, actor, at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [c.campaign, c.action, c.until.storeValue, c.reason, c.actor, c.at.storeValue])
        }
    }

    /// Removes a campaign's choice. Returns false if there was none.
    public func removeCampaignChoice(campaign: String) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM campaign_choices WHERE campaign = ?", arguments: [campaign])
            return db.changesCount > 0
        }
    }

    /// Every campaign choice (expired ones too: they stay as a record until replaced or removed).
    public func campaignChoices() throws -> [CampaignChoice] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM campaign_choices ORDER BY campaign").map { row in
                CampaignChoice(campaign: row["campaign"], action: row["action"], until: Date(storeValue: row["until"]),
                               reason: row["reason"], actor: row["actor"], at: Date(storeValue: row["at"]))
            }
        }
    }
}
