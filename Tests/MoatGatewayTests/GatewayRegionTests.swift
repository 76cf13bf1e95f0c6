import Foundation
import MoatCore
import MoatGateway
import Testing

/// Regional access controls: deny or limit by billing country and by client-address country (the latter
/// believed only from trusted proxies).
@Suite("moat serve: regional access controls")
struct GatewayRegionTests {
    static let billedInKP = [Account(accountID: "acct-1", orgID: "org-a", country: "KP")]
    static let billedInFR = [Account(accountID: "acct-1", orgID: "org-a", country: "FR")]

    @Test func aDeniedBillingCountryGetsTheNativeErrorAnAuditEntryAndAMetric() async throws {
        try await GatewayAdminTests.withAdmin(accounts: Self.billedInKP, configure: { c in
            c.regions.denyBillingCountries = ["kp"]
        }) { h, admin in
            let anthropic = try await h.send("/v1/messages", GatewayHarness.anthropicBody)
            #expect(anthropic.status == 403)
            let error = try #require(anthropic.json?["error"] as? [String: Any])
            #expect(error["type"] as? String == "permission_error")
            #expect((error["message"] as? String)?.contains("billed in KP") == true)
            let openAI = try await h.send("/v1/chat/completions", GatewayHarness.openAIBody)
            #expect(openAI.status == 403)
            #expect((openAI.json?["error"] as? [String: Any])?["code"] as? String == "access_denied")
            #expect(try await h.logged().isEmpty, "a denied request reaches neither the upstream nor the log")

            let metrics = try await admin.call(.GET, "/metrics").body
            #expect(metrics.contains(#"moat_region_denials_total{basis="billing",country="KP"} 2"#), "\(metrics)")
            // Audited once per account, basis and country a minute (not once per request).
            var audit = try await admin.call(.GET, "/admin/audit?subject=account:acct-1")
            let deadline = ContinuousClock.now + .seconds(5)
            while !audit.body.contains("region-denied"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                audit = try await admin.call(.GET, "/admin/audit?subject=account:acct-1")
            }
            #expect(audit.body.contains("region-denied"))
            #expect(audit.body.contains("billing country KP"))
            #expect(audit.body.components(separatedBy: "region-denied").count == 2, "one entry: \(audit.body)")
        }
    }

    @Test func anAllowedBillingCountryIsServed() async throws {
        try await GatewayHarness.with(org: "org-a", accounts: Self.billedInFR, configure: { c in
            c.regions.denyBillingCountries = ["KP"]
        }) { h in
            let reply = try await h.send("/v1/messages", GatewayHarness.anthropicBody)
            #expect(reply.status == 200)
        }
    }

    @Test func aDeniedClientCountryFromATrustedProxyIsRefused() async throws {
        try await GatewayHarness.with(org: "org-a", accounts: Self.billedInFR, configure: { c in
            c.trustedProxies = ["127.0.0.1/32"]
            c.countryHeader = "x-client-country"
            c.regions.denyClientCountries = ["KP"]
        }) { h in
            let denied = try await h.send("/v1/messages", GatewayHarness.anthropicBody, headers: ["x-client-country": "KP"])
            #expect(denied.status == 403)
            #expect(((denied.json?["error"] as? [String: Any])?["message"] as? String)?.contains("from KP") == true)
            #expect(try await h.send("/v1/messages", GatewayHarness.anthropicBody, headers: ["x-client-country": "FR"]).status == 200)
        }
    }

    @Test func aClientCountryHeaderFromAnUntrustedPeerIsIgnored() async throws {
        try await GatewayHarness.with(org: "org-a", accounts: Self.billedInFR, configure: { c in
            c.trustedProxies = ["10.0.0.0/8"]
            c.countryHeader = "x-client-country"
            c.regions.denyClientCountries = ["KP"]
        }) { h in
            // Anyone can write the header; only a trusted proxy's is believed.
            let reply = try await h.send("/v1/messages", GatewayHarness.anthropicBody, headers: ["x-client-country": "KP"])
            #expect(reply.status == 200)
        }
    }

    @Test func aLimitedCountryIsHeldToItsTier() async throws {
        try await GatewayHarness.with(org: "org-a", accounts: Self.billedInFR, configure: { c in
            c.limits.tiers["standard"] = .init(account: .init(requestsPerMinute: 1_000))
            c.limits.tiers["regional"] = .init(account: .init(requestsPerMinute: 2))
            c.regions.limitBillingCountries = ["FR": "regional"]
        }) { h in
            var statuses: [Int] = []
            for _ in 0..<4 { statuses.append(try await h.send("/v1/messages", GatewayHarness.anthropicBody).status) }
            #expect(statuses == [200, 200, 429, 429])
        }
    }

    @Test func regionRulesAreValidated() throws {
        var c = GatewayConfig()
        c.regions.denyBillingCountries = ["France"]
        #expect(throws: ConfigError.self) { try c.validate() }
        c = GatewayConfig()
        c.regions.limitBillingCountries = ["FR": "no-such-tier"]
        #expect(throws: ConfigError.self) { try c.validate() }
        c = GatewayConfig()
        c.countryHeader = nil
        c.regions.denyClientCountries = ["KP"]
        #expect(throws: ConfigError.self) { try c.validate() }
    }
}
