import Foundation
import MoatCore
import MoatGateway
import MoatStore
import Testing

/// No exchange escapes the log: whatever the client or the upstream does once an answer has begun, the
/// exchange is logged (with partial usage or an estimate and an outcome), reaches live detection, and its
/// limits reservation is settled. Real sockets, closed at several points of a stream, for both APIs.
@Suite("moat serve: every answered exchange is logged")
struct GatewayOutcomeTests {
    enum API: String, CaseIterable, Sendable {
        case openAI, anthropic

        var path: String { self == .openAI ? "/v1/chat/completions" : "/v1/messages" }

        func headers(key: String, extra: [(String, String)] = []) -> [(String, String)] {
            (self == .openAI ? [("Authorization", "Bearer \(key)")] : [("x-api-key", key), ("anthropic-version", "2023-06-01")]) + extra
        }

        func body(_ prompt: String, stream: Bool = true, maxTokens: Int = 400) -> [UInt8] {
            Array(#"{"model":"m","max_tokens":\#(maxTokens),"stream":\#(stream),"messages":[{"role":"user","content":"\#(prompt)"}]}"#.utf8)
        }

        /// The last event before the terminal one has arrived (everything but `[DONE]` / `message_stop`).
        func nearTheEnd(_ text: String) -> Bool {
            self == .openAI ? text.contains(#""finish_reason":"stop""#) || text.contains(#""finish_reason":"length""#)
                : text.contains("event: message_delta")
        }

        func complete(_ text: String) -> Bool {
            self == .openAI ? text.contains("data: [DONE]") : text.contains("event: message_stop")
        }
    }

    /// Where the client hangs up.
    enum Point: String, CaseIterable, Sendable {
        case afterHead, afterFirstEvent, midStream, duringAPause, nearTheEnd, atTheEnd

        func reached(_ r: RawClient.Received, _ api: API) -> Bool {
            switch self {
            case .afterHead: return true
            case .afterFirstEvent: return r.text.contains("data: ")
            case .midStream: return r.text.components(separatedBy: "data: ").count > 4
            // The upstream has paused (the mock's hold: SSE comments, which the gateway relays as they are).
            case .duringAPause: return r.text.contains(": held")
            case .nearTheEnd: return api.nearTheEnd(r.text)
            case .atTheEnd: return api.complete(r.text)
            }
        }
    }

    /// Output limited so a reservation left unsettled would refuse the next request.
    static func tier(_ c: inout GatewayConfig) {
        c.limits.tiers["standard"] = .init(account: .init(requestsPerMinute: 1_000, outputTokensPerMinute: 1_000))
    }

    @Test("a client hanging up mid-stream leaves a logged, detected, settled exchange",
          arguments: API.allCases, Point.allCases)
    func clientHangsUp(api: API, point: Point) async throws {
        try await GatewayHarness.with(configure: Self.tier) { h in
            let prompt = "hang up \(api.rawValue) \(point.rawValue) \(UUID().uuidString.prefix(8))"
            let port = h.port, key = h.key.secret
            // Hanging up early, the upstream holds the stream after 12 events (sending only SSE comments)
            // until the gateway closes it, or for 30 s: the stream cannot end before the gateway has seen
            // the client's close, however long the machine stalls the client or the gateway (CI runs every
            // suite at once, and a slow 6 s stream once ended before a stalled client's close was seen).
            // Near or at the end, the stream runs to its end at its own pace.
            let early = point != .nearTheEnd && point != .atTheEnd
            let steer = early ? [("x-mock-chunk-delay-ms", "20"), ("x-mock-hold-after", "12"), ("x-mock-hold-ms", "30000")]
                : [("x-mock-chunk-delay-ms", "15")]
            let received = try await RawClient.onThread {
                let c = try RawClient(port: port)
                try c.request(path: api.path, headers: api.headers(key: key, extra: steer + [("x-mock-words", "120")]),
                              body: api.body(prompt, maxTokens: 900))
                let r = c.read { point.reached($0, api) }
                c.close()
                return r
            }
            #expect(received.status == 200)
            if early { #expect(!api.complete(received.text), "the client hung up before the stream's end") }
            let e = try #require(try await h.logged(prompt: prompt, within: .seconds(20)), "the exchange is in the log")
            #expect(e.stream == true)
            #expect(e.status == 200)
            if point == .atTheEnd {
                #expect(e.outcome == nil, "completed")
            } else if point == .nearTheEnd {
                // The terminal event may have been written before the close was seen: either is honest.
                #expect(e.outcome == nil || e.outcome == "client_closed", "\(e.outcome ?? "completed")")
            } else {
                #expect(e.outcome == "client_closed")
            }
            if point != .afterHead && point != .afterFirstEvent {
                #expect(e.outputTokens > 0, "partial usage or an estimate from what was seen")
                #expect(e.response?.isEmpty == false)
            }
            #expect(await h.gateway.enforcer.ingestedFromJournal >= 1, "it reached live detection")
            // The reservation (900 output tokens of 1,000 a minute) was settled with what was used (a few
            // hundred at most): another request reserving 700 is admitted. Left unsettled, at most 100 plus
            // the refill of a few seconds would be free, and it would be refused.
            let next = try await h.send(api.path, String(decoding: api.body("after \(prompt)", stream: false, maxTokens: 700), as: UTF8.self))
            #expect(next.status == 200, "\(next.body)")
        }
    }

    @Test("an upstream that breaks off mid-stream: logged as upstream_broken", arguments: API.allCases)
    func upstreamBreaksMidStream(api: API) async throws {
        try await GatewayHarness.with(configure: Self.tier) { h in
            let prompt = "upstream breaks \(api.rawValue) \(UUID().uuidString.prefix(8))"
            let port = h.port, key = h.key.secret
            let received = try await RawClient.onThread {
                let c = try RawClient(port: port)
                try c.request(path: api.path, headers: api.headers(key: key, extra: [("x-mock-break-after", "6"), ("x-mock-words", "120")]),
                              body: api.body(prompt, maxTokens: 900))
                let r = c.read { _ in false }
                c.close()
                return r
            }
            #expect(received.status == 200)
            #expect(received.closedByServer)
            #expect(!api.complete(received.text), "the client sees the stream cut short")
            #expect(!received.text.hasSuffix("0\r\n\r\n"), "no clean end of the chunked body")
            let e = try #require(try await h.logged(prompt: prompt))
            #expect(e.outcome == "upstream_broken")
            #expect(e.outputTokens > 0)
            #expect(try await h.send(api.path, String(decoding: api.body("after", stream: false, maxTokens: 900), as: UTF8.self)).status == 200)
        }
    }

    @Test("an upstream that breaks off a complete answer: 502, logged as upstream_broken", arguments: API.allCases)
    func upstreamBreaksCompleteAnswer(api: API) async throws {
        try await GatewayHarness.with { h in
            let prompt = "broken body \(api.rawValue) \(UUID().uuidString.prefix(8))"
            let r = try await h.send(api.path, String(decoding: api.body(prompt, stream: false), as: UTF8.self), headers: ["x-mock-break-after": "40"])
            #expect(r.status == 502)
            let e = try #require(try await h.logged(prompt: prompt))
            #expect(e.outcome == "upstream_broken")
            #expect(e.status == 502)
        }
    }

    @Test("an upstream that goes silent mid-stream: logged as timeout", arguments: API.allCases)
    func upstreamTimesOutMidStream(api: API) async throws {
        // The first event comes at once, the next after 9 s; the timeout (4 s) is long enough that a
        // loaded machine (the whole suite runs in parallel, and CI once stalled a gateway for over 1.5 s)
        // still sees the first event before it.
        try await GatewayHarness.with(configure: { $0.upstreamTimeoutSeconds = 4 }) { h in
            let prompt = "silent \(api.rawValue) \(UUID().uuidString.prefix(8))"
            let port = h.port, key = h.key.secret
            let received = try await RawClient.onThread {
                let c = try RawClient(port: port)
                try c.request(path: api.path, headers: api.headers(key: key, extra: [("x-mock-chunk-delay-ms", "9000")]),
                              body: api.body(prompt))
                let r = c.read { _ in false }
                c.close()
                return r
            }
            #expect(received.status == 200)
            #expect(received.closedByServer)
            let e = try #require(try await h.logged(prompt: prompt))
            #expect(e.outcome == "timeout")
        }
    }

    @Test func anUpstreamThatNeverAnswersGets504AndNoExchange() async throws {
        try await GatewayHarness.with(configure: { $0.upstreamTimeoutSeconds = 0.3 }) { h in
            let r = try await h.send("/v1/messages", GatewayHarness.anthropicBody, headers: ["x-mock-latency-ms": "2000"])
            #expect(r.status == 504)
            #expect((r.json?["error"] as? [String: Any])?["type"] as? String == "timeout_error")
            #expect(try await h.logged().isEmpty, "no answer began: nothing to log")
        }
    }

    /// Shutting down while streams run: those cut short are logged as cancelled.
    @Test func streamsCutShortByShutdownAreLoggedAsCancelled() async throws {
        try await GatewayHarness.with { h in
            let prompt = "shutdown \(UUID().uuidString.prefix(8))"
            let port = h.port, key = h.key.secret
            // The stream is under way (its head and a first text delta arrived) when the gateway cancels it.
            let (client, first) = try await RawClient.onThread { () throws -> (RawClient, RawClient.Received) in
                let c = try RawClient(port: port)
                try c.request(path: API.anthropic.path, headers: API.anthropic.headers(key: key, extra: [("x-mock-chunk-delay-ms", "50")]),
                              body: API.anthropic.body(prompt))
                return (c, c.read { $0.text.contains("content_block_delta") })
            }
            await h.gateway.cancelInFlight()
            let rest = try await RawClient.onThread {
                let r = client.read(continuing: true) { _ in false }
                client.close()
                return r
            }
            var r = first
            r.body += rest.body
            #expect(r.status == 200 && !API.anthropic.complete(r.text))
            await h.gateway.shutdown()
            var lines: [String] = []
            try h.store.exportExchanges { lines.append($0) }
            let e = try #require(try lines.map { try Exchange.decode(line: $0, file: "log", lineNumber: 1) }.first { $0.prompt == prompt },
                                 "\(lines) \(r.text.suffix(300))")
            #expect(e.outcome == "cancelled")
        }
    }

    /// A non-streamed answer is logged before any of it is sent, and a client gone before the answer began
    /// leaves no exchange but a settled reservation.
    @Test func aClientGoneBeforeTheAnswerBeganLeavesNoExchangeButASettledReservation() async throws {
        try await GatewayHarness.with(configure: Self.tier) { h in
            let port = h.port, key = h.key.secret
            _ = try await RawClient.onThread {
                let c = try RawClient(port: port)
                try c.request(path: API.openAI.path, headers: API.openAI.headers(key: key, extra: [("x-mock-latency-ms", "3000")]),
                              body: API.openAI.body("gone early", stream: false, maxTokens: 900))
                usleep(100_000)
                c.close()
            }
            // The answer would have begun after 3 s: by then the close must have been seen (a stall of
            // nearly 3 s is tolerated).
            try await Task.sleep(for: .milliseconds(3_500))
            #expect(try await h.logged().isEmpty)
            #expect(try await h.send(API.openAI.path, String(decoding: API.openAI.body("after", stream: false, maxTokens: 900), as: UTF8.self)).status == 200)
        }
    }
}
