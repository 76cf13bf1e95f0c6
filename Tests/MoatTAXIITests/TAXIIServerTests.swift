import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MoatIntel
import MoatStore
@testable import MoatTAXII
import NIOCore
import Testing

/// A server with three peers and three collections of different audiences, over a fresh store.
struct TAXIIHarness {
    static let labB = "lab-b-token-0123456789"
    static let publisher = "publisher-token-0123456789"
    static let labCPassword = "lab-c-password-0123"

    static var config: IntelConfig {
        IntelConfig(
            organisation: Producer(name: "Lab A"),
            trustGroups: [.init(id: "frontier", members: ["lab-b", "lab-c"])],
            peers: [
                .init(id: "lab-b", auth: .bearer, secret: .init(value: labB)),
                .init(id: "lab-c", auth: .basic, secret: .init(value: labCPassword), username: "lab-c"),
                .init(id: "us", auth: .bearer, secret: .init(value: publisher)),
            ],
            collections: [
                .init(id: "shared-amber", title: "Frontier labs", read: ["frontier", "us"], write: ["us"], tlpMax: .amber),
                .init(id: "lab-b-only", title: "For lab B", read: ["lab-b"], write: ["us"], tlpMax: .red),
                .init(id: "public", title: "Public", read: ["everyone"], write: ["us"], tlpMax: .clear),
            ])
    }

    let store: MoatStore
    let server: TAXIIServer

    init(store: MoatStore? = nil, configure: (inout IntelConfig) -> Void = { _ in }) throws {
        var c = Self.config
        configure(&c)
        let resolved = try ResolvedIntelConfig.resolve(c, environment: [:]) { _ in nil }
        self.store = try store ?? MoatStore.temporary()
        server = TAXIIServer(config: resolved, storage: self.store)
    }

    static func auth(_ who: String?) -> HTTPFields {
        var h: HTTPFields = [.accept: "application/taxii+json;version=2.1"]
        switch who {
        case "lab-b": h[.authorization] = "Bearer " + labB
        case "us": h[.authorization] = "Bearer " + publisher
        case "lab-c": h[.authorization] = "Basic " + Data("lab-c:\(labCPassword)".utf8).base64EncodedString()
        default: break
        }
        return h
    }

    static func object(_ type: String, _ seed: String, tlp: TLP?, modified: String = "2026-04-01T00:00:00.000Z") -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("type", .string(type)), ("spec_version", "2.1"), ("id", .string(STIXIdentifier.make(type, seed: seed))),
            ("created", "2026-04-01T00:00:00.000Z"), ("modified", .string(modified)), ("name", .string(seed)),
        ]
        if type == "indicator" {
            members += [("pattern", "[autonomous-system:number = 64500]"), ("pattern_type", "stix"), ("valid_from", "2026-04-01T00:00:00Z")]
        }
        if let tlp { members.append(("object_marking_refs", [.string(tlp.markingDefinitionID)])) }
        return .object(members)
    }

    static func envelope(_ objects: [JSONValue]) -> ByteBuffer { ByteBuffer(bytes: JSONValue.object([("objects", .array(objects))]).serialized()) }

    static func json(_ r: TestResponse) throws -> JSONValue { try JSONValue.parse(Array(buffer: r.body)) }
}

@Suite("taxii: the TAXII 2.1 server")
struct TAXIIServerTests {
    let h: TAXIIHarness

    init() throws { h = try TAXIIHarness() }

    func app() -> some ApplicationProtocol { Application(router: h.server.router()) }

    func post(_ client: some TestClientProtocol, _ collection: String, _ objects: [JSONValue], as who: String = "us") async throws -> JSONValue {
        var headers = TAXIIHarness.auth(who)
        headers[.contentType] = "application/taxii+json;version=2.1"
        return try await client.execute(uri: "/api1/collections/\(collection)/objects/", method: .post, headers: headers,
                                        body: TAXIIHarness.envelope(objects)) { r in
            #expect(r.status == .accepted)
            return try TAXIIHarness.json(r)
        }
    }

