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
    /// Audit entries of the current batch, written together with the verdicts they explain.
    private var pendingAudit: [AuditEntry] = []
    /// Verdict changes, audit entries and campaigns not yet published to the replicas' shared store (collected
    /// only while leading).
    private var outbox = Publication()
    /// Audit entries of the current batch to publish: those of verdicts that change what the replicas enforce
    /// (a new leader's replay of verdicts already published adds none to the shared trail).
    private var pendingPublishedAudit: [AuditEntry] = []
    private var publishes = false
    /// Accounts whose enforcement changed since the last write to the store.
    private var dirty: Set<String> = []
    /// Campaigns changed since they were last saved, and when that was.
    private var campaignsDirty = false
    private var campaignsSavedAt = ContinuousClock.now
    private var ingestedAtCampaignSave = 0
    /// While the engine resumes from the log: verdict changes are collected here (the last per account, with
    /// the org of the exchange that caused it), not enforced; what the store did not have yet is applied after.
    private var resuming = false
    private var replayed: [String: (VerdictChange, String?)] = [:]
    /// How the engine resumed on start: exchanges replayed from the log, seconds it took.
    public private(set) var resume = ResumeStatus()

    public struct ResumeStatus: Sendable, Codable, Equatable {
        public var done = false
        public var exchanges = 0
        public var seconds = 0.0
        /// CPU time the resume took on detection's thread (which runs at a lower priority than requests,
        /// so on a busy machine `seconds` is mostly waiting).
        public var cpuSeconds = 0.0
        /// Verdicts found in the log that the store did not have (detection was behind at the stop).
        public var verdictsRecovered = 0
    }

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

    /// What detection decodes of a logged exchange: never the answer's text (the engine does not read it),
    /// unless peers' indicators are matched, which get whole exchanges.
    private var detectionFields: ExchangeReader.Fields { peers == nil ? .withoutResponse : .all }

    /// One exchange into the engine, then the peers' evidence it makes due.
    private func detect(_ e: Exchange) {
        apply(engine.ingest(e), org: e.orgID)
        if peers != nil {
            for p in peers!.evidence(after: e) { apply(engine.ingest(peer: p), org: e.orgID) }
        }
    }

    /// How long the journal follower gathers exchanges after being woken by one (detection lags the
    /// journal by about this much; fewer wake-ups of the detection thread on a busy gateway).
    static let followGather = TimeAmount.milliseconds(20)
    /// The gather in use: `followGather`, or none in lockstep replay mode.
    private var gather = Enforcer.followGather

    /// Takes each exchange in as soon as it is logged (replay lockstep).
    func gatherNothing() { gather = .zero }

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
                        let e = try Exchange.decode(line: line, file: "journal", lineNumber: 0, fields: detectionFields)
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
            saveCampaignsIfDue()
            detected += Int64(n)
            ingestedFromJournal = detected
            journal.setCursor("detect", reader.position)
            metrics?.detected(n, lag: max(0, journal.appended - detected))
            if n == 0 {
                if journal.isClosed, reader.position >= journal.end {
                    saveCampaignsIfDue(force: true)
                    return
                }
                await journal.appended(after: reader.position)
                // Gather some milliseconds of exchanges per wake-up rather than waking for each one. The
                // wait is a timer of the detection loop itself: `Task.sleep` would go through the global
                // executor, which in `moat serve` is the request event loops, and dispatch's timer thread.
                if !journal.isClosed, gather > .zero {
                    try? await executorLoop.scheduleTask(in: gather) {}.futureResult.get()
                }
            } else {
                // Let report and admin calls in between batches.
                await Task.yield()
            }
        }
    }

    /// Feeds detection lines of the replicas' combined log (the leader); returns how many it read.
    @discardableResult
    func ingest(lines: [String]) -> Int {
        for var line in lines {
            line.withUTF8 { bytes in
                do {
                    let e = try Exchange.decode(line: bytes, file: "log", lineNumber: 0, fields: detectionFields)
                    ingested += 1
                    detect(e)
                } catch {
                    logger.error("unreadable exchange in the combined log", metadata: ["error": "\(error)"])
                }
            }
        }
        writeAudit()
        saveCampaignsIfDue()
        return lines.count
    }

    /// Starts (or stops) collecting verdict changes to publish to the other replicas.
    func setPublishing(_ on: Bool) {
        publishes = on
        if !on {
            outbox = Publication()
            pendingPublishedAudit.removeAll()
        }
    }

    /// What to publish since the last call: verdict changes, audit entries, the campaigns if they changed.
    func takeOutbox() -> Publication {
        defer { outbox = Publication() }
        return outbox
    }

    /// Puts back what could not be published.
    func returnToOutbox(_ p: Publication) {
        outbox.verdicts = p.verdicts + outbox.verdicts
        outbox.audit = p.audit + outbox.audit
        if outbox.campaigns == nil { outbox.campaigns = p.campaigns }
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
        if resuming {
            for change in changes { replayed[change.accountID] = (change, org) }
            return
        }
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
            let previous = table.entry(change.accountID)
            table.set(change.accountID, ActionTable.Entry(
                action: action, verdict: change.verdict.rawValue, campaign: change.campaignID, score: change.score,
                since: Date(timeIntervalSince1970: change.at.seconds), reasons: reasons, pendingReview: review))
            // Published to the shared audit trail only when it changes what the replicas enforce.
            let news = previous.map { $0.action != action || $0.verdict != change.verdict.rawValue || $0.campaign != change.campaignID
                                      || $0.pendingReview != review } ?? true
            dirty.insert(change.accountID)
            if change.verdict == .campaign || change.campaignID != nil { campaignsDirty = true }
            if policy.reviewBelowConfidence > 0, let id = change.campaignID, let c = campaignConfidence,
               c >= policy.reviewBelowConfidence, released.insert(id).inserted {
                // The campaign is now confident enough: members queued while it was weaker are enforced too.
                for account in table.releaseQueued(campaign: id) {
                    dirty.insert(account)
                    audit(account, action: action.rawValue,
                          ["campaign \(id) reached confidence \(c) (review threshold \(policy.reviewBelowConfidence)): queued verdict enforced"])
                    if publishes, let entry = pendingAudit.last { pendingPublishedAudit.append(entry) }
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
            if publishes, news, let entry = pendingAudit.last { pendingPublishedAudit.append(entry) }
        }
    }

    private func audit(_ account: String, action: String, _ reasons: [String]) {
        pendingAudit.append(AuditEntry(at: Date(), actor: "detection", action: action, subject: "account:" + account, reasons: reasons))
    }

    /// Writes the batch's changed verdicts and audit entries to the store in one transaction (on this actor's
    /// own thread). What cannot be written is kept and tried again with the next batch.
    private func writeAudit() {
        guard !pendingAudit.isEmpty || !dirty.isEmpty else { return }
        let verdicts = dirty.sorted().compactMap { account in table.entry(account).map { StoredVerdict(account: account, $0) } }
        if publishes {
            outbox.verdicts += verdicts
            outbox.audit += pendingPublishedAudit
            pendingPublishedAudit.removeAll(keepingCapacity: true)
        }
        do {
            try store.saveEnforcement(verdicts: verdicts, audit: pendingAudit)
            pendingAudit.removeAll(keepingCapacity: true)
            dirty.removeAll(keepingCapacity: true)
        } catch {
            logger.error("cannot write verdicts and the audit trail to the store; retrying with the next batch",
                         metadata: ["verdicts": "\(verdicts.count)", "entries": "\(pendingAudit.count)", "error": "\(error)"])
            if pendingAudit.count > 100_000 { pendingAudit.removeFirst(pendingAudit.count - 100_000) }
        }
    }

    /// Saves the campaigns with their evidence: at most once a second while verdicts change, every 30 s while
    /// exchanges arrive, and at once when `force`.
    func saveCampaignsIfDue(force: Bool = false) {
        // While catching up, the campaigns are those of a past moment: saved (and published) once caught up.
        guard !resuming else { return }
        let now = ContinuousClock.now
        let due = force ? (campaignsDirty || ingested != ingestedAtCampaignSave)
            : campaignsDirty ? now - campaignsSavedAt >= .seconds(1)
            : ingested != ingestedAtCampaignSave && now - campaignsSavedAt >= .seconds(30)
        guard due else { return }
        let campaigns = engine.report().campaigns
        guard !campaigns.isEmpty || campaignsDirty else {
            ingestedAtCampaignSave = ingested
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            let bodies = try campaigns.map { (id: $0.id, json: String(decoding: try encoder.encode($0), as: UTF8.self)) }
            if publishes { outbox.campaigns = bodies.map { StoredCampaign(id: $0.id, json: $0.json) } }
            try store.saveCampaigns(bodies)
            campaignsDirty = false
            campaignsSavedAt = now
            ingestedAtCampaignSave = ingested
        } catch {
            logger.error("cannot save campaigns to the store; retrying", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Resuming on start

    /// Brings the engine back to where it stopped: replays the exchange log (rows up to `lastRow`, the log
    /// as it was when the gateway started, from `since` on if given) through it without acting, then
    /// enforces the verdicts the store did not have yet (detection was behind when the gateway stopped).
    /// Enforcement itself was restored from the store before the first request; this only catches up.
    func resumeFromLog(through lastRow: Int64, since: Int64?) async {
        let started = ContinuousClock.now
        let cpuStarted = Self.threadCPUSeconds()
        resuming = true
        var after: Int64 = 0
        var n = 0
        while true {
            let batch: (lines: [String], last: Int64)
            do {
                batch = try store.loggedExchanges(after: after, through: lastRow, since: since)
            } catch {
                logger.error("cannot read the exchange log to resume detection; retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            if batch.lines.isEmpty { break }
            after = batch.last
            for var line in batch.lines {
                line.withUTF8 { bytes in
                    do {
                        let e = try Exchange.decode(line: bytes, file: "log", lineNumber: 0, fields: detectionFields)
                        ingested += 1
                        apply(engine.ingest(e), org: e.orgID)
                    } catch {
                        logger.error("unreadable exchange in the log", metadata: ["error": "\(error)"])
                    }
                }
            }
            n += batch.lines.count
            resume.exchanges = n
            // Let report and admin calls in between batches.
            await Task.yield()
        }
        let recovered = endCatchUp()
        let elapsed = (ContinuousClock.now - started).components
        let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
        let cpu = Self.threadCPUSeconds() - cpuStarted
        resume = ResumeStatus(done: true, exchanges: n, seconds: seconds, cpuSeconds: cpu, verdictsRecovered: recovered)
        logger.notice("detection resumed from the exchange log",
                      metadata: ["exchanges": "\(n)", "seconds": "\(String(format: "%.2f", seconds))",
                                 "cpu_seconds": "\(String(format: "%.2f", cpu))", "verdicts_recovered": "\(recovered)"])
    }

    /// From now on the engine catches up on a log whose verdicts are already enforced (a new detection leader
    /// replaying the combined log): verdict changes are collected, not enforced, published or audited.
    func beginCatchUp() {
        resuming = true
        replayed = [:]
    }

    /// Ends catching up: enforces (and publishes, when leading) only the verdicts that differ from what is
    /// enforced already, so that a replay never takes an account back through its earlier verdicts, and the
    /// audit trail gets no second entry for a decision it has. Returns how many verdicts that was.
    @discardableResult
    func endCatchUp() -> Int {
        guard resuming else { return 0 }
        resuming = false
        var recovered = 0
        for (account, (change, org)) in replayed.sorted(by: { $0.key < $1.key }) {
            let stored = table.entry(account)
            if let stored, stored.verdict == change.verdict.rawValue, stored.campaign == change.campaignID { continue }
            if stored == nil, change.verdict == .clear { continue }
            apply([change], org: org)
            recovered += 1
        }
        replayed = [:]
        writeAudit()
        campaignsDirty = true
        saveCampaignsIfDue(force: true)
        return recovered
    }

    /// CPU time of the calling thread (this actor always runs on its own loop's thread).
    static func threadCPUSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Records operators' review decisions in the store.
    func persist(account: String) {
        persist(accounts: [account])
    }

    func persist(accounts: [String]) {
        dirty.formUnion(accounts)
        writeAudit()
    }
}

/// What the detection leader publishes to the store replicas share: verdict changes, the audit entries that
/// explain them, and the campaigns with their evidence when they changed (nil: unchanged).
struct Publication: Sendable {
    var verdicts: [StoredVerdict] = []
    var audit: [AuditEntry] = []
    var campaigns: [StoredCampaign]?

    var isEmpty: Bool { verdicts.isEmpty && audit.isEmpty && campaigns == nil }
}

extension StoredVerdict {
    init(account: String, _ e: ActionTable.Entry) {
        self.init(account: account, action: e.action.rawValue, verdict: e.verdict, campaign: e.campaign, score: e.score, since: e.since,
                  reasons: e.reasons, pendingReview: e.pendingReview)
    }
}

extension ActionTable.Entry {
    init?(_ v: StoredVerdict) {
        guard let action = GatewayAction(rawValue: v.action) else { return nil }
        self.init(action: action, verdict: v.verdict, campaign: v.campaign, score: v.score, since: v.since, reasons: v.reasons,
                  pendingReview: v.pendingReview)
    }
}
