import Foundation
import MoatCore
import MoatGateway
import Testing

/// What clients say about themselves (forwarded-for, enrichment, event time) counts only from the
/// configured trusted proxies, and event times only in replay mode.
@Suite("moat serve: trust boundaries")
struct GatewayTrustTests {
    static let claims = [
        "x-forwarded-for": "203.0.113.9", "x-client-asn": "7922", "x-client-asn-org": "Comcast Cable",
        "x-client-country": "US", "x-ja4": "t13d1516h2_8daaf6152771_02713d6af862",
    ]

    static func enrichment(_ c: inout GatewayConfig) {
        c.asnHeader = "x-client-asn"
        c.asnOrgHeader = "x-client-asn-org"
        c.countryHeader = "x-client-country"
        c.tlsFingerprintHeader = "x-ja4"
    }

    /// A client claiming a residential ASN (and another address, country and TLS fingerprint) from an
    /// address that is not a trusted proxy changes nothing in what is logged and detected.
    @Test func aResidentialClaimFromAnUntrustedAddressChangesNothing() async throws {
        try await GatewayHarness.with(configure: { c in
            Self.enrichment(&c)
            c.trustedProxies = ["10.0.0.0/8"]  // the test client (127.0.0.1) is not one of them
        }) { h in
            let plain = try await h.send("/v1/messages", Self.body("plain"))
            let claiming = try await h.send("/v1/messages", Self.body("claiming"), headers: Self.claims)
            #expect(plain.status == 200 && claiming.status == 200)
            let a = try #require(try await h.logged(prompt: "plain"))
            let b = try #require(try await h.logged(prompt: "claiming"))
            #expect(a.client == b.client)
            #expect(b.client.ip == "127.0.0.1")
            #expect(b.client.asn == nil && b.client.asnOrg == nil && b.client.country == nil && b.client.tlsFingerprint == nil)
        }
    }

    @Test func fromATrustedProxyForwardedForIsReadRightToLeft() async throws {
        try await GatewayHarness.with(configure: { c in
            Self.enrichment(&c)
            c.trustedProxies = ["127.0.0.1/32", "10.0.0.0/8"]
        }) { h in
            var claims = Self.claims
            // The leftmost entry is whatever the client wrote; the first untrusted hop from the right is the client.
            claims["x-forwarded-for"] = "1.1.1.1, unknown, 198.51.100.7, 10.1.2.3"
            _ = try await h.send("/v1/messages", Self.body("chain"), headers: claims)
            let e = try #require(try await h.logged(prompt: "chain"))
            #expect(e.client.ip == "198.51.100.7")
            #expect(e.client.asn == 7922)
            #expect(e.client.asnOrg == "Comcast Cable")
            #expect(e.client.country == "US")
            #expect(e.client.tlsFingerprint == Self.claims["x-ja4"])

            claims["x-forwarded-for"] = "not-an-address, [2001:db8::7]:443"
            _ = try await h.send("/v1/messages", Self.body("v6"), headers: claims)
            #expect(try await h.logged(prompt: "v6")?.client.ip == "2001:db8::7")
        }
    }

    @Test func outsideReplayModeARequestWithAnEventTimeIsRefusedWithTheAPIsNative400AndNotLogged() async throws {
        try await GatewayHarness.with { h in
            let claim = ["x-moat-event-time": "2026-04-01T00:00:00Z"]
            let anthropic = try await h.send("/v1/messages", Self.body("dated anthropic"), headers: claim)
            #expect(anthropic.status == 400)
            let a = try #require(anthropic.json)
            #expect(a["type"] as? String == "error")
            let aError = try #require(a["error"] as? [String: Any])
            #expect(aError["type"] as? String == "invalid_request_error")
            #expect((aError["message"] as? String)?.contains("x-moat-event-time") == true)

            let openAI = try await h.send("/v1/chat/completions", Self.body("dated openai"), headers: ["X-Moat-Event-Time": "yesterday"])
            #expect(openAI.status == 400, "whatever the value, and whatever the header name's case")
            let oError = try #require(openAI.json?["error"] as? [String: Any])
            #expect(oError["type"] as? String == "invalid_request_error")
            #expect((oError["message"] as? String)?.contains("replay mode") == true)
            #expect(oError.keys.contains("code") && oError.keys.contains("param"))

            // The same requests without the header are served, and only they are logged (at their arrival).
            #expect(try await h.send("/v1/messages", Self.body("undated")).status == 200)
            let logged = try await h.logged()
            #expect(logged.map(\.prompt) == ["undated"])
            #expect(abs(try #require(logged.first).ts.seconds - Date().timeIntervalSince1970) < 60)
        }
    }

    @Test func replayModeRefusesAnEventTimeThatIsNotRFC3339AndClampsToAConfiguredWindow() async throws {
        try await GatewayHarness.with(configure: { c in
            c.replay = .init(eventTimeHeader: "x-replay-ts")
            c.replay?.maxAgeDays = 10
            c.replay?.maxFutureSeconds = 0
        }) { h in
            let bad = try await h.send("/v1/chat/completions", Self.body("garbled"), headers: ["x-replay-ts": "last tuesday"])
            #expect(bad.status == 400)
            #expect(((bad.json?["error"] as? [String: Any])?["message"] as? String)?.contains("RFC 3339") == true)
            let now = Date().timeIntervalSince1970
            let inside = Timestamp(seconds: (now - 9 * 86_400).rounded())
            _ = try await h.send("/v1/messages", Self.body("inside"), headers: ["x-replay-ts": inside.rfc3339])
            _ = try await h.send("/v1/messages", Self.body("too old"), headers: ["x-replay-ts": Timestamp(seconds: now - 11 * 86_400).rfc3339])
            _ = try await h.send("/v1/messages", Self.body("ahead"), headers: ["x-replay-ts": Timestamp(seconds: now + 3_600).rfc3339])
            #expect(try await h.logged(prompt: "inside")?.ts == inside)
            let old = try #require(try await h.logged(prompt: "too old")).ts.seconds
            #expect(abs(old - (now - 10 * 86_400)) < 60, "clamped to max_age_days = 10")
            let ahead = try #require(try await h.logged(prompt: "ahead")).ts.seconds
            #expect(abs(ahead - now) < 60, "clamped to max_future_seconds = 0")
            #expect(try await h.logged(prompt: "garbled") == nil)
        }
    }

