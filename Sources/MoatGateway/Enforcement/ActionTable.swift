import Foundation
import MoatStore
import Synchronization

/// What the gateway currently does for each account, read on every request.
///
/// Detection writes it (through `Enforcer`), operators override it (admin API), handlers read it; a mutex
/// keeps the read on the hot path to a dictionary lookup.
public final class ActionTable: Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        public var action: GatewayAction
        public var verdict: String
        public var campaign: String?
        public var score: Double
        public var since: Date
        public var reasons: [String]
        /// Waiting for an operator: not enforced until approved.
        public var pendingReview: Bool

        public init(action: GatewayAction, verdict: String, campaign: String?, score: Double, since: Date,
                    reasons: [String], pendingReview: Bool) {
            self.action = action
            self.verdict = verdict
            self.campaign = campaign
            self.score = score
            self.since = since
            self.reasons = reasons
            self.pendingReview = pendingReview
        }
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Operators' overrides by scope, then subject id (no key building on lookups).
        var keyOverrides: [String: Override] = [:]
        var accountOverrides: [String: Override] = [:]
        var orgOverrides: [String: Override] = [:]
        /// Operators' choices per campaign ("fingerprint and keep serving"), each until it expires.
        var campaignChoices: [String: (action: GatewayAction, until: Double)] = [:]

        var isEmpty: Bool { entries.isEmpty && keyOverrides.isEmpty && accountOverrides.isEmpty && orgOverrides.isEmpty }

        mutating func set(_ o: Override) {
            switch o.scope {
            case "key": keyOverrides[o.subject] = o
            case "org": orgOverrides[o.subject] = o
            default: accountOverrides[o.subject] = o
            }
        }

        mutating func remove(scope: String, subject: String) {
            switch scope {
            case "key": keyOverrides[subject] = nil
            case "org": orgOverrides[subject] = nil
            default: accountOverrides[subject] = nil
            }
        }
    }

    private let state = Mutex(State())

    public init(overrides: [Override] = [], campaignChoices: [CampaignChoice] = []) {
        state.withLock { s in
            for o in overrides { s.set(o) }
            for c in campaignChoices {
                if let a = GatewayAction(name: c.action) { s.campaignChoices[c.campaign] = (a, c.until.timeIntervalSince1970) }
            }
        }
    }

    /// The action for a request, operators' overrides first: an allowlisted account, org or key is never acted on.
    public func action(account: String, org: String?, key: String) -> GatewayAction {
        state.withLock { s in
            if s.isEmpty { return .allow }
            var forced: GatewayAction?
            var allowed = false
            func consider(_ o: Override?) {
                guard let o else { return }
                if o.action == GatewayAction.allow.rawValue { allowed = true }
                if let a = GatewayAction(rawValue: o.action), a.severity > (forced?.severity ?? -1) { forced = a }
            }
            if !s.keyOverrides.isEmpty { consider(s.keyOverrides[key]) }
            if !s.accountOverrides.isEmpty { consider(s.accountOverrides[account]) }
            if let org, !s.orgOverrides.isEmpty { consider(s.orgOverrides[org]) }
            if allowed { return .allow }
            guard let entry = s.entries[account] else { return forced ?? .allow }
            var base = entry.pendingReview ? nil : entry.action
            // A campaign the operator chose to fingerprint and keep serving (until the choice expires).
            if !s.campaignChoices.isEmpty, let c = entry.campaign, let choice = s.campaignChoices[c],
               Date().timeIntervalSince1970 < choice.until {
                base = choice.action
            }
            guard let base else { return forced ?? .allow }
            guard let forced else { return base }
            return forced.severity > base.severity ? forced : base
        }
    }

    public func isAllowlisted(account: String, org: String?) -> Bool {
        state.withLock { s in
            s.accountOverrides[account]?.action == GatewayAction.allow.rawValue
                || org.map { s.orgOverrides[$0]?.action == GatewayAction.allow.rawValue } ?? false
        }
    }

    public func set(_ account: String, _ entry: Entry) { state.withLock { $0.entries[account] = entry } }
    public func entry(_ account: String) -> Entry? { state.withLock { $0.entries[account] } }
    public func entries() -> [String: Entry] { state.withLock { $0.entries } }

    public func setOverride(_ o: Override) { state.withLock { $0.set(o) } }

    /// Replaces every override and campaign choice with `operators` (what replicas sharing a store follow:
    /// an operator's decision made on another replica).
    public func replaceOperatorState(_ operators: OperatorState) {
        state.withLock { s in
            s.keyOverrides = [:]
            s.accountOverrides = [:]
            s.orgOverrides = [:]
            s.campaignChoices = [:]
            for o in operators.overrides { s.set(o) }
            for c in operators.campaignChoices {
                if let a = GatewayAction(name: c.action) { s.campaignChoices[c.campaign] = (a, c.until.timeIntervalSince1970) }
            }
        }
    }

    public func setCampaignChoice(_ c: CampaignChoice) {
        guard let a = GatewayAction(name: c.action) else { return }
        state.withLock { $0.campaignChoices[c.campaign] = (a, c.until.timeIntervalSince1970) }
    }

    public func removeCampaignChoice(_ campaign: String) { state.withLock { $0.campaignChoices[campaign] = nil } }
    public func removeOverride(scope: String, subject: String) {
        state.withLock { $0.remove(scope: scope, subject: subject) }
    }

    /// Enforces the verdicts of a campaign's members that detection queued for review; returns their accounts.
    /// Verdicts an operator already decided are not waiting, so they are left alone.
    public func releaseQueued(campaign: String) -> [String] {
        state.withLock { s in
            let queued = s.entries.filter { $0.value.pendingReview && $0.value.campaign == campaign }.map(\.key)
            for account in queued { s.entries[account]?.pendingReview = false }
            return queued.sorted()
        }
    }

    /// Approves or dismisses a verdict waiting for review; returns the entry, nil if none waited.
    public func review(_ account: String, approve: Bool) -> Entry? {
        state.withLock { s in
            guard var e = s.entries[account], e.pendingReview else { return nil }
            e.pendingReview = false
            if !approve { e.action = .allow }
            s.entries[account] = e
            return e
        }
    }
}
