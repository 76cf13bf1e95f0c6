import Foundation
import Logging
import MoatStore
import PostgresNIO

/// Overrides, campaign choices, the audit trail and campaigns in PostgreSQL, shared by every replica, with the
/// same meaning as in the embedded store. Each change of an override or a campaign choice moves
/// `operator_state.version` in its transaction, so that replicas see it and reload them.
extension PostgresStore: OperatorStore {
    public func setOverride(_ o: Override) async throws {
        try o.validate()
        try await changingOperatorState { c in
            try await c.query("""
                INSERT INTO overrides (scope, subject, action, reason, actor, at)
                VALUES (\(o.scope), \(o.subject), \(o.action), \(o.reason), \(o.actor), \(o.at.timeIntervalSince1970))
                ON CONFLICT (scope, subject) DO UPDATE SET
                    action = EXCLUDED.action, reason = EXCLUDED.reason, actor = EXCLUDED.actor, at = EXCLUDED.at
                """, logger: logger)
            return true
        }
    }

    public func removeOverride(scope: String, subject: String) async throws -> Bool {
        try await changingOperatorState { c in
            var n = 0
            for try await _ in try await c.query("DELETE FROM overrides WHERE scope = \(scope) AND subject = \(subject) RETURNING scope",
                                                 logger: logger).decode(String.self) { n += 1 }
            return n > 0
        }
    }

    public func overrides() async throws -> [Override] {
        do {
            return try await Self.overrides(on: client, logger: logger)
        } catch {
            throw wrap(error)
        }
    }

    public func setCampaignChoice(_ choice: CampaignChoice) async throws {
        try choice.validate()
        try await changingOperatorState { c in
            try await c.query("""
                INSERT INTO campaign_choices (campaign, action, until, reason, actor, at)
                VALUES (\(choice.campaign), \(choice.action), \(choice.until.timeIntervalSince1970), \(choice.reason), \(choice.actor),
                        \(choice.at.timeIntervalSince1970))
                ON CONFLICT (campaign) DO UPDATE SET
                    action = EXCLUDED.action, until = EXCLUDED.until, reason = EXCLUDED.reason, actor = EXCLUDED.actor, at = EXCLUDED.at
                """, logger: logger)
            return true
        }
    }

    public func removeCampaignChoice(campaign: String) async throws -> Bool {
        try await changingOperatorState { c in
            var n = 0
            for try await _ in try await c.query("DELETE FROM campaign_choices WHERE campaign = \(campaign) RETURNING campaign",
                                                 logger: logger).decode(String.self) { n += 1 }
            return n > 0
        }
    }

    public func campaignChoices() async throws -> [CampaignChoice] {
        do {
            return try await Self.campaignChoices(on: client, logger: logger)
        } catch {
            throw wrap(error)
        }
    }

    public func operatorState(after version: Int64) async throws -> OperatorState? {
        do {
            // The version first: what is read after it is at least as new, so a change made in between is read
            // again at the next call, never missed.
            var current: Int64 = 0
            for try await v in try await client.query("SELECT version FROM operator_state WHERE id = 1", logger: logger).decode(Int64.self) {
                current = v
            }
            guard current != version else { return nil }
            return OperatorState(version: current, overrides: try await Self.overrides(on: client, logger: logger),
                                 campaignChoices: try await Self.campaignChoices(on: client, logger: logger))
        } catch {
            throw wrap(error)
        }
    }

    public func appendAudit(_ entries: [AuditEntry]) async throws {
        guard !entries.isEmpty else { return }
        let encoder = JSONEncoder()
        let reasons = try entries.map { String(decoding: try encoder.encode($0.reasons), as: UTF8.self) }
        let at = entries.map(\.at.timeIntervalSince1970), actors = entries.map(\.actor), actions = entries.map(\.action)
        let subjects = entries.map(\.subject)
        // One statement, the entries in their order (ids follow it).
        try await execute("""
            INSERT INTO audit (at, actor, action, subject, reasons)
            SELECT a, b, c, d, e FROM unnest(\(at)::float8[], \(actors)::text[], \(actions)::text[], \(subjects)::text[], \(reasons)::text[])
                WITH ORDINALITY AS r(a, b, c, d, e, n) ORDER BY n
            """)
    }

