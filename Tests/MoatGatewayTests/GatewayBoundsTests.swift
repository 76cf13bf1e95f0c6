import Foundation
import MoatCore
@testable import MoatGateway
import MoatStore
import Testing

/// Memory that client input could grow is bounded, and pressure is pushed back rather than queued.
@Suite("moat serve: bounded memory and backpressure")
struct GatewayBoundsTests {
    @Test func theInvalidKeyCacheKeepsOnlyTheNewestDigests() {
        let cache = KeyCache(negativeCapacity: 100)
        let digests = (0..<1_000).map { KeyDigest(secret: "moat-sk-bogus-\($0)") }
        for d in digests { cache.storeInvalid(d) }
        #expect(cache.counts.invalid == 100)
        guard case .invalid = cache.lookup(digests[999]) else {
            Issue.record("the newest invalid digest is remembered")
            return
        }
        guard case .unknown = cache.lookup(digests[0]) else {
            Issue.record("the oldest was forgotten")
            return
        }
    }

    @Test func keyDigestsRoundTripTheStoresHex() throws {
        let store = try MoatStore.temporary()
        let created = try store.createKey(account: "a")
        let digest = KeyDigest(secret: created.secret)
        #expect(try store.key(sha256Hex: digest.hex)?.id == created.id)
        #expect(KeyDigest(hex: digest.hex) == digest)
    }

    /// A request without a valid key is answered from its head: its body is never read.
    @Test func unauthenticatedBodiesAreNeverRead() async throws {
        try await GatewayHarness.with { h in
            let port = h.port, valid = h.key.secret
            for key in [nil, "moat-sk-unknown-\(UUID().uuidString)", "moat-sk-unknown-again"] as [String?] {
                let r = try await RawClient.onThread {
                    let c = try RawClient(port: port, timeoutSeconds: 20)
                    // Announce 100 MB, send none of it: the answer must come anyway.
                    try c.request(path: "/v1/messages", headers: key.map { [("x-api-key", $0)] } ?? [], body: nil, contentLength: 100_000_000)
                    let r = c.read { _ in false }
                    c.close()
                    return r
                }
                #expect(r.status == 401, "\(key ?? "no key"): \(r.head)")
                #expect(r.closedByServer)
            }
            // A valid key with a body over the limit: 413 from the head as well.
            let r = try await RawClient.onThread {
                let c = try RawClient(port: port, timeoutSeconds: 20)
                try c.request(path: "/v1/messages", headers: [("x-api-key", valid)], body: nil, contentLength: 100_000_000)
                let r = c.read { _ in false }
                c.close()
                return r
            }
            #expect(r.status == 413)
        }
    }

    /// When the store cannot keep up with the journal, new requests are refused (503, retry-after) rather
    /// than queued; they are served again once it has caught up.
    @Test func aLoggingBacklogPushesBack() async throws {
        try await GatewayHarness.with(configure: { $0.log.maxBacklogMB = 0.002 }) { h in
            h.gateway.log.ingester.stop()
            var served = 0
            var refused: GatewayHarness.Reply?
            for i in 0..<100 {
                let r = try await h.send("/v1/messages", GatewayTrustTests.body("backlog \(i)"))
                if r.status == 503 {
                    refused = r
                    break
                }
                #expect(r.status == 200)
                served += 1
                h.gateway.log.updateBacklog()
            }
            let r = try #require(refused, "refused once the backlog passed its bound")
            #expect(served >= 3, "served until the journal held more than the bound (\(served))")
            #expect(r.headers["retry-after"] == "1")
            #expect((r.json?["error"] as? [String: Any]) != nil)
            h.gateway.log.ingester.start()
            #expect(h.gateway.log.ingester.waitUntilIngested())
            h.gateway.log.updateBacklog()
            #expect(try await h.send("/v1/messages", GatewayTrustTests.body("after")).status == 200)
            #expect(try await h.logged().count == served + 1)
        }
    }

    /// Live detection reads the journal: a burst is never dropped, only delayed (the lag gauge).
    @Test func detectionGetsEveryExchangeOfABurst() async throws {
        try await GatewayHarness.with { h in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<120 {
                    group.addTask { try await h.send("/v1/chat/completions", #"{"model":"m","messages":[{"role":"user","content":"burst \#(i)"}]}"#).status }
                }
                for try await status in group { #expect(status == 200) }
            }
            _ = try await h.logged()
            #expect(await h.gateway.enforcer.ingestedFromJournal == 120)
            let metrics = String(decoding: h.gateway.metrics.render(), as: UTF8.self)
            #expect(metrics.contains("moat_detection_lag_exchanges 0"))
            #expect(metrics.contains("moat_exchanges_detected_total 120"))
        }
    }
}
