import AsyncHTTPClient
import Foundation
import MoatCore
import MoatGateway
import MoatProvenance
import MoatStore
import NIOCore
import Testing

/// The `fingerprint` countermeasure through a live gateway in front of the mock upstream: what a
/// fingerprinted account receives is exactly the clean answer marked with the key (complete answers and
/// streams, both APIs), and the exchange log and audit trail say so.
@Suite("moat serve: fingerprint countermeasure")
struct GatewayFingerprintTests {
    static let master = try! FingerprintMasterKey(bytes: Array(0..<32))

    static func prompt(_ i: Int) -> String { "Tell me about the garden, part \(i)." }

    static func body(_ api: String, _ i: Int, stream: Bool) -> String {
        #"{"model":"atlas-2-pro","max_tokens":400"# + (stream ? #","stream":true"# : "")
            + #","messages":[{"role":"user","content":"\#(prompt(i))"}]}"#
    }

    static func path(_ api: String) -> String { api == "openai" ? "/v1/chat/completions" : "/v1/messages" }

    /// The answer's text: complete (OpenAI message content, Anthropic text blocks) or streamed (deltas joined).
    static func text(_ reply: GatewayHarness.Reply, api: String, stream: Bool) throws -> String {
        if !stream {
            let json = try #require(reply.json)
            if api == "openai" {
                let choices = try #require(json["choices"] as? [[String: Any]])
                return try #require((choices.first?["message"] as? [String: Any])?["content"] as? String)
            }
            let blocks = try #require(json["content"] as? [[String: Any]])
            return blocks.filter { $0["type"] as? String == "text" }.compactMap { $0["text"] as? String }.joined()
        }
        var out = ""
        for line in reply.body.split(separator: "\n") where line.hasPrefix("data: ") {
            let payload = line.dropFirst(6)
            if payload == "[DONE]" { continue }
            let event = try #require(try JSONSerialization.jsonObject(with: Data(payload.utf8)) as? [String: Any], "every event is JSON: \(payload)")
            if api == "openai" {
                for choice in event["choices"] as? [[String: Any]] ?? [] {
                    if let c = (choice["delta"] as? [String: Any])?["content"] as? String { out += c }
                }
            } else if event["type"] as? String == "content_block_delta", let delta = event["delta"] as? [String: Any],
                      delta["type"] as? String == "text_delta" {
                out += try #require(delta["text"] as? String)
            }
        }
        return out
    }

    @Test(arguments: ["openai", "anthropic"], [false, true])
    func fingerprintedAnswersAreTheCleanAnswersMarkedWithTheDefaultKey(api: String, stream: Bool) async throws {
        try await GatewayHarness.with(fingerprintKey: Self.master) { h in
            let marker = Fingerprinter(key: Self.master.campaignKey("default"))
            var clean: [String] = []
            for i in 0..<6 {
                let r = try await h.send(Self.path(api), Self.body(api, i, stream: stream), headers: ["x-mock-words": "200"])
                #expect(r.status == 200)
                clean.append(try Self.text(r, api: api, stream: stream))
            }
            h.gateway.actions.setOverride(Override(scope: "account", subject: "acct-1", action: "fingerprint", reason: "test",
                                                   actor: "test", at: Date()))
            var changed = 0
            for i in 0..<6 {
                let r = try await h.send(Self.path(api), Self.body(api, i, stream: stream), headers: ["x-mock-words": "200"])
                #expect(r.status == 200)
                let served = try Self.text(r, api: api, stream: stream)
                let expected = marker.mark(clean[i], prompt: FingerprintPrompt(["", Self.prompt(i)]))
                #expect(served == expected, "served text is the clean text marked with the campaign key")
                if served != clean[i] { changed += 1 }
            }
            #expect(changed > 0, "the mark changed some answers")
            let logged = try await h.logged()
            #expect(logged.filter { $0.countermeasure == "fingerprint" }.count == 6)
            #expect(logged.filter { $0.countermeasure == nil }.count == 6)
        }
    }

    @Test func withheldAndFingerprintedTogetherAreRecordedAsBoth() async throws {
        try await GatewayHarness.with(fingerprintKey: Self.master) { h in
            h.gateway.actions.setOverride(Override(scope: "account", subject: "acct-1", action: "withhold_reasoning+fingerprint",
                                                   reason: "test", actor: "test", at: Date()))
            let r = try await h.send("/v1/messages", GatewayHarness.anthropicThinking)
            let blocks = try #require(r.json?["content"] as? [[String: Any]])
            #expect(!blocks.contains { $0["type"] as? String == "thinking" })
            let s = try await h.send("/v1/messages", GatewayHarness.anthropicThinkingStream)
            #expect(!s.body.contains("thinking_delta"))
            #expect(s.body.contains("message_stop"))
            let logged = try await h.logged()
            #expect(logged.count == 2)
            #expect(logged.allSatisfy { $0.countermeasure == "withhold_reasoning+fingerprint" })
        }
    }

