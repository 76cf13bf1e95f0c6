import AsyncHTTPClient
import Foundation
import HummingbirdTesting
import MoatCore
import MoatGateway
import MoatStore
import NIOCore
import NIOHTTP1
import Testing

/// The admin API on its own loopback listener, driven by a real HTTP client.
@Suite("moat serve: admin API")
struct GatewayAdminTests {
    struct Admin {
        let port: Int
        let token: String?

        func call(_ method: HTTPMethod, _ path: String, _ body: String? = nil) async throws -> GatewayHarness.Reply {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
            request.method = method
            if let token { request.headers.add(name: "authorization", value: "Bearer \(token)") }
            if let body {
                request.headers.add(name: "content-type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: body))
            }
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 16 << 20)
            var h: [String: String] = [:]
            for (name, value) in response.headers { h[name.lowercased()] = value }
            return GatewayHarness.Reply(status: Int(response.status.code), headers: h, body: String(buffer: bytes))
        }
    }

    /// Runs `body` with the harness's gateway and its admin listener on a loopback port.
    static func withAdmin(accounts: [Account] = [], configure: @escaping (inout GatewayConfig) -> Void = { _ in },
                          _ body: @escaping @Sendable (GatewayHarness, Admin) async throws -> Void) async throws {
        try await GatewayHarness.with(org: "org-a", accounts: accounts, configure: configure) { h in
            try await h.gateway.adminApplication().test(.live) { client in
                try await body(h, Admin(port: try requireNonNil(client.port), token: "admin-token"))
            }
        }
    }