    public func audit(_ filter: AuditFilter) async throws -> [AuditEntry] {
        func like(_ text: String) -> String {
            text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
        }
        // As the embedded store: a subject contains the text, an action starts with it (case-insensitively, as
        // SQLite's LIKE), an actor is it exactly.
        let subject = filter.subject.flatMap { $0.isEmpty ? nil : "%" + like($0) + "%" }
        let action = filter.action.flatMap { $0.isEmpty ? nil : like($0) + "%" }
        let actor = filter.actor.flatMap { $0.isEmpty ? nil : $0 }
        let since = filter.since?.timeIntervalSince1970
        let limit = max(0, min(filter.limit, 10_000))
        do {
            var rows: [(Double, String, String, String, String)] = []
            for try await row in try await client.query("""
                SELECT at, actor, action, subject, reasons FROM audit
                WHERE (\(subject)::text IS NULL OR subject ILIKE \(subject)) AND (\(filter.exactSubject)::text IS NULL OR subject = \(filter.exactSubject))
                  AND (\(action)::text IS NULL OR action ILIKE \(action)) AND (\(actor)::text IS NULL OR actor = \(actor))
                  AND (\(since)::float8 IS NULL OR at >= \(since))
                ORDER BY id DESC LIMIT \(limit)
                """, logger: logger).decode((Double, String, String, String, String).self) {
                rows.append(row)
            }
            let decoder = JSONDecoder()
            return try rows.map { at, actor, action, subject, reasons in
                AuditEntry(at: Date(timeIntervalSince1970: at), actor: actor, action: action, subject: subject,
                           reasons: try decoder.decode([String].self, from: Data(reasons.utf8)))
            }
        } catch {
            throw wrap(error)
        }
    }

    public func saveCampaigns(_ campaigns: [StoredCampaign]) async throws {
        let now = Date().timeIntervalSince1970
        let ids = campaigns.map(\.id), bodies = campaigns.map(\.json)
        do {
            try await client.withTransaction(logger: logger) { c in
                try await c.query("DELETE FROM campaigns", logger: logger)
                if !campaigns.isEmpty {
                    try await c.query("""
                        INSERT INTO campaigns (id, body, updated_at) SELECT i, b, \(now) FROM unnest(\(ids)::text[], \(bodies)::text[]) AS r(i, b)
                        """, logger: logger)
                }
            }
        } catch {
            throw wrap(error)
        }
    }

    public func campaignBodies() async throws -> [StoredCampaign] {
        do {
            var out: [StoredCampaign] = []
            for try await (id, body) in try await client.query("SELECT id, body FROM campaigns ORDER BY id", logger: logger)
                .decode((String, String).self) {
                out.append(StoredCampaign(id: id, json: body))
            }
            return out
        } catch {
            throw wrap(error)
        }
    }

    // MARK: - Helpers

    /// Runs `change` and moves the operators' state version, in one transaction.
    @discardableResult
    private func changingOperatorState(_ change: (PostgresConnection) async throws -> Bool) async throws -> Bool {
        do {
            return try await client.withTransaction(logger: logger) { c in
                let changed = try await change(c)
                if changed { try await c.query("UPDATE operator_state SET version = version + 1 WHERE id = 1", logger: logger) }
                return changed
            }
        } catch {
            throw wrap(error)
        }
    }

    private static func overrides(on client: PostgresClient, logger: Logger) async throws -> [Override] {
        var out: [Override] = []
        for try await (scope, subject, action, reason, actor, at) in try await client.query(
            "SELECT scope, subject, action, reason, actor, at FROM overrides ORDER BY scope, subject", logger: logger)
            .decode((String, String, String, String, String, Double).self) {
            out.append(Override(scope: scope, subject: subject, action: action, reason: reason, actor: actor,
                                at: Date(timeIntervalSince1970: at)))
        }
        return out
    }

    private static func campaignChoices(on client: PostgresClient, logger: Logger) async throws -> [CampaignChoice] {
        var out: [CampaignChoice] = []
        for try await (campaign, action, until, reason, actor, at) in try await client.query(
            "SELECT campaign, action, until, reason, actor, at FROM campaign_choices ORDER BY campaign", logger: logger)
            .decode((String, String, Double, String, String, Double).self) {
            out.append(CampaignChoice(campaign: campaign, action: action, until: Date(timeIntervalSince1970: until), reason: reason,
                                      actor: actor, at: Date(timeIntervalSince1970: at)))
        }
        return out
    }
}
