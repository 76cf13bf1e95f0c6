import Foundation
import Logging
import MoatCore
import MoatDetect
import MoatIntel
import MoatStore
import NIOCore

/// Live detection: feeds every logged exchange to the detection engine, maps verdicts to actions through
/// the policy, and records every action with its reasons in the audit trail.
///
/// It runs on a thread of its own (an event loop used as the actor's executor), never on the request
/// path's loops: detection's work and the audit trail's SQLite writes do not delay a request.
public actor Enforcer {
    private var engine: DetectionEngine
    private let policy: PolicyConfig
    private let table: ActionTable
    private let store: MoatStore
    private let logger: Logger
    private let metrics: GatewayMetrics?
    private let executorLoop: any EventLoop
    /// Peers' indicators, matched beside the engine (nil when none are held).
    private var peers: PeerFeed?
    /// The id of a campaign's fingerprint key (nil campaign: the `default` key), for the audit trail.
    private let fingerprintKeyID: @Sendable (String?) -> String?
    public private(set) var ingested = 0
    /// Exchanges read from the journal (the live feed), as opposed to handed to `ingest` directly.
    public private(set) var ingestedFromJournal: Int64 = 0
    /// Audit entries of the current batch, written together.
    private var pendingAudit: [AuditEntry] = []

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executorLoop.executor.asUnownedSerialExecutor() }

    init(engine: DetectionEngine, policy: PolicyConfig, table: ActionTable, store: MoatStore, logger: Logger,
         metrics: GatewayMetrics?, on loop: any EventLoop, peers: PeerFeed? = nil,
         fingerprintKeyID: @escaping @Sendable (String?) -> String? = { _ in nil }) {
        self.fingerprintKeyID = fingerprintKeyID
        self.engine = engine
        self.peers = peers
        self.policy = policy
        self.table = table
        self.store = store
        self.logger = logger
        self.metrics = metrics
        executorLoop = loop
    }

    public func ingest(_ exchange: Exchange) {
        ingested += 1
        detect(exchange)
        writeAudit()
    }

    /// One exchange into the engine, then the peers' evidence it makes due.
    private func detect(_ e: Exchange) {
        apply(engine.ingest(e), org: e.orgID)
        if peers != nil {
            for p in peers!.evidence(after: e) { apply(engine.ingest(peer: p), org: e.orgID) }
        }
    }

    /// Feeds detection from the journal, from `position` on, until the journal is closed and read to its end.
    /// Never drops an exchange: when detection falls behind, it reads further back in the journal (the
    /// lag is the `moat_detection_lag_exchanges` gauge).
    func follow(journal: ExchangeJournal, from position: JournalPosition) async {
        var reader = JournalReader(directory: journal.directory, from: position)
        var detected: Int64 = 0
        while true {
            var n = 0
            do {
                while n < 256, try reader.next(limit: journal.end, { record in
                    let line = UnsafeBufferPointer(start: record.line.baseAddress?.assumingMemoryBound(to: UInt8.self), count: record.line.count)
                    do {
                        let e = try Exchange.decode(line: line, file: "journal", lineNumber: 0)
                        ingested += 1
                        detect(e)
                    } catch {
                        logger.error("unreadable exchange in the journal", metadata: ["error": "\(error)", "at": "\(record.position)"])
                    }
                }) {
                    n += 1
                }
            } catch {
                logger.error("cannot read the journal for detection; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            writeAudit()
            detected += Int64(n)
            ingestedFromJournal = detected
            journal.setCursor("detect", reader.position)
            metrics?.detected(n, lag: max(0, journal.appended - detected))
            if n == 0 {
                if journal.isClosed, reader.position >= journal.end { return }
                await journal.appended(after: reader.position)
                // Gather a few milliseconds of exchanges per wake-up rather than waking for each one.
                if !journal.isClosed { try? await Task.sleep(for: .milliseconds(5)) }
            } else {
                // Let report and admin calls in between batches.
                await Task.yield()
            }
        }
    }

    /// Gives the engine accounts imported while the gateway runs.
    public func register(accounts: [Account]) {
        peers?.observe(accounts: accounts)
        let orgs = Dictionary(accounts.map { ($0.accountID, $0.orgID) }, uniquingKeysWith: { _, b in b })
        for change in engine.register(accounts: accounts) { apply([change], org: orgs[change.accountID] ?? nil) }
        writeAudit()
    }

    /// The engine's current report: campaigns with evidence, flagged accounts with reasons.
    public func report() -> Report { engine.report() }

    /// Why the engine sees an account as it does (its reasons, peers' matches included), flagged or not.
    public func explain(accountID: String) -> [String] { engine.explain(accountID: accountID) }

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
            if action.fingerprints, !review, !allowlisted {
                why.append("answers fingerprinted with key \(fingerprintKeyID(change.campaignID) ?? "(none configured)") "
                           + "(campaign \(change.campaignID ?? "default"))")
            }
            if allowlisted { why.append("not enforced: the account or its organisation is allowlisted") }
            if review { why.append("queued for review: campaign confidence below \(policy.reviewBelowConfidence)") }
            audit(change.accountID, action: recorded, why)
        }
    }

    private func audit(_ account: String, action: String, _ reasons: [String]) {
        pendingAudit.append(AuditEntry(at: Date(), actor: "detection", action: action, subject: "account:" + account, reasons: reasons))
    }

    /// Writes the batch's audit entries in one transaction (on this actor's own thread).
    private func writeAudit() {
        guard !pendingAudit.isEmpty else { return }
        do {
            try store.appendAudit(pendingAudit)
        } catch {
            logger.error("cannot write the audit trail", metadata: ["entries": "\(pendingAudit.count)", "error": "\(error)"])
        }
        pendingAudit.removeAll(keepingCapacity: true)
    }
}
