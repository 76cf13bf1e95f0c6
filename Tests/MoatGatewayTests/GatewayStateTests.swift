import Foundation
import MoatCore
import MoatGateway
import MoatStore
import Testing

/// Gateway state in the store: verdicts restored before the first request, usage limits saved and
/// restored, the schema guard, health. (Real processes killed with SIGKILL: `GatewayRestartTests`.)
@Suite("moat serve: state that survives a restart")
struct GatewayStateTests {
    static func verdict(_ account: String, _ action: String) -> StoredVerdict {
        StoredVerdict(account: account, action: action, verdict: "campaign", campaign: "C-0001", score: 0.97,
                      since: Date(timeIntervalSince1970: 1_700_000_000), reasons: ["shares payment with 40 accounts"], pendingReview: false)
    }

    @Test func verdictsInTheStoreAreEnforcedFromTheFirstRequest() async throws {
        let store = try MoatStore.temporary()
        try store.saveEnforcement(verdicts: [Self.verdict("acct-1", "block")], audit: [])
        try await GatewayHarness.with(store: store) { h in
            // The table is filled in `Gateway.init`, before any listener runs.
            #expect(h.gateway.actions.entry("acct-1")?.action == .block)
            #expect(h.gateway.actions.entry("acct-1")?.reasons == ["shares payment with 40 accounts"])
            let reply = try await h.send("/v1/messages", GatewayHarness.anthropicBody)
            #expect(reply.status == 403)
            #expect((reply.json?["error"] as? [String: Any])?["type"] as? String == "permission_error")
        }
    }

    @Test func aVerdictWaitingForReviewStaysUnenforcedAfterARestart() async throws {
        let store = try MoatStore.temporary()
        var pending = Self.verdict("acct-1", "block")
        pending.pendingReview = true
        try store.saveEnforcement(verdicts: [pending], audit: [])
        try await GatewayHarness.with(store: store) { h in
            #expect(h.gateway.actions.entry("acct-1")?.pendingReview == true)
            let reply = try await h.send("/v1/messages", GatewayHarness.anthropicBody)
            #expect(reply.status == 200)
        }
    }

    @Test func savedVerdictsRoundTripWithTheirAuditEntries() throws {
        let store = try MoatStore.temporary()
        let v = Self.verdict("acct-7", "throttle")
        let audit = AuditEntry(at: Date(timeIntervalSince1970: 1_700_000_100), actor: "detection", action: "throttle", subject: "account:acct-7", reasons: ["r"])
        try store.saveEnforcement(verdicts: [v], audit: [audit])
        var later = v
        later.action = "block"
        try store.saveEnforcement(verdicts: [later], audit: [])
        #expect(try store.verdicts() == [later])
        #expect(try store.audit(subject: "account:acct-7") == [audit])
    }

    // MARK: - Limits

    static func subjects(_ limits: LimitsConfig.Limits, table: SubjectTable, account: String = "acct-1") -> RateLimiter.Subjects {
        RateLimiter.Subjects(account: .init(table.id(.account, account), .account, account, limits))
    }

    @Test func savedBucketsComeBackInANewLimiter() throws {
        let store = try MoatStore.temporary()
        let limits = LimitsConfig.Limits(requestsPerMinute: 10, tokensPerDay: 1_000)
        let first = DurableLimiter(store: store, subjects: SubjectTable())
        let firstSubjects = Self.subjects(limits, table: first.subjects)
        let now = 1_800_000_000.0
        for _ in 0..<7 {
            guard case .admitted = first.reserve(.init(subjects: firstSubjects, inputTokens: 50, reservedOutputTokens: 50), now: now) else {
                Issue.record("refused under the limit")
                return
            }
        }
        #expect(try first.save(now: now) == 2, "the requests bucket and the day's")

        // A new process: other interned ids, the same subjects by name.
        let table = SubjectTable()
        _ = table.id(.key, "shifts-the-ids")
        let second = DurableLimiter(store: store, subjects: table)
        #expect(try second.restore().buckets == 2)
        let secondSubjects = Self.subjects(limits, table: table)
        var admitted = 0
        for _ in 0..<5 {
            if case .admitted = second.reserve(.init(subjects: secondSubjects, inputTokens: 10, reservedOutputTokens: 10), now: now + 0.5) { admitted += 1 }
        }
        #expect(admitted == 3, "7 of 10 were used before the restart")
        // The daily cap: 700 of 1,000 used before, 60 since; 300 more do not fit.
        let status = second.status(secondSubjects, now: now + 0.5)
        #expect(status.dailyTokens?.remaining == 1_000 - 700 - 60)
    }

    @Test func aRestartChargesExchangesLoggedAfterTheLastSave() async throws {
        let store = try MoatStore.temporary()
        let now = Date().timeIntervalSince1970
        let today = (now / 86_400).rounded(.down)
        // The last save, 3 s ago: 400 of the day's 1,000 tokens used (a daily cap does not refill, so the test
        // does not depend on how long the gateway takes to start).
        try store.saveLimitBuckets([LimitBucketRow(scope: "account", subject: "acct-1", dimension: 3, level: 400, at: today)], takenAt: now - 3)
        // After it, before the crash: 5 more exchanges of 110 tokens each were served and logged.
        try store.appendExchanges((0..<5).map { i in
            Exchange(id: "ex-\(i)", ts: Timestamp(seconds: max(today * 86_400, now - 2.5 + 0.1 * Double(i))), accountID: "acct-1", model: "m",
                     inputTokens: 60, outputTokens: 50, apiKeyID: "key-x")
        })
        try await GatewayHarness.with(store: store, configure: { c in
            c.limits.tiers["standard"] = .init(account: .init(tokensPerDay: 1_000))
        }) { h in
            // 950 used: a request reserving its 64 output tokens does not fit. The saved bucket alone (400) would
            // admit several; a fresh budget more.
            let reply = try await h.send("/v1/messages", GatewayHarness.anthropicBody)
            #expect(reply.status == 429)
            #expect(reply.headers["anthropic-ratelimit-tokens-remaining"] == "50", "\(reply.headers)")
        }
    }

    @Test func healthReportsStoreAndDetection() async throws {
        try await GatewayAdminTests.withAdmin { _, admin in
            let deadline = ContinuousClock.now + .seconds(10)
            var reply = try await admin.call(.GET, "/health")
            while (reply.json?["detection"] as? [String: Any])?["resumed"] as? Bool != true, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                reply = try await admin.call(.GET, "/health")
            }
            #expect(reply.status == 200)
            #expect(reply.json?["status"] as? String == "ok")
            let store = try #require(reply.json?["store"] as? [String: Any])
            #expect(store["ok"] as? Bool == true)
            #expect(store["kind"] as? String == "sqlite")
            #expect((store["schema"] as? [String])?.contains("state-v1") == true)
            let detection = try #require(reply.json?["detection"] as? [String: Any])
            #expect(detection["role"] as? String == "leader")
            #expect(detection["resumed"] as? Bool == true)
        }
    }
}