    @Test func wrongAcceptIs406AndWrongContentTypeIs415() async throws {
        try await app().test(.router) { client in
            for accept in [nil, "application/json", "*/*", "application/taxii+json;version=2.0", "application/stix+json;version=2.1"] {
                var headers = TAXIIHarness.auth("lab-b")
                headers[.accept] = accept
                try await client.execute(uri: "/taxii2/", method: .get, headers: headers) { r in
                    #expect(r.status == .notAcceptable, "Accept: \(accept ?? "(none)")")
                    #expect(r.headers[.contentType] == "application/taxii+json;version=2.1")
                    let json1 = try TAXIIHarness.json(r)
                    #expect(json1["http_status"]?.string == "406")
                }
            }
            for accept in ["application/taxii+json;version=2.1", "application/taxii+json", "text/html, application/taxii+json; version=2.1"] {
                var headers = TAXIIHarness.auth("lab-b")
                headers[.accept] = accept
                try await client.execute(uri: "/taxii2/", method: .get, headers: headers) { r in #expect(r.status == .ok, "\(accept)") }
            }
            for contentType in [nil, "application/json", "application/stix+json;version=2.1", "application/taxii+json;version=2.0"] {
                var headers = TAXIIHarness.auth("us")
                if let contentType { headers[.contentType] = contentType }
                try await client.execute(uri: "/api1/collections/shared-amber/objects/", method: .post, headers: headers,
                                         body: TAXIIHarness.envelope([])) { r in
                    #expect(r.status == .unsupportedMediaType, "Content-Type: \(contentType ?? "(none)")")
                }
            }
        }
    }

    @Test func peersAuthenticateAndSeeOnlyTheirCollections() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/api1/collections/shared-amber/objects/", method: .get, headers: TAXIIHarness.auth(nil)) { r in
                #expect(r.status == .unauthorized)
            }
            var wrong = TAXIIHarness.auth(nil)
            wrong[.authorization] = "Bearer lab-b-token-0123456780"
            try await client.execute(uri: "/api1/collections/", method: .get, headers: wrong) { r in #expect(r.status == .unauthorized) }
            var token = TAXIIHarness.auth(nil)
            token[.authorization] = "Token " + TAXIIHarness.labB
            try await client.execute(uri: "/api1/collections/", method: .get, headers: token) { r in #expect(r.status == .ok) }

            func visible(_ who: String?) async throws -> [String: (Bool, Bool)] {
                try await client.execute(uri: "/api1/collections/", method: .get, headers: TAXIIHarness.auth(who)) { r in
                    #expect(r.status == .ok)
                    var out: [String: (Bool, Bool)] = [:]
                    for c in try TAXIIHarness.json(r)["collections"]?.array ?? [] {
                        out[c["id"]!.string!] = (c["can_read"]!.bool!, c["can_write"]!.bool!)
                    }
                    return out
                }
            }
            let b = try await visible("lab-b")
            #expect(Set(b.keys) == ["shared-amber", "lab-b-only", "public"])
            #expect(b["shared-amber"]! == (true, false))
            let c = try await visible("lab-c")
            #expect(Set(c.keys) == ["shared-amber", "public"])
            let us = try await visible("us")
            #expect(us["lab-b-only"]! == (false, true))
            let anyone = try await visible(nil)
            #expect(Set(anyone.keys) == ["public"])
            try await client.execute(uri: "/api1/collections/lab-b-only/objects/", method: .get, headers: TAXIIHarness.auth("lab-c")) { r in
                #expect(r.status == .forbidden)
            }
            try await client.execute(uri: "/api1/collections/nope/", method: .get, headers: TAXIIHarness.auth("lab-b")) { r in
                #expect(r.status == .notFound)
            }
        }
    }

