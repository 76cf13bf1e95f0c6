import Foundation
import MoatCore
import MoatDetect
import MoatGateway
import MoatSimulate
import MoatStore
import Testing

@Suite("moat serve: live detection and enforcement")
struct GatewayEnforcementTests {
    @Test func withheldReasoningIsStrippedFromAnswersAndStreams() async throws {
        try await GatewayHarness.with { h in
            let before = try await h.send("/v1/messages", GatewayHarness.anthropicThinking)
            let blocks = try #require(before.json?["content"] as? [[String: Any]])
            #expect(blocks.contains { $0["type"] as? String == "thinking" })
            h.gateway.actions.setOverride(Override(scope: "account", subject: "acct-1", action: "withhold_reasoning",
                                                   reason: "test", actor: "test", at: Date()))
            let after = try await h.send("/v1/messages", GatewayHarness.anthropicThinking)
            let kept = try #require(after.json?["content"] as? [[String: Any]])
            #expect(!kept.contains { $0["type"] as? String == "thinking" })
            #expect(kept.contains { $0["type"] as? String == "text" })
            let text = blocks.first { $0["type"] as? String == "text" }?["text"] as? String
            #expect(kept.first?["text"] as? String == text, "the answer itself is unchanged")

            let stream = try await h.send("/v1/messages", GatewayHarness.anthropicThinkingStream)
            #expect(stream.status == 200)
            #expect(!stream.body.contains("thinking_delta"))
            #expect(!stream.body.contains("\"type\":\"thinking\""))
            #expect(stream.body.contains("text_delta"))
            #expect(!stream.body.contains("\"index\":1"), "blocks are renumbered from 0")
        }
    }

    @Test func aBlockOverrideGets403AndAnAllowlistWins() async throws {
        try await GatewayHarness.with(org: "org-a") { h in
            h.gateway.actions.setOverride(Override(scope: "account", subject: "acct-1", action: "block", reason: "test",
                                                   actor: "test", at: Date()))
            let blocked = try await h.send("/v1/chat/completions", GatewayHarness.openAIBody)
            #expect(blocked.status == 403)
            #expect((blocked.json?["error"] as? [String: Any])?["message"] as? String != nil)
            h.gateway.actions.setOverride(Override(scope: "org", subject: "org-a", action: "allow", reason: "customer",
                                                   actor: "test", at: Date()))
            #expect(try await h.send("/v1/chat/completions", GatewayHarness.openAIBody).status == 200)
        }
    }

    /// Replays a simulated campaign through live detection, then the campaign's own key is refused.
    @Test func campaignAccountsAreBlockedOnceDetected() async throws {
        var p = ScenarioParameters.named("smoke", days: 1)!
        p.individuals.accounts = 60
        let dir = NSTemporaryDirectory() + "moat-gw-\(UUID().uuidString)"
        let simulator = Simulator(parameters: p, seed: 3, corpus: Corpus.builtin())
        _ = try simulator.run(to: dir)
        let accounts = try readAccounts(path: dir + "/accounts.jsonl")
        let labels = try readLabels(path: dir + "/labels.jsonl")
        let hydra = try #require(labels.first { $0.campaign == "hydra" }?.accountID)
        let benign = try #require(accounts.first { $0.label == nil && $0.accountID.hasPrefix("u-") }?.accountID)
        try await GatewayHarness.with(account: hydra, accounts: accounts) { h in
            let reader = try ExchangeReader(path: dir + "/exchanges.jsonl")
            while let e = try reader.next() { await h.gateway.enforcer.ingest(e) }
            let report = await h.gateway.enforcer.report()
            #expect(report.accounts.contains { $0.accountID == hydra && $0.verdict == "campaign" })
            let r = try await h.send("/v1/messages", GatewayHarness.anthropicBody)
            #expect(r.status == 403)
            #expect((r.json?["error"] as? [String: Any])?["type"] as? String == "permission_error")
            #expect(h.gateway.actions.action(account: benign, org: nil, key: "k") == .allow)
            let audit = try h.store.audit(limit: 10_000)
            #expect(audit.contains { $0.subject == "account:" + hydra && $0.action == "block" && !$0.reasons.isEmpty })
        }
    }

    /// With a review threshold above any campaign's confidence, detection queues instead of blocking.
    @Test func campaignsBelowTheReviewConfidenceAreQueuedNotBlocked() async throws {
        var p = ScenarioParameters.named("smoke", days: 1)!
        p.individuals.accounts = 60
        let dir = NSTemporaryDirectory() + "moat-gw-\(UUID().uuidString)"
        _ = try Simulator(parameters: p, seed: 3, corpus: Corpus.builtin()).run(to: dir)
        let accounts = try readAccounts(path: dir + "/accounts.jsonl")
        let hydra = try #require(try readLabels(path: dir + "/labels.jsonl").first { $0.campaign == "hydra" }?.accountID)
        try await GatewayHarness.with(account: hydra, accounts: accounts, configure: { $0.policy.reviewBelowConfidence = 1.01 }) { h in
            let reader = try ExchangeReader(path: dir + "/exchanges.jsonl")
            while let e = try reader.next() { await h.gateway.enforcer.ingest(e) }
            let entry = try #require(h.gateway.actions.entry(hydra))
            #expect(entry.verdict == "campaign" && entry.action == .block && entry.pendingReview)
            #expect(try await h.send("/v1/messages", GatewayHarness.anthropicBody).status == 200, "queued, not enforced")
            let audit = try h.store.audit(limit: 10_000, subject: "account:" + hydra)
            #expect(audit.contains { $0.action == "review" && $0.reasons.contains { $0.contains("campaign confidence below 1.01") } })
            _ = h.gateway.actions.review(hydra, approve: true)
            #expect(try await h.send("/v1/messages", GatewayHarness.anthropicBody).status == 403)
        }
    }

    @Test func borderlineVerdictsWaitForReview() async throws {
        try await GatewayHarness.with(configure: { $0.policy.reviewBelowConfidence = 1.01 }) { h in
            let table = h.gateway.actions
            table.set("acct-1", .init(action: .block, verdict: "campaign", campaign: "C-0001", score: 0.7, since: Date(),
                                      reasons: ["test"], pendingReview: true))
            let waiting = try await h.send("/v1/messages", GatewayHarness.anthropicBody).status
            #expect(waiting == 200)
            _ = table.review("acct-1", approve: true)
            let approved = try await h.send("/v1/messages", GatewayHarness.anthropicBody).status
            #expect(approved == 403)
        }
    }
}
