import Foundation
import MoatCore

/// Operators' decisions and the record of every decision, on either store: overrides, campaign choices,
/// the audit trail, and the campaigns detection found (with their evidence). On a store replicas share
/// (PostgreSQL), an override made through one replica's admin API is enforced by all of them, and the audit
/// trail is one.
///
/// Every call is asynchronous and never made on an event loop's thread, nor per request.
public protocol OperatorStore: Sendable {
    /// Sets the override of (scope, subject), replacing any earlier one. Throws `MoatStoreError` for a scope
    /// or action outside `Override.scopes` / `Override.actions`.
    func setOverride(_ o: Override) async throws
    /// Removes the override of (scope, subject). Returns false if there was none.
    func removeOverride(scope: String, subject: String) async throws -> Bool
    /// Every override, by scope then subject.
    func overrides() async throws -> [Override]

    /// Sets a campaign's choice, replacing any earlier one.
    func setCampaignChoice(_ c: CampaignChoice) async throws
    /// Removes a campaign's choice. Returns false if there was none.
    func removeCampaignChoice(campaign: String) async throws -> Bool
    /// Every campaign choice, by campaign (expired ones too).
    func campaignChoices() async throws -> [CampaignChoice]

    /// Appends entries to the audit trail, in order, in one transaction (append-only).
    func appendAudit(_ entries: [AuditEntry]) async throws
    /// The latest `filter.limit` entries matching `filter`, newest first.
    func audit(_ filter: AuditFilter) async throws -> [AuditEntry]

    /// Replaces the stored campaigns: `(id, JSON object)` each, as in the report.
    func saveCampaigns(_ campaigns: [StoredCampaign]) async throws
    /// The stored campaigns' JSON objects, by id.
    func campaignBodies() async throws -> [StoredCampaign]

    /// The overrides and campaign choices when they changed since `version` (nil when they did not), so that
    /// replicas follow what an operator decided on another one. Start from 0.
    func operatorState(after version: Int64) async throws -> OperatorState?
}

/// A campaign as the store keeps it: its id and its JSON object as in the report.
public struct StoredCampaign: Sendable, Equatable {
    public var id: String
    public var json: String

    public init(id: String, json: String) {
        self.id = id
        self.json = json
    }
}

/// Every override and campaign choice as of `version`.
public struct OperatorState: Sendable, Equatable {
    public var version: Int64
    public var overrides: [Override]
    public var campaignChoices: [CampaignChoice]

    public init(version: Int64, overrides: [Override], campaignChoices: [CampaignChoice]) {
        self.version = version
        self.overrides = overrides
        self.campaignChoices = campaignChoices
    }
}

extension OperatorStore {
    /// Appends one entry to the audit trail.
    public func appendAudit(_ entry: AuditEntry) async throws { try await appendAudit([entry]) }

    /// The latest `limit` entries, newest first, of every subject or of one (exactly).
    public func audit(limit: Int, subject: String?) async throws -> [AuditEntry] {
        try await audit(AuditFilter(exactSubject: subject, limit: limit))
    }
}

/// The embedded store as an `OperatorStore`: the same calls, on SQLite (blocking, which is fine for commands;
/// the gateway runs them on NIO's thread pool). One gateway per SQLite store, so its state has no versions
/// to follow.
public struct EmbeddedOperators: OperatorStore {
    public let store: MoatStore

    public init(_ store: MoatStore) { self.store = store }

    public func setOverride(_ o: Override) async throws { try store.setOverride(o) }
    public func removeOverride(scope: String, subject: String) async throws -> Bool { try store.removeOverride(scope: scope, subject: subject) }
    public func overrides() async throws -> [Override] { try store.overrides() }
    public func setCampaignChoice(_ c: CampaignChoice) async throws { try store.setCampaignChoice(c) }
    public func removeCampaignChoice(campaign: String) async throws -> Bool { try store.removeCampaignChoice(campaign: campaign) }
    public func campaignChoices() async throws -> [CampaignChoice] { try store.campaignChoices() }
    public func appendAudit(_ entries: [AuditEntry]) async throws { try store.appendAudit(entries) }
    public func audit(_ filter: AuditFilter) async throws -> [AuditEntry] { try store.audit(filter) }
    public func saveCampaigns(_ campaigns: [StoredCampaign]) async throws { try store.saveCampaigns(campaigns.map { (id: $0.id, json: $0.json) }) }
    public func campaignBodies() async throws -> [StoredCampaign] { try store.campaignBodies().map { StoredCampaign(id: $0.id, json: $0.json) } }
    public func operatorState(after version: Int64) async throws -> OperatorState? { nil }
}
