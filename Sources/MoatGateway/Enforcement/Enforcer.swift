import Foundation
import Logging
import MoatCore
import MoatDetect
import MoatStore
import ServiceLifecycle

/// Live detection: feeds every served exchange to the detection engine, maps verdicts to actions through
/// the policy, and records every action with its reasons in the audit trail.
public actor Enforcer {
    private var engine: DetectionEngine
    private let policy: PolicyConfig
    private let table: ActionTable
    private let store: MoatStore
    private let logger: Logger
    private let metrics: GatewayMetrics?
    public private(set) var ingested = 0

    init(engine: DetectionEngine, policy: PolicyConfig, table: ActionTable, store: MoatStore, logger: Logger,
         metrics: GatewayMetrics?) {
        self.engine = engine
        self.policy = policy
        self.table = table
        self.store = store
        self.logger = logger
        self.metrics = metrics
    }

    public func ingest(_ exchange: Exchange) {
        ingested += 1
        apply(engine.ingest(exchange), org: exchange.orgID)
    }

    /// Gives the engine accounts imported while the gateway runs.
    public func register(accounts: [Account]) {
        let orgs = Dictionary(accounts.map { ($0.accountID, $0.orgID) }, uniquingKeysWith: { _, b in b })
        for change in engine.register(accounts: accounts) { apply([change], org: orgs[change.accountID] ?? nil) }
    }

    /// The engine's current report: campaigns with evidence, flagged accounts with reasons.
    public func report() -> Report { engine.report() }

    private func apply(_ changes: [VerdictChange], org: String?) {
        // Campaign confidence decides the review queue; described once per campaign per batch.
        var confidence: [String: Double] = [:]
        var released: Set<String> = []
        for change in changes {
            let action: GatewayAction
            switch change.verdict {
            case .campaign: action = policy.takedown || change.score >= 0.9 ? policy.campaign : .allow
            case .suspicious: action = policy.suspicious
            case .clear: action = .allow
            }
            var campaignConfidence: Double?
            if change.verdict == .campaign, let id = change.campaignID {
                if confidence[id] == nil { confidence[id] = engine.campaign(of: change.accountID)?.confidence ?? change.score }
                campaignConfidence = confidence[id]
            }
            let review = (campaignConfidence ?? 1) < policy.reviewBelowConfidence
            let reasons = engine.explain(accountID: change.accountID)
            table.set(change.accountID, ActionTable.Entry(
                action: action, verdict: change.verdict.rawValue, campaign: change.campaignID, score: change.score,
                since: Date(timeIntervalSince1970: change.at.seconds), reasons: reasons, pendingReview: review))
            if policy.reviewBelowConfidence > 0, let id = change.campaignID, let c = campaignConfidence,
               c >= policy.reviewBelowConfidence, released.insert(id).inserted {
                // The campaign is now confident enough: members queued while it was weaker are enforced too.
                for account in table.releaseQueued(campaign: id) {
                    audit(account, action: action.rawValue,
                          ["campaign \(id) reached confidence \(c) (review threshold \(policy.reviewBelowConfidence)): queued verdict enforced"])
                }
            }
            let allowlisted = table.isAllowlisted(account: change.accountID, org: org)
            let recorded = review ? "review" : allowlisted ? "allowlisted" : action.rawValue
            metrics?.action(recorded)
            logger.notice("verdict", metadata: ["account": "\(change.accountID)", "verdict": "\(change.verdict.rawValue)",
                                                "campaign": "\(change.campaignID ?? "-")", "action": "\(recorded)"])
            var why = ["verdict \(change.verdict.rawValue)" + (change.campaignID.map { " in \($0)" } ?? "")
                       + " at \(change.at.rfc3339), score \(change.score)"
                       + (campaignConfidence.map { ", campaign confidence \($0)" } ?? "")]
            why += reasons
            if allowlisted { why.append("not enforced: the account or its organisation is allowlisted") }
            if review { why.append("queued for review: campaign confidence below \(policy.reviewBelowConfidence)") }
            audit(change.accountID, action: recorded, why)
        }
    }

    private func audit(_ account: String, action: String, _ reasons: [String]) {
        do {
            try store.appendAudit(AuditEntry(at: Date(), actor: "detection", action: action, subject: "account:" + account,
                                             reasons: reasons))
        } catch {
            logger.error("cannot write the audit trail", metadata: ["account": "\(account)", "error": "\(error)"])
        }
    }
}

/// Runs live detection off the request path: handlers enqueue served exchanges, this service feeds them
/// to the `Enforcer` in order.
public struct EnforcementService: Service {
    let enforcer: Enforcer
    let stream: AsyncStream<Exchange>
    let input: AsyncStream<Exchange>.Continuation

    /// Processes exchanges until shutdown; on shutdown it finishes what was already queued, then returns.
    public func run() async throws {
        await withGracefulShutdownHandler {
            for await exchange in stream { await enforcer.ingest(exchange) }
        } onGracefulShutdown: {
            input.finish()
        }
    }
}