    @Test func objectsAboveACollectionsTLPAreRefusedWithTheReason() async throws {
        try await app().test(.router) { client in
            let objects = [TAXIIHarness.object("indicator", "green", tlp: .green), TAXIIHarness.object("indicator", "amber", tlp: .amber),
                           TAXIIHarness.object("indicator", "strict", tlp: .amberStrict), TAXIIHarness.object("indicator", "red", tlp: .red),
                           TAXIIHarness.object("indicator", "unmarked", tlp: nil), TAXIIHarness.object("indicator", "bad", tlp: .clear).setting("id", "x"),
                           TLP.clear.markingDefinition]
            let status = try await post(client, "shared-amber", objects)
            #expect(status["status"]?.string == "complete")
            #expect(status["total_count"]?.int == 7)
            #expect(status["success_count"]?.int == 4, "green, amber, unmarked (as amber) and the marking definition")
            #expect(status["failure_count"]?.int == 3)
            let reasons = (status["failures"]?.array ?? []).compactMap { $0["message"]?.string }
            #expect(reasons.filter { $0.contains("above this collection's TLP:AMBER") }.count == 2)
            let id = try #require(status["id"]?.string)
            try await client.execute(uri: "/api1/status/\(id)/", method: .get, headers: TAXIIHarness.auth("us")) { r in
                #expect(r.status == .ok)
                let json2 = try TAXIIHarness.json(r)
                #expect(json2["success_count"]?.int == 4)
            }
            try await client.execute(uri: "/api1/status/\(id)/", method: .get, headers: TAXIIHarness.auth("lab-b")) { r in
                #expect(r.status == .notFound, "a status is its requester's")
            }
            // RED goes to the collection whose audience is one named peer.
            #expect(try await post(client, "lab-b-only", [TAXIIHarness.object("indicator", "red", tlp: .red)])["success_count"]?.int == 1)
            #expect(try await post(client, "public", [TAXIIHarness.object("indicator", "g", tlp: .green)])["failure_count"]?.int == 1)
            try await client.execute(uri: "/api1/collections/shared-amber/objects/", method: .post,
                                     headers: { var x = TAXIIHarness.auth("lab-b"); x[.contentType] = "application/taxii+json;version=2.1"; return x }(),
                                     body: TAXIIHarness.envelope([])) { r in #expect(r.status == .forbidden, "lab-b may only read") }
        }
    }

    @Test func nothingAboveTheCollectionsTLPIsServedEvenIfStored() async throws {
        // As if written under an older, laxer configuration.
        let red = TAXIIHarness.object("indicator", "old-red", tlp: .red)
        _ = try h.store.addIntelObjects([IntelObjectRecord(collection: "shared-amber", id: red["id"]!.string!, type: "indicator",
                                                           version: "2026-04-01T00:00:00.000Z", versionMicros: 1, specVersion: "2.1",
                                                           tlpRank: TLP.red.rank, json: red.text)])
        try await app().test(.router) { client in
            _ = try await post(client, "shared-amber", [TAXIIHarness.object("indicator", "fine", tlp: .green)])
            try await client.execute(uri: "/api1/collections/shared-amber/objects/", method: .get, headers: TAXIIHarness.auth("lab-b")) { r in
                let ids = (try TAXIIHarness.json(r)["objects"]?.array ?? []).compactMap { $0["id"]?.string }
                #expect(ids == [TAXIIHarness.object("indicator", "fine", tlp: .green)["id"]!.string!])
            }
        }
    }

    @Test func pagesFollowNextAndFiltersSelect() async throws {
        try await app().test(.router) { client in
            var objects: [JSONValue] = []
            for i in 0..<23 { objects.append(TAXIIHarness.object(i % 2 == 0 ? "indicator" : "campaign", "o\(i)", tlp: .green)) }
            _ = try await post(client, "shared-amber", objects)
            let updated = TAXIIHarness.object("indicator", "o0", tlp: .green, modified: "2026-04-02T00:00:00.000Z")
            _ = try await post(client, "shared-amber", [updated, objects[2]])  // a new version, and one already held
            var seen: [String] = []
            var next: String?
            var pages = 0
            repeat {
                let uri = "/api1/collections/shared-amber/objects/?limit=10" + (next.map { "&next=\($0)" } ?? "")
                next = try await client.execute(uri: uri, method: .get, headers: TAXIIHarness.auth("lab-b")) { r in
                    #expect(r.status == .ok)
                    #expect(r.headers[HTTPField.Name("X-TAXII-Date-Added-First")!] != nil)
                    let e = try TAXIIHarness.json(r)
                    seen += (e["objects"]?.array ?? []).compactMap { $0["id"]?.string }
                    return e["more"]?.bool == true ? e["next"]?.string : nil
                }
                pages += 1
            } while next != nil
            #expect(pages == 3)
            #expect(seen.count == 23 && Set(seen).count == 23, "the last version of each object, once")
            let first = objects[0]["id"]!.string!
            try await client.execute(uri: "/api1/collections/shared-amber/objects/?match%5Bid%5D=\(first)&match%5Bversion%5D=all", method: .get,
                                     headers: TAXIIHarness.auth("lab-b")) { r in
                let json3 = try TAXIIHarness.json(r)
                #expect(json3["objects"]?.array?.count == 2)
            }
            try await client.execute(uri: "/api1/collections/shared-amber/objects/\(first)/?match[version]=first", method: .get,
                                     headers: TAXIIHarness.auth("lab-b")) { r in
                let json4 = try TAXIIHarness.json(r)
                #expect(json4["objects"]?.array?.first?["modified"]?.string == "2026-04-01T00:00:00.000Z")
            }
            try await client.execute(uri: "/api1/collections/shared-amber/objects/\(first)/versions/", method: .get,
                                     headers: TAXIIHarness.auth("lab-b")) { r in
                let json5 = try TAXIIHarness.json(r)
                #expect(json5["versions"]?.strings == ["2026-04-01T00:00:00.000Z", "2026-04-02T00:00:00.000Z"])
            }
            try await client.execute(uri: "/api1/collections/shared-amber/objects/?match[type]=campaign", method: .get,
                                     headers: TAXIIHarness.auth("lab-b")) { r in
                let types = Set((try TAXIIHarness.json(r)["objects"]?.array ?? []).compactMap { $0["type"]?.string })
                #expect(types == ["campaign"])
            }
            let lastAdded = try await client.execute(uri: "/api1/collections/shared-amber/manifest/?limit=22", method: .get,
                                                     headers: TAXIIHarness.auth("lab-b")) { r in
                let m = try TAXIIHarness.json(r)
                #expect(m["objects"]?.array?.count == 22)
                #expect(m["objects"]?.array?.first?["media_type"]?.string == "application/stix+json;version=2.1")
                return r.headers[HTTPField.Name("X-TAXII-Date-Added-Last")!]!
            }
            try await client.execute(uri: "/api1/collections/shared-amber/objects/?added_after=\(lastAdded)", method: .get,
                                     headers: TAXIIHarness.auth("lab-b")) { r in
                let json6 = try TAXIIHarness.json(r)
                #expect(json6["objects"]?.array?.count == 1, "only what was added after the 22nd")
            }
            for bad in ["limit=0", "added_after=yesterday", "next=abc", "match%5Bcolor%5D=red", "match[version]=newest"] {
                try await client.execute(uri: "/api1/collections/shared-amber/objects/?\(bad)", method: .get, headers: TAXIIHarness.auth("lab-b")) { r in
                    #expect(r.status == .badRequest, "\(bad)")
                }
            }
            try await client.execute(uri: "/api1/collections/shared-amber/objects/indicator--00000000-0000-4000-8000-000000000000/",
                                     method: .get, headers: TAXIIHarness.auth("lab-b")) { r in #expect(r.status == .notFound) }
        }
    }

    @Test func objectsSurviveARestartOfTheServer() async throws {
        let path = h.store.path
        try await app().test(.router) { client in
            _ = try await post(client, "shared-amber", [TAXIIHarness.object("indicator", "durable", tlp: .amber)])
        }
        let reopened = try TAXIIHarness(store: try MoatStore(path: path))
        try await Application(router: reopened.server.router()).test(.router) { client in
            try await client.execute(uri: "/api1/collections/shared-amber/objects/", method: .get, headers: TAXIIHarness.auth("lab-c")) { r in
                let json7 = try TAXIIHarness.json(r)
                #expect(json7["objects"]?.array?.first?["name"]?.string == "durable")
            }
        }
    }

    @Test func discoveryPointsAtTheAPIRoot() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/taxii2/", method: .get, headers: TAXIIHarness.auth("lab-b")) { r in
                let d = try TAXIIHarness.json(r)
                #expect(d["api_roots"]?.strings?.first?.hasSuffix("/api1/") == true)
                #expect(d["default"] == d["api_roots"]?.array?.first)
            }
            try await client.execute(uri: "/api1/", method: .get, headers: TAXIIHarness.auth("lab-b")) { r in
                let json8 = try TAXIIHarness.json(r)
                #expect(json8["versions"]?.strings == ["application/taxii+json;version=2.1"])
            }
        }
    }
}

