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
        for change in changes {
            let action: GatewayAction
            switch change.verdict {
            case .campaign: action = policy.takedown || change.score >= 0.9 ? policy.campaign : .allow
            case .suspicious: action = policy.suspicious
            case .clear: action = .allow
            }
            let review = change.verdict == .campaign && change.score < policy.reviewBelowConfidence
            let reasons = engine.explain(accountID: change.accountID)
            table.set(change.accountID, ActionTable.Entry(
                action: action, verdict: change.verdict.rawValue, campaign: change.campaignID, score: change.score,
                since: Date(timeIntervalSince1970: change.at.seconds), reasons: reasons, pendingReview: review))
            let allowlisted = table.isAllowlisted(account: change.accountID, org: org)
            let recorded = review ? "review" : allowlisted ? "allowlisted" : action.rawValue
            metrics?.action(recorded)
            logger.notice("verdict", metadata: ["account": "\(change.accountID)", "verdict": "\(change.verdict.rawValue)",
                                                "campaign": "\(change.campaignID ?? "-")", "action": "\(recorded)"])
            var why = ["verdict \(change.verdict.rawValue)" + (change.campaignID.map { " in \($0)" } ?? "")
                       + " at \(change.at.rfc3339), score \(change.score)"]
            why += reasons
            if allowlisted { why.append("not enforced: the account or its organisation is allowlisted") }
            if review { why.append("queued for review: score below \(policy.reviewBelowConfidence)") }
            try? store.appendAudit(AuditEntry(at: Date(), actor: "detection", action: recorded,
                                              subject: "account:" + change.accountID, reasons: why))
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