    @Test func scoringWhatAFingerprintedAccountReceivedFindsTheCampaignKeyAndNotAnother() async throws {
        try await GatewayHarness.with(fingerprintKey: Self.master) { h in
            h.gateway.actions.setOverride(Override(scope: "account", subject: "acct-1", action: "fingerprint", reason: "test",
                                                   actor: "test", at: Date()))
            var scorer = ProvenanceScorer()
            // Only the units the marker acts on (the test also reads protected text, which it leaves alone).
            var acted = ProvenanceScorer(scoresProtected: false)
            for i in 0..<40 {
                let r = try await h.send(Self.path("openai"), Self.body("openai", i, stream: i % 2 == 0), headers: ["x-mock-words": "200"])
                let text = try Self.text(r, api: "openai", stream: i % 2 == 0)
                scorer.add(text, prompt: FingerprintPrompt(["", Self.prompt(i)]))
                acted.add(text, prompt: FingerprintPrompt(["", Self.prompt(i)]))
            }
            let right = scorer.score(key: Self.master.campaignKey("default"))
            let wrong = scorer.score(key: Self.master.campaignKey("c-other"))
            let marked = acted.score(key: Self.master.campaignKey("default"))
            #expect(right.units >= 20)
            #expect(marked.units >= 20)
            #expect(marked.green == marked.units, "every unit the marker acts on follows the key")
            #expect(right.pValue < 1e-6)
            #expect(wrong.pValue > 1e-3)
        }
    }

    @Test func fingerprintNeedsAMasterKey() async throws {
        // Without a key, a policy that fingerprints is refused at start.
        var config = GatewayConfig()
        config.fingerprint.keyEnv = "MOAT_TEST_UNSET_FINGERPRINT_KEY_\(UInt32.random(in: 0...UInt32.max))"
        config.policy.suspicious = .withholdReasoningAndFingerprint
        let store = try MoatStore.temporary()
        #expect(throws: ConfigError.self) { _ = try Gateway(config: config, store: store) }
        // An override that fingerprints is refused by the admin API.
        try await GatewayAdminTests.withAdmin { _, admin in
            let r = try await admin.call(.POST, "/admin/overrides", #"{"scope":"account","subject":"acct-1","action":"fingerprint"}"#)
            #expect(r.status == 400)
            #expect(r.body.contains("master key"))
        }
    }

    @Test func fingerprintAndKeepServingIsAPerCampaignChoiceWithExpiryAndAudit() async throws {
        try await GatewayHarness.with(fingerprintKey: Self.master) { h in
            try await h.gateway.adminApplication().test(.live) { client in
                let admin = GatewayAdminTests.Admin(port: try requireNonNil(client.port), token: "admin-token")
                // A campaign member whose policy action is block.
                h.gateway.actions.set("acct-1", ActionTable.Entry(action: .block, verdict: "campaign", campaign: "c-0007", score: 0.99,
                                                                   since: Date(), reasons: ["test"], pendingReview: false))
                #expect(try await h.send("/v1/chat/completions", GatewayHarness.openAIBody).status == 403)
                #expect(try await admin.call(.PUT, "/admin/campaign-choices/c-0007", #"{"action":"fingerprint"}"#).status == 400,
                        "a choice always has an expiry")
                let set = try await admin.call(.PUT, "/admin/campaign-choices/c-0007",
                                               #"{"action":"fingerprint","expires_in_hours":48,"reason":"keep them harvesting marked answers"}"#)
                #expect(set.status == 200)
                let keyID = Self.master.campaignKey("c-0007").id
                #expect(set.json?["key_id"] as? String == keyID)
                #expect(!set.body.contains(Self.master.campaignKey("c-0007").hex), "the key itself never leaves")
                let served = try await h.send("/v1/chat/completions", GatewayHarness.openAIBody)
                #expect(served.status == 200)
                #expect(h.gateway.actions.action(account: "acct-1", org: nil, key: "k") == .fingerprint)
                let audit = try h.store.audit(limit: 100, subject: "campaign:c-0007")
                #expect(audit.contains { $0.action == "campaign-fingerprint" && $0.reasons.contains { $0.contains(keyID) && $0.contains("until") } })
                let logged = try await h.logged()
                #expect(logged.last?.countermeasure == "fingerprint")
                // Removed (or expired): the policy's block applies again.
                #expect(try await admin.call(.DELETE, "/admin/campaign-choices/c-0007").status == 204)
                #expect(try await h.send("/v1/chat/completions", GatewayHarness.openAIBody).status == 403)
                let expired = CampaignChoice(campaign: "c-0007", action: "fingerprint", until: Date().addingTimeInterval(-1))
                h.gateway.actions.setCampaignChoice(expired)
                #expect(h.gateway.actions.action(account: "acct-1", org: nil, key: "k") == .block)
                // The choice survives a restart: it is in the store.
                try h.store.setCampaignChoice(CampaignChoice(campaign: "c-0008", action: "fingerprint", until: Date().addingTimeInterval(60)))
                #expect(try h.store.campaignChoices().map(\.campaign).contains("c-0008"))
            }
        }
    }
}