@Suite("taxii: configuration")
struct IntelConfigTests {
    func resolve(_ change: (inout IntelConfig) -> Void) throws(IntelError) -> ResolvedIntelConfig {
        var c = TAXIIHarness.config
        change(&c)
        return try ResolvedIntelConfig.resolve(c, environment: ["KEY": String(repeating: "ab", count: 32)]) { _ in nil }
    }

    @Test func aCollectionsTLPMayNotExceedWhatItsAudienceAllows() throws {
        let ok = try resolve { _ in }
        #expect(ok.collection("shared-amber")?.audienceCeiling == .amber)
        #expect(ok.collection("lab-b-only")?.audienceCeiling == .red)
        #expect(ok.collection("public")?.audienceCeiling == .clear)
        for (read, tlp) in [(["frontier"], TLP.amberStrict), (["frontier"], .red), (["lab-b", "lab-c"], .red), (["everyone"], .green)] {
            #expect(throws: IntelError.self, "\(read) at \(tlp.label)") {
                try resolve { $0.collections.append(.init(id: "x", title: "x", read: read, tlpMax: tlp)) }
            }
        }
        // One organisation reached through a group: AMBER+STRICT, not RED.
        let single = try resolve {
            $0.trustGroups.append(.init(id: "solo", members: ["lab-c"]))
            $0.collections.append(.init(id: "x", title: "x", read: ["solo"], tlpMax: .amberStrict))
        }
        #expect(single.collection("x")?.audienceCeiling == .amberStrict)
    }

    @Test func mistakesInTheConfigurationAreNamed() {
        let cases: [(String, (inout IntelConfig) -> Void)] = [
            ("neither a trust group nor a peer", { $0.collections[0].read.append("lab-z") }),
            ("never write", { $0.collections[0].write.append("everyone") }),
            ("not a configured peer", { $0.trustGroups[0].members.append("lab-z") }),
            ("shorter than 16", { $0.peers[0].secret = .init(value: "short") }),
            ("KEY_MISSING is not set", { $0.trustGroups[0].key = .init(keyID: "k", secret: .init(env: "KEY_MISSING")) }),
            ("not a key", { $0.trustGroups[0].key = .init(keyID: "k", secret: .init(value: "nothex")) }),
            ("listed twice", { $0.collections.append($0.collections[0]) }),
        ]
        for (message, change) in cases {
            do {
                _ = try resolve(change)
                Issue.record("accepted: \(message)")
            } catch {
                #expect(error.message.contains(message), "\(error.message)")
            }
        }
        #expect((try? resolve { $0.trustGroups[0].key = .init(keyID: "k", secret: .init(env: "KEY")) })?.currentKeys["frontier"]?.keyID == "k")
    }
}
