import Foundation
import MoatStore

/// The embedded store's overrides, campaign choices, audit trail and campaigns for the gateway: each call on
/// NIO's thread pool, so that SQLite never blocks an event loop.
struct OffLoopOperators: OperatorStore {
    let store: MoatStore

    func setOverride(_ o: Override) async throws { try await offLoop { [store] in try store.setOverride(o) } }

    func removeOverride(scope: String, subject: String) async throws -> Bool {
        try await offLoop { [store] in try store.removeOverride(scope: scope, subject: subject) }
    }

    func overrides() async throws -> [Override] { try await offLoop { [store] in try store.overrides() } }

    func setCampaignChoice(_ c: CampaignChoice) async throws { try await offLoop { [store] in try store.setCampaignChoice(c) } }

    func removeCampaignChoice(campaign: String) async throws -> Bool {
        try await offLoop { [store] in try store.removeCampaignChoice(campaign: campaign) }
    }

    func campaignChoices() async throws -> [CampaignChoice] { try await offLoop { [store] in try store.campaignChoices() } }

    func appendAudit(_ entries: [AuditEntry]) async throws { try await offLoop { [store] in try store.appendAudit(entries) } }

    func audit(_ filter: AuditFilter) async throws -> [AuditEntry] { try await offLoop { [store] in try store.audit(filter) } }

    func saveCampaigns(_ campaigns: [StoredCampaign]) async throws {
        try await offLoop { [store] in try store.saveCampaigns(campaigns.map { (id: $0.id, json: $0.json) }) }
    }

    func campaignBodies() async throws -> [StoredCampaign] {
        try await offLoop { [store] in try store.campaignBodies().map { StoredCampaign(id: $0.id, json: $0.json) } }
    }

    /// One gateway per embedded store: nothing to follow.
    func operatorState(after version: Int64) async throws -> OperatorState? { nil }
}
