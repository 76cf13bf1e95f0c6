import Foundation
import Hummingbird
import HummingbirdTesting
import MoatCore
import MoatIntel
import MoatStore
@testable import MoatTAXII
import Testing

/// Moat's own TAXII client (`moat intel push` and `pull`) against the server on a real loopback port.
@Suite("taxii: push and pull over a loopback port")
struct TAXIIClientTests {
    @Test func pushThenPullEveryPageAndResumeAfterTheLast() async throws {
        let h = try TAXIIHarness()
        try await h.server.application(host: "127.0.0.1", port: 0).test(.live) { client in
            let url = "http://127.0.0.1:\(try #require(client.port))/taxii2/"
            let publisher = TAXIIClient(credentials: .bearer(TAXIIHarness.publisher))
            let root = try await publisher.apiRoot(for: url)
            #expect(root.hasSuffix("/api1/"))
            let objects = (0..<57).map { TAXIIHarness.object("indicator", "i\($0)", tlp: .green) }
            let status = try await publisher.push(apiRoot: root, collection: "shared-amber",
                                                  objects: objects + [TAXIIHarness.object("indicator", "red", tlp: .red)])
            #expect(status["success_count"]?.int == 57)
            #expect(status["failure_count"]?.int == 1)

            let labC = TAXIIClient(credentials: .basic(username: "lab-c", password: TAXIIHarness.labCPassword))
            let pulled = try await labC.pull(apiRoot: root, collection: "shared-amber", pageSize: 10)
            #expect(pulled.pages == 6)
            #expect(Set(pulled.objects.compactMap { $0["id"]?.string }) == Set(objects.compactMap { $0["id"]?.string }))
            let last = try #require(pulled.lastDateAdded)
            let again = try await labC.pull(apiRoot: root, collection: "shared-amber", addedAfter: last, pageSize: 10)
            #expect(again.objects.isEmpty)

            // Stored as lab B would: source, TLP, confidence-less indicators, validity.
            let store = try MoatStore.temporary()
            let now = STIXTime.micros("2026-04-02T00:00:00Z")! / 1000
            let outcome = try IntelImport.store(pulled.objects, source: "\(root) collection shared-amber", into: store, nowMs: now)
            #expect(outcome.indicators == 57 && outcome.added == 57)
            let held = try IntelImport.load(from: store, nowMs: now)
            #expect(held.count == 57 && held.allSatisfy { $0.tlp == .green && $0.source.hasSuffix("shared-amber") && $0.parsed != nil })

            await #expect(throws: IntelError.self) {
                _ = try await TAXIIClient(credentials: .bearer("not-a-peer-token-000")).pull(apiRoot: root, collection: "shared-amber")
            }
            await #expect(throws: IntelError.self) {
                _ = try await labC.pull(apiRoot: root, collection: "lab-b-only")
            }
        }
    }

    @Test func receivedIndicatorsAreReplacedByNewerVersionsAndExpire() throws {
        let store = try MoatStore.temporary()
        func indicator(_ modified: String, until: String) -> JSONValue {
            TAXIIHarness.object("indicator", "x", tlp: .amber, modified: modified).setting("valid_until", .string(until))
        }
        let t = STIXTime.micros("2026-04-02T00:00:00Z")! / 1000
        var o = try IntelImport.store([indicator("2026-04-01T00:00:00.000Z", until: "2026-05-01T00:00:00Z")], source: "peer", into: store, nowMs: t)
        #expect(o.added == 1)
        o = try IntelImport.store([indicator("2026-04-03T00:00:00.000Z", until: "2026-06-01T00:00:00Z")], source: "peer", into: store, nowMs: t)
        #expect(o.updated == 1)
        o = try IntelImport.store([indicator("2026-04-02T00:00:00.000Z", until: "2026-07-01T00:00:00Z")], source: "peer", into: store, nowMs: t)
        #expect(o.added == 0 && o.updated == 0, "an older version does not replace a newer one")
        #expect(try IntelImport.load(from: store, nowMs: t).first?.version == "2026-04-03T00:00:00.000Z")
        let later = STIXTime.micros("2026-06-02T00:00:00Z")! / 1000
        #expect(try IntelImport.load(from: store, nowMs: later).isEmpty, "expired indicators are not used")
        #expect(try store.purgeExpiredIndicators(beforeMs: later) == 1)
        #expect(try store.receivedIndicators(validAtMs: nil).isEmpty)
    }
}