    @Test func replayModeTakesEventTimesWithinItsWindow() async throws {
        try await GatewayHarness.with(configure: { $0.replay = .init(eventTimeHeader: "x-moat-event-time") }) { h in
            let now = Date().timeIntervalSince1970
            let recent = Timestamp(seconds: (now - 30 * 86_400).rounded())
            _ = try await h.send("/v1/messages", Self.body("recent"), headers: ["x-moat-event-time": recent.rfc3339])
            _ = try await h.send("/v1/messages", Self.body("ancient"), headers: ["x-moat-event-time": "2001-01-01T00:00:00Z"])
            _ = try await h.send("/v1/messages", Self.body("future"), headers: ["x-moat-event-time": "2099-01-01T00:00:00Z"])
            #expect(try await h.logged(prompt: "recent")?.ts == recent)
            let ancient = try #require(try await h.logged(prompt: "ancient")).ts.seconds
            #expect(abs(ancient - (now - 400 * 86_400)) < 60, "clamped to max_age_days")
            let future = try #require(try await h.logged(prompt: "future")).ts.seconds
            #expect(abs(future - (now + 300)) < 60, "clamped to max_future_seconds")
        }
    }

    @Test func retiredKeysAreRefusedWithWhatReplacedThem() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moat-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let a = dir.appendingPathComponent("a.yaml").path, b = dir.appendingPathComponent("b.yaml").path
        try "trust_forwarded_for: true\n".write(toFile: a, atomically: true, encoding: .utf8)
        try "event_time_header: x-moat-event-time\n".write(toFile: b, atomically: true, encoding: .utf8)
        #expect(Self.loadError(a)?.contains("trusted_proxies") == true, "\(Self.loadError(a) ?? "loaded")")
        #expect(Self.loadError(b)?.contains("replay") == true, "\(Self.loadError(b) ?? "loaded")")
        let c = dir.appendingPathComponent("c.yaml").path
        try "trusted_proxies: [10.0.0.0/33]\n".write(toFile: c, atomically: true, encoding: .utf8)
        #expect(Self.loadError(c)?.contains("trusted_proxies[0]") == true, "\(Self.loadError(c) ?? "loaded")")
    }

    @Test func forwardedForParsing() {
        let trusted = TrustedProxies(config: ["10.0.0.0/8", "192.168.0.0/16", "::1/128", "fd00::/8"])
        let peer = IPAddress("10.0.0.1")
        #expect(trusted.clientAddress(peer: peer, forwardedFor: ["203.0.113.5"])?.description == "203.0.113.5")
        #expect(trusted.clientAddress(peer: peer, forwardedFor: ["203.0.113.5, 192.168.1.1"])?.description == "203.0.113.5")
        #expect(trusted.clientAddress(peer: peer, forwardedFor: ["6.6.6.6", "203.0.113.5, 10.9.9.9"])?.description == "203.0.113.5",
                "repeated headers are one list, in order")
        #expect(trusted.clientAddress(peer: peer, forwardedFor: ["_hidden, unknown"])?.description == "10.0.0.1",
                "no address: the peer")
        #expect(trusted.clientAddress(peer: peer, forwardedFor: ["10.2.2.2, 192.168.3.3"])?.description == "10.2.2.2",
                "all trusted: the leftmost")
        #expect(trusted.clientAddress(peer: peer, forwardedFor: ["203.0.113.5:8443"])?.description == "203.0.113.5")
        #expect(trusted.clientAddress(peer: IPAddress("8.8.8.8"), forwardedFor: ["203.0.113.5"])?.description == "8.8.8.8",
                "an untrusted peer's header is ignored")
        #expect(trusted.clientAddress(peer: IPAddress("::ffff:10.0.0.7"), forwardedFor: ["2001:db8::1"])?.description == "2001:db8::1",
                "IPv4-mapped peers are IPv4")
        #expect(IPAddress("999.1.1.1") == nil)
        #expect(IPAddress("1.2.3") == nil)
        #expect(IPAddress("example.com") == nil)
        #expect(CIDR("10.0.0.0/8")?.contains(IPAddress("10.255.0.1")!) == true)
        #expect(CIDR("10.0.0.0/8")?.contains(IPAddress("11.0.0.1")!) == false)
        #expect(CIDR("fd00::/8")?.contains(IPAddress("fd12::1")!) == true)
        #expect(CIDR("0.0.0.0/0")?.contains(IPAddress("1.2.3.4")!) == true)
        #expect(CIDR("10.0.0.0/8")?.contains(IPAddress("::1")!) == false)
        #expect(CIDR("1.2.3.4/40") == nil)
    }

    static func loadError(_ path: String) -> String? {
        do {
            _ = try GatewayConfig.load(path: path)
            return nil
        } catch {
            return "\(error)"
        }
    }

    static func body(_ prompt: String) -> String {
        #"{"model":"m","max_tokens":32,"messages":[{"role":"user","content":"\#(prompt)"}]}"#
    }
}
