import Foundation
import HTTPTypes
import Hummingbird
import MoatCore
import MoatStore
import NIOCore

extension Gateway {
    /// The admin API, on its own listener, behind a bearer token: accounts, verdicts, campaigns with
    /// evidence, overrides, the review queue, the audit trail and keys. `/metrics` (Prometheus) and
    /// `/health` need no token.
    public func adminRouter() -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.render())))
        }
        // Store connectivity and detection's state: 503 when the store does not answer.
        router.get("/health") { _, _ in
            let health = await self.health()
            var response = try self.json(health)
            if health.status != "ok" { response.status = .serviceUnavailable }
            return response
        }
        let admin = router.group("/admin").add(middleware: AdminAuth(token: config.admin.resolvedToken()))
        admin.get("/accounts") { _, _ in try self.json(self.accountsView()) }
        admin.get("/accounts/{id}") { _, context in
            let id = try context.parameters.require("id")
            let identity = self.accounts.identity(id)
            let keys = try await self.directory.keys(account: id)
            let entry = self.actions.entry(id)
            guard identity != nil || !keys.isEmpty || entry != nil else { throw HTTPError(.notFound, message: "no account \(id)") }
            let org = identity?.orgID ?? keys.first?.org
            return try self.json(AccountDetail(
                account: id, identity: identity.map(AccountDetail.Identity.init), keys: keys.map(\.id),
                action: self.actions.action(account: id, org: org, key: "").rawValue, verdict: entry))
        }
        // While detection resumes from the log on start, and on a replica that does not lead detection, the
        // engine here has not seen the traffic: these answer from what the leader saved in the store instead
        // (`X-Moat-Report-Source: store`), so every replica behind a load balancer gives the same answer.
        admin.get("/verdicts") { _, _ in
            guard let stored = try await self.storedReportIfNotLeading() else { return try self.json(await self.enforcer.report().accounts) }
            return try self.json(stored.accounts, source: "store")
        }
        admin.get("/campaigns") { _, _ in
            guard let stored = try await self.storedReportIfNotLeading() else { return try self.json(await self.enforcer.report().campaigns) }
            return try self.json(stored.campaigns, source: "store")
        }
        admin.get("/report") { _, _ in
            guard let stored = try await self.storedReportIfNotLeading() else { return try self.json(await self.enforcer.report()) }
            return try self.json(stored, source: "store")
        }
        // Replay lockstep: answers once detection has taken in every exchange logged before the call.
        admin.post("/detection/sync") { _, _ in
            guard self.replica?.detection == nil else {
                throw HTTPError(.conflict, message: "detection sync needs the embedded store: on a shared store the leader detects on the combined log")
            }
            guard await self.enforcer.resume.done else {
                throw HTTPError(.serviceUnavailable, message: "detection is still resuming from the log; try again")
            }
            guard await self.waitUntilDetected() else {
                throw HTTPError(.gatewayTimeout, message: "detection did not catch up within 30 s")
            }
            return Response(status: .noContent)
        }
        admin.get("/review") { _, _ in try self.json(self.actions.entries().filter { $0.value.pendingReview }) }
        admin.post("/review/{account}/{decision}") { _, context in
            let account = try context.parameters.require("account")
            let decision = try context.parameters.require("decision")
            guard decision == "approve" || decision == "dismiss" else { throw HTTPError(.badRequest, message: "decision is approve or dismiss") }
            guard let entry = self.actions.review(account, approve: decision == "approve") else {
                throw HTTPError(.notFound, message: "no verdict waiting for review for \(account)")
            }
            try await self.audit(AuditEntry(at: Date(), actor: "operator", action: "review-\(decision)",
                                            subject: "account:" + account, reasons: entry.reasons))
            await self.enforcer.persist(account: account)
            try await self.publishReviewed([account])
            return try self.json(entry)
        }
        admin.get("/audit") { request, _ in
            let limit = request.uri.queryParameters.get("limit", as: Int.self) ?? 100
            let subject = request.uri.queryParameters.get("subject").map { String($0) }
            return try self.json(try await self.operators.audit(limit: limit, subject: subject))
        }
        admin.get("/overrides") { _, _ in
            return try self.json(try await self.operators.overrides())
        }
        admin.post("/overrides") { request, context in
            let body = try await request.decode(as: OverrideRequest.self, context: context)
            guard ["account", "org", "key"].contains(body.scope) else { throw HTTPError(.badRequest, message: "scope is account, org or key") }
            guard let action = GatewayAction(name: body.action) else {
                throw HTTPError(.badRequest, message: "action is one of \(GatewayAction.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            try self.requireFingerprintKey(for: action)
            let o = Override(scope: body.scope, subject: body.subject, action: action.rawValue, reason: body.reason ?? "",
                             actor: body.actor ?? "operator", at: Date())
            try await self.operators.setOverride(o)
            self.actions.setOverride(o)
            var reasons = [o.reason]
            if action.fingerprints {
                let campaign = o.scope == "account" ? self.actions.entry(o.subject)?.campaign : nil
                reasons.append("answers fingerprinted with key \(self.fingerprintKeys.keyID(campaign: campaign) ?? "-") "
                               + "(campaign \(campaign ?? "default"); a member of a detected campaign gets that campaign's key)")
            }
            try await self.audit(AuditEntry(at: o.at, actor: o.actor, action: "override-\(o.action)",
                                            subject: "\(o.scope):\(o.subject)", reasons: reasons))
            return try self.json(o)
        }
        admin.delete("/overrides/{scope}/{subject}") { _, context in
            let scope = try context.parameters.require("scope")
            let subject = try context.parameters.require("subject")
            guard try await self.operators.removeOverride(scope: scope, subject: subject) else { throw HTTPError(.notFound) }
            self.actions.removeOverride(scope: scope, subject: subject)
            try await self.audit(AuditEntry(at: Date(), actor: "operator", action: "override-removed",
                                            subject: "\(scope):\(subject)", reasons: []))
            return Response(status: .noContent)
        }
        // "Fingerprint and keep serving": per campaign, with an expiry and an audit entry.
        admin.get("/campaign-choices") { _, _ in
            return try self.json(try await self.operators.campaignChoices().map { CampaignChoiceView($0, keys: self.fingerprintKeys) })
        }
        admin.put("/campaign-choices/{campaign}") { request, context in
            let campaign = try context.parameters.require("campaign")
            let body = try await request.decode(as: CampaignChoiceRequest.self, context: context)
            let name = body.action ?? GatewayAction.fingerprint.rawValue
            guard let action = GatewayAction(name: name), action.fingerprints else {
                throw HTTPError(.badRequest, message: "action is fingerprint or withhold_reasoning+fingerprint")
            }
            try self.requireFingerprintKey(for: action)
            guard let hours = body.expiresInHours, hours > 0, hours <= 24 * 366 else {
                throw HTTPError(.badRequest, message: "expires_in_hours is required: more than 0, at most 8784 (a choice always expires)")
            }
            let now = Date()
            let choice = CampaignChoice(campaign: campaign, action: action.rawValue, until: now.addingTimeInterval(hours * 3600),
                                        reason: body.reason ?? "", actor: body.actor ?? "operator", at: now)
            try await self.operators.setCampaignChoice(choice)
            self.actions.setCampaignChoice(choice)
            try await self.audit(AuditEntry(
                at: now, actor: choice.actor, action: "campaign-\(choice.action)", subject: "campaign:" + campaign,
                reasons: [choice.reason, "members are served with answers fingerprinted with key \(self.fingerprintKeys.keyID(campaign: campaign) ?? "-") "
                          + "instead of the policy's action, until \(Timestamp(seconds: choice.until.timeIntervalSince1970).rfc3339)"]))
            return try self.json(CampaignChoiceView(choice, keys: self.fingerprintKeys))
        }
        admin.delete("/campaign-choices/{campaign}") { _, context in
            let campaign = try context.parameters.require("campaign")
            guard try await self.operators.removeCampaignChoice(campaign: campaign) else { throw HTTPError(.notFound) }
            self.actions.removeCampaignChoice(campaign)
            try await self.audit(AuditEntry(at: Date(), actor: "operator", action: "campaign-choice-removed",
                                            subject: "campaign:" + campaign, reasons: ["the policy's action applies again"]))
            return Response(status: .noContent)
        }
        admin.get("/keys") { request, _ in
            let account = request.uri.queryParameters.get("account").map { String($0) }
            return try self.json(try await self.directory.keys(account: account))
        }
        admin.post("/keys") { request, context in
            let body = try await request.decode(as: KeyRequest.self, context: context)
            let created = try await self.directory.createKey(account: body.account, org: body.org, name: body.name)
            try await self.audit(AuditEntry(at: Date(), actor: "operator", action: "key-created",
                                                  subject: "key:" + created.id, reasons: ["account \(body.account)"]))
            return try self.json(["id": created.id, "secret": created.secret, "account": body.account])
        }
        admin.delete("/keys/{id}") { _, context in
            let id = try context.parameters.require("id")
            guard try await self.directory.revokeKey(id: id) else { throw HTTPError(.notFound, message: "no key \(id)") }
            self.keys.invalidate()
            try await self.audit(AuditEntry(at: Date(), actor: "operator", action: "key-revoked", subject: "key:" + id, reasons: []))
            return Response(status: .noContent)
        }
        addDashboard(to: router)
        return router
    }

    /// What `GET /health` on the admin listener reports.
    public struct Health: Codable, Sendable {
        public struct Store: Codable, Sendable {
            public var kind: String
            public var ok: Bool
            public var error: String?
            public var schema: [String]?
        }

        public struct Detection: Codable, Sendable {
            /// `leader`: this gateway runs detection on the whole log (an SQLite store has one gateway, which
            /// leads; replicas on a shared store elect one).
            public var role: String
            /// Detection has replayed the log since the start and follows live traffic.
            public var resumed: Bool
            public var replayedExchanges: Int
            public var resumeSeconds: Double
            public var resumeCPUSeconds: Double
            public var verdictsRecovered: Int
            public var ingested: Int

            enum CodingKeys: String, CodingKey {
                case role, resumed, ingested
                case replayedExchanges = "replayed_exchanges"
                case resumeSeconds = "resume_seconds"
                case resumeCPUSeconds = "resume_cpu_seconds"
                case verdictsRecovered = "verdicts_recovered"
            }
        }

        public var status: String
        public var store: Store
        public var detection: Detection
    }

    public func health() async -> Health {
        let store = self.store
        var storeHealth = Health.Store(kind: directory.kind, ok: true)
        do {
            if let shared = replica?.directory {
                storeHealth.schema = try await shared.ping()
                // The replica's own SQLite store (its exchange log) must answer too.
                try await offLoop { try store.ping() }
            } else {
                storeHealth.schema = try await offLoop { try store.ping(); return try store.appliedMigrations() }
            }
        } catch {
            storeHealth.ok = false
            storeHealth.error = "\(error)"
        }
        let resume = await enforcer.resume
        let ingested = await enforcer.ingested
        return Health(status: storeHealth.ok ? "ok" : "store_unavailable", store: storeHealth,
                      detection: .init(role: replica?.detection == nil || leading.load(ordering: .relaxed) ? "leader" : "standby", resumed: resume.done, replayedExchanges: resume.exchanges,
                                       resumeSeconds: resume.seconds, resumeCPUSeconds: resume.cpuSeconds, verdictsRecovered: resume.verdictsRecovered, ingested: ingested))
    }

    /// Appends to the audit trail (the shared store's, or the embedded store's off the event loop).
    func audit(_ entry: AuditEntry) async throws {
        try await operators.appendAudit(entry)
    }

    /// On a shared store: publishes operators' review decisions on `accounts`, so that every replica enforces them.
    func publishReviewed(_ accounts: [String]) async throws {
        guard let shared = replica?.detection else { return }
        let verdicts = accounts.compactMap { account in actions.entry(account).map { StoredVerdict(account: account, $0) } }
        try await shared.publish(verdicts)
    }

    func requireFingerprintKey(for action: GatewayAction) throws {
        guard !action.fingerprints || fingerprintKeys.isConfigured else {
            throw HTTPError(.badRequest, message: "`\(action.rawValue)` needs a fingerprint master key: start moat serve with the environment variable \(config.fingerprint.keyEnv) set")
        }
    }

    struct CampaignChoiceRequest: Decodable {
        var action: String?
        var expiresInHours: Double?
        var reason: String?
        var actor: String?

        enum CodingKeys: String, CodingKey {
            case action, reason, actor
            case expiresInHours = "expires_in_hours"
        }
    }

    /// A campaign choice as the admin API shows it: with its fingerprint key's id (never the key).
    struct CampaignChoiceView: Encodable {
        var campaign: String
        var action: String
        var until: String
        var active: Bool
        var keyID: String?
        var reason: String
        var actor: String
        var at: String

        init(_ c: CampaignChoice, keys: FingerprintKeys) {
            campaign = c.campaign
            action = c.action
            until = Timestamp(seconds: c.until.timeIntervalSince1970).rfc3339
            active = c.isActive(at: Date())
            keyID = keys.keyID(campaign: c.campaign)
            reason = c.reason
            actor = c.actor
            at = Timestamp(seconds: c.at.timeIntervalSince1970).rfc3339
        }

        enum CodingKeys: String, CodingKey {
            case campaign, action, until, active, reason, actor, at
            case keyID = "key_id"
        }
    }

    struct OverrideRequest: Decodable {
        var scope: String
        var subject: String
        var action: String
        var reason: String?
        var actor: String?
    }

    struct KeyRequest: Decodable {
        var account: String
        var org: String?
        var name: String?
    }

    struct AccountView: Encodable {
        var account: String
        var action: String
        var verdict: String
        var campaign: String?
        var score: Double
        var pendingReview: Bool
        var reasons: [String]
    }

    /// One account: what the provider knows of it, its keys, what the gateway does for it and why.
    struct AccountDetail: Encodable {
        struct Identity: Encodable {
            var createdAt: String?, org: String?, emailDomain: String?, verification: String?, program: String?, country: String?
            init(_ a: Account) {
                createdAt = a.createdAt?.rfc3339
                org = a.orgID
                emailDomain = a.emailDomain
                verification = a.verification
                program = a.program
                country = a.country
            }
        }
        var account: String
        var identity: Identity?
        var keys: [String]
        /// What a request from this account gets now, overrides included.
        var action: String
        var verdict: ActionTable.Entry?
    }

    func accountsView() -> [AccountView] {
        actions.entries().sorted { $0.key < $1.key }.map { id, e in
            AccountView(account: id, action: e.action.rawValue, verdict: e.verdict, campaign: e.campaign, score: e.score,
                        pendingReview: e.pendingReview, reasons: e.reasons)
        }
    }

    func json(_ value: some Encodable, source: String? = nil) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        var headers: HTTPFields = [.contentType: "application/json"]
        if let source { headers[Self.reportSourceHeader] = source }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(data: try encoder.encode(value))))
    }

    static let reportSourceHeader = HTTPField.Name("X-Moat-Report-Source")!

    /// The report as the store holds it, when this process's engine has not seen the traffic: while detection
    /// resumes on start, and on a replica that does not lead detection. nil when the live engine should answer.
    ///
    /// Campaigns are the bodies the leader saved (with their evidence, at most a second old); accounts are the
    /// verdicts it published, which this replica follows within a second, with `flagged_at` the time of the
    /// account's current verdict (for an account that went from suspicious to campaign, the later time: the
    /// engine's own report gives the first). The summary counts the combined log's exchanges on a shared store
    /// (0 while resuming on SQLite), counts as `accounts` the accounts with a verdict, and leaves the times out.
    func storedReportIfNotLeading() async throws -> Report? {
        let standby = replica?.detection != nil && !leading.load(ordering: .relaxed)
        let resuming = await !enforcer.resume.done
        guard standby || resuming else { return nil }
        let bodies = try await operators.campaignBodies()
        let decoder = JSONDecoder()
        let campaigns = try bodies.map { try decoder.decode(Report.Campaign.self, from: Data($0.json.utf8)) }
        let accounts = actions.entries().filter { $0.value.verdict != "clear" }.sorted { $0.key < $1.key }.map { id, e in
            Report.AccountVerdict(accountID: id, verdict: e.verdict, score: e.score, campaign: e.campaign,
                                  flaggedAt: Timestamp(milliseconds: Int64((e.since.timeIntervalSince1970 * 1000).rounded())).rfc3339,
                                  reasons: e.reasons)
        }
        let exchanges: Int64
        if let shared = replica?.detection { exchanges = try await shared.combinedLogSize() } else { exchanges = 0 }
        let summary = Report.Summary(exchanges: Int(exchanges), accounts: accounts.count, campaigns: campaigns.count,
                                     flaggedAccounts: accounts.count)
        return Report(summary: summary, campaigns: campaigns, accounts: accounts)
    }
}

/// Bearer-token check for the admin API. Without a configured token the admin API refuses everything.
struct AdminAuth: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token, let presented = request.headers[.authorization], Self.same(presented, "Bearer " + token) else {
            throw HTTPError(.unauthorized, message: "admin token required (Authorization: Bearer TOKEN)")
        }
        return try await next(request, context)
    }

    /// Compares in time that depends only on the lengths, not on where the first difference is.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