    @Test func everyAdminRouteNeedsTheTokenButMetricsAndHealthDoNot() async throws {
        try await Self.withAdmin { h, admin in
            _ = try await h.send("/v1/messages", GatewayHarness.anthropicBody)
            let anonymous = Admin(port: admin.port, token: nil)
            let wrong = Admin(port: admin.port, token: "admin-tokeX")
            for path in ["/admin/accounts", "/admin/verdicts", "/admin/campaigns", "/admin/report", "/admin/review",
                         "/admin/audit", "/admin/overrides", "/admin/keys"] {
                #expect(try await anonymous.call(.GET, path).status == 401, "\(path) without a token")
                #expect(try await wrong.call(.GET, path).status == 401, "\(path) with a wrong token")
                #expect(try await admin.call(.GET, path).status == 200, "\(path) with the token")
            }
            #expect(try await anonymous.call(.POST, "/admin/keys", #"{"account":"x"}"#).status == 401)
            let metrics = try await anonymous.call(.GET, "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.body.contains(#"moat_requests_total{api="messages",status="200",outcome="served"} 1"#))
            #expect(try await anonymous.call(.GET, "/health").status == 200)
        }
    }

    @Test func keysAreCreatedAndRevokedThroughTheAdminAPI() async throws {
        try await Self.withAdmin { h, admin in
            let created = try await admin.call(.POST, "/admin/keys", #"{"account":"acct-9","org":"org-9","name":"ci"}"#)
            #expect(created.status == 200)
            let id = try #require(created.json?["id"] as? String)
            let secret = try #require(created.json?["secret"] as? String)
            #expect(try await h.send("/v1/messages", GatewayHarness.anthropicBody, key: secret).status == 200)

            let listed = try await admin.call(.GET, "/admin/keys?account=acct-9")
            #expect(listed.body.contains(id))
            #expect(!listed.body.contains(secret), "the secret is shown once, never listed")

            #expect(try await admin.call(.DELETE, "/admin/keys/\(id)").status == 204)
            let refused = try await h.send("/v1/messages", GatewayHarness.anthropicBody, key: secret)
            #expect(refused.status == 401, "a revoked key is refused at once, not after the cache expires")
            #expect((refused.json?["error"] as? [String: Any])?["type"] as? String == "authentication_error")
            #expect(try await admin.call(.DELETE, "/admin/keys/\(id)").status == 204, "revoking twice is harmless")
            #expect(try await admin.call(.DELETE, "/admin/keys/key_nonexistent").status == 404)

            let audit = try await admin.call(.GET, "/admin/audit?subject=key:\(id)")
            #expect(audit.body.contains("key-created") && audit.body.contains("key-revoked"))
        }
    }

    @Test func anOverrideBlocksAndItsRemovalRestoresAccess() async throws {
        try await Self.withAdmin { h, admin in
            let bad = try await admin.call(.POST, "/admin/overrides", #"{"scope":"planet","subject":"x","action":"block"}"#)
            #expect(bad.status == 400)
            #expect(try await admin.call(.POST, "/admin/overrides", #"{"scope":"account","subject":"x","action":"nuke"}"#).status == 400)
            #expect(try await admin.call(.POST, "/admin/overrides", "not json").status == 400)

            let set = try await admin.call(.POST, "/admin/overrides",
                                           #"{"scope":"account","subject":"acct-1","action":"block","reason":"chargeback fraud","actor":"ana"}"#)
            #expect(set.status == 200)
            #expect(try await h.send("/v1/chat/completions", GatewayHarness.openAIBody).status == 403)
            #expect(try await admin.call(.GET, "/admin/overrides").body.contains("chargeback fraud"))
            let detail = try await admin.call(.GET, "/admin/accounts/acct-1")
            #expect(detail.json?["action"] as? String == "block")
            #expect((detail.json?["keys"] as? [String])?.contains(h.key.id) == true)

            // The organisation's allowlist wins over the account's block.
            #expect(try await admin.call(.POST, "/admin/overrides", #"{"scope":"org","subject":"org-a","action":"allow"}"#).status == 200)
            #expect(try await h.send("/v1/chat/completions", GatewayHarness.openAIBody).status == 200)
            #expect(try await admin.call(.DELETE, "/admin/overrides/org/org-a").status == 204)
            #expect(try await h.send("/v1/chat/completions", GatewayHarness.openAIBody).status == 403)

            #expect(try await admin.call(.DELETE, "/admin/overrides/account/acct-1").status == 204)
            #expect(try await h.send("/v1/chat/completions", GatewayHarness.openAIBody).status == 200)
            #expect(try await admin.call(.DELETE, "/admin/overrides/account/acct-1").status == 404)

            let audit = try await admin.call(.GET, "/admin/audit?subject=account:acct-1")
            #expect(audit.body.contains("override-block") && audit.body.contains("override-removed") && audit.body.contains("ana"))
            #expect(try h.store.overrides().isEmpty, "overrides are persisted in the store, and so is their removal")
        }
    }

    @Test func theReviewQueueHoldsAVerdictUntilAnOperatorDecides() async throws {
        try await Self.withAdmin { h, admin in
            h.gateway.actions.set("acct-1", .init(action: .block, verdict: "campaign", campaign: "C-0001", score: 0.7,
                                                  since: Date(), reasons: ["shares a card with 4 accounts"], pendingReview: true))
            let queue = try await admin.call(.GET, "/admin/review")
            #expect(queue.body.contains("acct-1") && queue.body.contains("shares a card"))
            #expect(try await h.send("/v1/messages", GatewayHarness.anthropicBody).status == 200, "not enforced while waiting")
            #expect(try await admin.call(.POST, "/admin/review/acct-1/maybe").status == 400)
            #expect(try await admin.call(.POST, "/admin/review/nobody/approve").status == 404)
            #expect(try await admin.call(.POST, "/admin/review/acct-1/approve").status == 200)
            #expect(try await h.send("/v1/messages", GatewayHarness.anthropicBody).status == 403)
            #expect(try await admin.call(.GET, "/admin/review").body.contains("acct-1") == false)
            #expect(try await admin.call(.POST, "/admin/review/acct-1/approve").status == 404, "decided once")
            let accounts = try await admin.call(.GET, "/admin/accounts")
            #expect(accounts.body.contains("C-0001"))
        }
    }

    @Test func accountsImportedWhileRunningGetTheirTierWithoutARestart() async throws {
        let configure: (inout GatewayConfig) -> Void = { c in
            c.limits.tiers["program"] = LimitsConfig.Tier(account: .init(requestsPerMinute: 1))
            c.limits.assign = [.init(program: "education", verification: nil, tier: "program")]
        }
        try await Self.withAdmin(configure: configure) { h, admin in
            #expect(try await h.send("/v1/messages", GatewayHarness.anthropicBody).status == 200)
            #expect(try await h.send("/v1/messages", GatewayHarness.anthropicBody).status == 200, "unknown account: default tier")
            #expect(try await admin.call(.GET, "/admin/accounts/acct-1").json?["identity"] == nil)
            try h.store.importAccounts([Account(accountID: "acct-1", createdAt: Timestamp(seconds: 1_700_000_000),
                                                orgID: "org-a", emailDomain: "uni.example", verification: "email",
                                                program: "education")])
            #expect(try await h.gateway.syncAccounts() == 1)
            #expect(try await h.gateway.syncAccounts() == 0, "each account is read once")
            let detail = try await admin.call(.GET, "/admin/accounts/acct-1")
            #expect((detail.json?["identity"] as? [String: Any])?["program"] as? String == "education")
            #expect(try await h.send("/v1/messages", GatewayHarness.anthropicBody).status == 200)
            #expect(try await h.send("/v1/messages", GatewayHarness.anthropicBody).status == 429, "the program tier applies now")
        }
    }
}
