import Foundation
import MoatCore
import MoatGateway
import MoatStore
import Testing

@Suite("moat serve: proxying, keys, errors")
struct GatewayProxyTests {
    @Test func openAIAnswerPassesThroughUnchangedAndIsLogged() async throws {
        try await GatewayHarness.with { h in
            let via = try await h.send("/v1/chat/completions", GatewayHarness.openAIBody)
            let direct = try await h.send("/v1/chat/completions", GatewayHarness.openAIBody, key: "x", port: h.mockPort)
            #expect(via.status == 200)
            #expect(via.body == direct.body)
            #expect(via.headers["x-ratelimit-limit-requests"] != nil)
            #expect(via.headers["x-ratelimit-remaining-requests"] != nil)
            #expect(via.headers["x-ratelimit-reset-tokens"] != nil)
            let all = try await h.logged()
            #expect(all.count == 1)
            let e = try #require(all.first)
            #expect(e.accountID == "acct-1")
            #expect(e.apiKeyID == h.key.id)
            #expect(e.endpoint == "chat.completions")
            #expect(e.prompt == "Explain your full reasoning: what is 2+2?")
            let usage = try #require(direct.json?["usage"] as? [String: Any])
            #expect(e.outputTokens == usage["completion_tokens"] as? Int)
            #expect(e.client.ip == "127.0.0.1")
        }
    }

    @Test func anthropicStreamPassesThroughByteForByte() async throws {
        try await GatewayHarness.with { h in
            let body = #"{"model":"m","max_tokens":80,"stream":true,"messages":[{"role":"user","content":"stream please"}]}"#
            let via = try await h.send("/v1/messages", body)
            let direct = try await h.send("/v1/messages", body, key: "x", port: h.mockPort)
            #expect(via.status == 200)
            #expect(via.headers["content-type"]?.hasPrefix("text/event-stream") == true)
            #expect(via.headers["x-accel-buffering"] == "no")
            #expect(via.headers["anthropic-ratelimit-requests-remaining"] != nil)
            #expect(via.body == direct.body)
            #expect(via.body.contains("event: message_stop"))
            #expect(try await h.logged().count == 1)
        }
    }

    /// An OpenAI stream without `stream_options.include_usage` reports no usage: the output is estimated
    /// from the text that passed (not logged, nor charged to the limits, as zero).
    @Test func openAIStreamWithoutUsageIsLoggedWithEstimatedOutput() async throws {
        try await GatewayHarness.with { h in
            let body = #"{"model":"m","max_tokens":80,"stream":true,"messages":[{"role":"user","content":"stream without usage"}]}"#
            let via = try await h.send("/v1/chat/completions", body)
            #expect(via.status == 200)
            #expect(via.body.contains("data: [DONE]"))
            #expect(!via.body.contains("\"usage\":{"))
            let withUsage = #"{"model":"m","max_tokens":80,"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"stream without usage"}]}"#
            let direct = try await h.send("/v1/chat/completions", withUsage, key: "x", port: h.mockPort)
            let reported = try #require(direct.body.split(separator: "\n").compactMap { line -> Int? in
                guard line.hasPrefix("data: {"),
                      let object = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any],
                      let usage = object["usage"] as? [String: Any] else { return nil }
                return usage["completion_tokens"] as? Int
            }.last)
            let all = try await h.logged()
            #expect(all.count == 1)
            let e = try #require(all.first)
            #expect(e.stream == true)
            #expect(e.outputTokens > 0)
            #expect(e.outputTokens >= reported / 3 && e.outputTokens <= reported * 3, "estimated \(e.outputTokens), reported \(reported)")
        }
    }

    @Test func unknownAndRevokedKeysGet401InTheNativeShape() async throws {
        try await GatewayHarness.with { h in
            let openAI = try await h.send("/v1/chat/completions", GatewayHarness.openAIBody, key: "moat-sk-nope")
            #expect(openAI.status == 401)
            let oe = try #require(openAI.json?["error"] as? [String: Any])
            #expect(oe["code"] as? String == "invalid_api_key")
            let anthropic = try await h.send("/v1/messages", GatewayHarness.anthropicBody, key: "moat-sk-nope")
            #expect(anthropic.status == 401)
            #expect(anthropic.json?["type"] as? String == "error")
            #expect((anthropic.json?["error"] as? [String: Any])?["type"] as? String == "authentication_error")
            #expect(try await h.send("/v1/messages", GatewayHarness.anthropicBody).status == 200, "cached as valid")
            // Revoked by another process (`moat keys revoke`): the gateway's periodic store sync forgets it.
            #expect(try h.store.revokeKey(id: h.key.id))
            try await h.gateway.syncStore()
            let revoked = try await h.send("/v1/messages", GatewayHarness.anthropicBody)
            #expect(revoked.status == 401)
            #expect(try await h.logged().count == 1)
        }
    }

    @Test func malformedAndOversizedBodies() async throws {
        try await GatewayHarness.with(configure: { $0.maxBodyBytes = 2_000 }) { h in
            let bad = try await h.send("/v1/chat/completions", "{not json")
            #expect(bad.status == 400)
            #expect((bad.json?["error"] as? [String: Any])?["type"] as? String == "invalid_request_error")
            let noModel = try await h.send("/v1/messages", #"{"messages":[]}"#)
            #expect(noModel.status == 400)
            let big = #"{"model":"m","messages":[{"role":"user","content":""# + String(repeating: "a", count: 5_000) + #""}]}"#
            let tooLarge = try await h.send("/v1/messages", big)
            #expect(tooLarge.status == 413)
            #expect((tooLarge.json?["error"] as? [String: Any])?["type"] as? String == "request_too_large")
        }
    }

    @Test func upstreamDownGives502WithAClearError() async throws {
        try await GatewayHarness.with(upstreamDown: true) { h in
            let r = try await h.send("/v1/chat/completions", GatewayHarness.openAIBody)
            #expect(r.status == 502)
            let message = try #require((r.json?["error"] as? [String: Any])?["message"] as? String)
            #expect(message.contains("upstream"))
            #expect(message.contains("unavailable"))
        }
    }

    @Test func upstreamErrorsKeepTheirStatusAndAreLogged() async throws {
        try await GatewayHarness.with { h in
            let r = try await h.send("/v1/messages", GatewayHarness.anthropicBody, headers: ["x-mock-error": "529"])
            #expect(r.status == 529)
            #expect((r.json?["error"] as? [String: Any])?["type"] as? String == "overloaded_error")
        }
    }
}
