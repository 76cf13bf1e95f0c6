import Foundation
import MoatCore
import MoatGateway
import MoatIntel
import MoatStore
import Testing

/// Peers' indicators held in the store feed the gateway's live engine.
@Suite("moat serve: peers' indicators in live detection")
struct GatewayPeerIntelTests {
    static let indicator: JSONValue = .object([
        ("type", "indicator"), ("spec_version", "2.1"), ("id", "indicator--4a9e2c1b-3d5f-4e6a-9b7c-8d0e1f2a3b4c"),
        ("created", "2026-03-01T00:00:00.000Z"), ("modified", "2026-03-01T00:00:00.000Z"),
        ("created_by_ref", "identity--0b6f3c2a-1d4e-4f5a-8b6c-7d8e9f0a1b2c"), ("name", "Network of campaign C-0001"),
        ("pattern", "[ipv4-addr:value ISSUBSET '203.0.113.0/24']"), ("pattern_type", "stix"),
        ("valid_from", "2026-03-01T00:00:00Z"), ("valid_until", "2026-05-01T00:00:00Z"), ("confidence", 80),
    ])

    static func exchange(_ id: String, _ account: String, ip: String) -> Exchange {
        Exchange(id: id, ts: Timestamp(rfc3339: "2026-04-01T00:00:00Z")!, accountID: account, model: "m", inputTokens: 10,
                 outputTokens: 50, prompt: "hi", client: .init(ip: ip))
    }

    @Test func anAccountOnAPeersNetworkGetsThePeersIndicatorAsEvidence() async throws {
        let peers = ReceivedIndicator.indicators(in: [Self.indicator], source: "lab-a collection c1")
        let identities: [String: String] = ["identity--0b6f3c2a-1d4e-4f5a-8b6c-7d8e9f0a1b2c": "Lab A"]
        let named = peers.map { ReceivedIndicator(object: $0.object, source: $0.source, identities: identities)! }
        let gateway = try Gateway(config: GatewayConfig(), store: try MoatStore.temporary(), peerIndicators: named)
        await gateway.enforcer.ingest(Self.exchange("x1", "fresh-1", ip: "203.0.113.7"))
        await gateway.enforcer.ingest(Self.exchange("x2", "customer", ip: "198.51.100.7"))
        let reasons = await gateway.enforcer.explain(accountID: "fresh-1")
        #expect(reasons.contains { $0.contains("Lab A") && $0.contains("network-prefix") && $0.contains("lab-a collection c1") }, "\(reasons)")
        #expect(!(await gateway.enforcer.explain(accountID: "customer")).contains { $0.contains("Lab A") })
        await gateway.shutdown()
    }
}
