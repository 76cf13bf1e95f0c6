import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import MoatTesting
import Testing

@Suite("Mock upstream")
struct MockUpstreamTests {
    static let openAIPath = "/v1/chat/completions"
    static let anthropicPath = "/v1/messages"
    static let chat = #"{"model":"gpt-mock","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is a moat?"}]}"#
    static let chatCharacters = "Be brief.".count + "What is a moat?".count

    func live<T: Sendable>(_ test: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        var logger = Logger(label: "mock-upstream-test")
        logger.logLevel = .warning
        let app = MockUpstream().application(host: "127.0.0.1", port: 0, logger: logger)
        return try await app.test(.live, test)
    }

    func post(_ client: any TestClientProtocol, _ path: String, _ body: String,
              _ headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        headers[.contentType] = "application/json"
        return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    // MARK: OpenAI

    @Test func openAINonStreaming() async throws {
        let response = try await live { try await post($0, Self.openAIPath, Self.chat) }
        #expect(response.status == .ok)
        #expect(response.headers[.contentType] == "application/json")
        let json = try object(response)
        #expect(json["object"] as? String == "chat.completion")
        #expect((json["id"] as? String)?.hasPrefix("chatcmpl-") == true)
        #expect(json["model"] as? String == "gpt-mock")
        #expect(json["created"] as? Int == 1_700_000_000)
        let choice = try #require((json["choices"] as? [[String: Any]])?.first)
        #expect(choice["finish_reason"] as? String == "stop")
        let message = try #require(choice["message"] as? [String: Any])
        #expect(message["role"] as? String == "assistant")
        #expect(message["reasoning_content"] == nil)
        let content = try #require(message["content"] as? String)
        let usage = try #require(json["usage"] as? [String: Any])
        #expect(usage["prompt_tokens"] as? Int == Self.chatCharacters / 4)
        #expect(usage["completion_tokens"] as? Int == words(content))
        #expect(usage["total_tokens"] as? Int == Self.chatCharacters / 4 + words(content))
        #expect((usage["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"] as? Int == 0)
    }

    @Test func openAIReasoningOnlyWhenRequested() async throws {
        let body = #"{"model":"o-mock","reasoning_effort":"high","messages":[{"role":"user","content":"Think."}]}"#
        let json = try object(try await live { try await post($0, Self.openAIPath, body) })
        let message = try #require((json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])
        let reasoning = try #require(message["reasoning_content"] as? String)
        let content = try #require(message["content"] as? String)
        let usage = try #require(json["usage"] as? [String: Any])
        #expect(words(reasoning) > 0)
        #expect(usage["completion_tokens"] as? Int == words(content) + words(reasoning))
        #expect((usage["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"] as? Int == words(reasoning))
    }

    @Test func openAIStreamingMatchesNonStreaming() async throws {
        let streamBody = #"{"model":"gpt-mock","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is a moat?"}]}"#
        let (plain, streamed) = try await live { client in
            (try await post(client, Self.openAIPath, Self.chat), try await post(client, Self.openAIPath, streamBody))
        }
        #expect(streamed.headers[.contentType] == "text/event-stream")
        let events = sse(streamed)
        #expect(events.allSatisfy { $0.name == nil })
        #expect(events.last?.data == "[DONE]")
        let chunks = try events.dropLast().map { try object($0.data) }
        #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
        let choices = chunks.map { $0["choices"] as? [[String: Any]] ?? [] }
        #expect((choices.first?.first?["delta"] as? [String: Any])?["role"] as? String == "assistant")
        let text = choices.compactMap { ($0.first?["delta"] as? [String: Any])?["content"] as? String }.joined()
        #expect(choices.dropLast().last?.first?["finish_reason"] as? String == "stop")
        #expect(choices.last?.isEmpty == true)
        let usage = try #require(chunks.last?["usage"] as? [String: Any])

        let expected = try object(plain)
        let expectedMessage = (expected["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any]
        #expect(text == expectedMessage?["content"] as? String)
        #expect(usage["completion_tokens"] as? Int == words(text))
        #expect(usage["prompt_tokens"] as? Int == Self.chatCharacters / 4)
        #expect(chunks.dropLast().allSatisfy { $0.keys.contains("usage") && $0["usage"] is NSNull })
    }

    @Test func openAIStreamingWithoutUsage() async throws {
        let body = #"{"model":"gpt-mock","stream":true,"messages":[{"role":"user","content":"Hi"}]}"#
        let events = sse(try await live { try await post($0, Self.openAIPath, body) })
        #expect(events.last?.data == "[DONE]")
        let chunks = try events.dropLast().map { try object($0.data) }
        #expect(chunks.allSatisfy { $0["usage"] == nil && ($0["choices"] as? [Any])?.count == 1 })
    }

    // MARK: Anthropic

    @Test func anthropicNonStreaming() async throws {
        let body = #"{"model":"claude-mock","max_tokens":1024,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"What is a moat?"}]}]}"#
        let json = try object(try await live { try await post($0, Self.anthropicPath, body) })
        #expect(json["type"] as? String == "message")
        #expect((json["id"] as? String)?.hasPrefix("msg_") == true)
        #expect(json["role"] as? String == "assistant")
        #expect(json["model"] as? String == "claude-mock")
        #expect(json["stop_reason"] as? String == "end_turn")
        #expect(json["stop_sequence"] is NSNull)
        let content = try #require(json["content"] as? [[String: Any]])
        #expect(content.map { $0["type"] as? String } == ["text"])
        let text = try #require(content[0]["text"] as? String)
        let usage = try #require(json["usage"] as? [String: Any])
        #expect(usage["input_tokens"] as? Int == Self.chatCharacters / 4)
        #expect(usage["output_tokens"] as? Int == words(text))
    }

    @Test func anthropicThinkingBlockOnlyWhenRequested() async throws {
        let body = #"{"model":"claude-mock","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"Think."}]}"#
        let json = try object(try await live { try await post($0, Self.anthropicPath, body) })
        let content = try #require(json["content"] as? [[String: Any]])
        #expect(content.map { $0["type"] as? String } == ["thinking", "text"])
        #expect(content[0]["signature"] as? String == "mock-signature")
        let thinking = try #require(content[0]["thinking"] as? String)
        let text = try #require(content[1]["text"] as? String)
        #expect((json["usage"] as? [String: Any])?["output_tokens"] as? Int == words(thinking) + words(text))
    }

    @Test func anthropicStreamingEventSequence() async throws {
        let base = #""model":"claude-mock","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"Stream it."}]"#
        let (plain, streamed) = try await live { client in
            (try await post(client, Self.anthropicPath, "{\(base)}"),
             try await post(client, Self.anthropicPath, #"{"stream":true,"# + base + "}"))
        }
        #expect(streamed.headers[.contentType] == "text/event-stream")
        let events = sse(streamed)
        let datas = try events.map { try object($0.data) }
        #expect(zip(events, datas).allSatisfy { $0.name == $1["type"] as? String })
        let names = events.compactMap(\.name)
        #expect(names.first == "message_start")
        #expect(names.suffix(2) == ["message_delta", "message_stop"])
        let blocks = names.filter { $0.hasPrefix("content_block_") && $0 != "content_block_delta" }
        #expect(blocks == ["content_block_start", "content_block_stop", "content_block_start", "content_block_stop"])

        let deltas = datas.compactMap { $0["delta"] as? [String: Any] }
        let thinking = deltas.compactMap { $0["type"] as? String == "thinking_delta" ? $0["thinking"] as? String : nil }.joined()
        let signatures = deltas.compactMap { $0["type"] as? String == "signature_delta" ? $0["signature"] as? String : nil }
        let text = deltas.compactMap { $0["type"] as? String == "text_delta" ? $0["text"] as? String : nil }.joined()
        #expect(signatures == ["mock-signature"])

        let expected = try object(plain)
        let content = try #require(expected["content"] as? [[String: Any]])
        #expect(thinking == content[0]["thinking"] as? String)
        #expect(text == content[1]["text"] as? String)
        let start = (datas[0]["message"] as? [String: Any])?["usage"] as? [String: Any]
        #expect(start?["input_tokens"] as? Int == (expected["usage"] as? [String: Any])?["input_tokens"] as? Int)
        #expect(start?["output_tokens"] as? Int == 1)
        let messageDelta = datas[datas.count - 2]
        #expect((messageDelta["delta"] as? [String: Any])?["stop_reason"] as? String == "end_turn")
        #expect((messageDelta["usage"] as? [String: Any])?["output_tokens"] as? Int == words(thinking) + words(text))
    }

    @Test func anthropicStreamingWithoutThinkingHasOneBlock() async throws {
        let body = #"{"model":"claude-mock","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Hi"}]}"#
        let events = sse(try await live { try await post($0, Self.anthropicPath, body) })
        #expect(events.filter { $0.name == "content_block_start" }.count == 1)
        #expect(!events.contains { $0.data.contains("thinking") })
    }

    // MARK: Determinism and limits

    @Test(arguments: [
        (openAIPath, #"{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Same"}]}"#),
        (openAIPath, #"{"model":"m","messages":[{"role":"user","content":"Same"}]}"#),
        (anthropicPath, #"{"model":"m","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"Same"}]}"#),
        (anthropicPath, #"{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"Same"}]}"#),
    ])
    func sameRequestSameBytes(path: String, body: String) async throws {
        let (a, b, other) = try await live { client in
            (try await post(client, path, body), try await post(client, path, body),
             try await post(client, path, body.replacingOccurrences(of: "Same", with: "Different")))
        }
        #expect(a.status == .ok)
        #expect(a.body == b.body)
        #expect(a.body != other.body)
    }

    @Test func maxTokensCapsTheAnswer() async throws {
        let openAI = #"{"model":"m","max_completion_tokens":5,"messages":[{"role":"user","content":"Tell me everything."}]}"#
        let anthropic = #"{"model":"m","max_tokens":5,"messages":[{"role":"user","content":"Tell me everything."}]}"#
        let (openAIResponse, anthropicResponse) = try await live { client in
            (try await post(client, Self.openAIPath, openAI), try await post(client, Self.anthropicPath, anthropic))
        }
        let o = try object(openAIResponse)
        let a = try object(anthropicResponse)
        let choice = (o["choices"] as? [[String: Any]])?.first
        #expect(choice?["finish_reason"] as? String == "length")
        #expect(words((choice?["message"] as? [String: Any])?["content"] as? String ?? "") == 5)
        #expect((o["usage"] as? [String: Any])?["completion_tokens"] as? Int == 5)
        #expect(a["stop_reason"] as? String == "max_tokens")
        #expect((a["usage"] as? [String: Any])?["output_tokens"] as? Int == 5)
    }

    @Test func wordsHeaderSetsTheLength() async throws {
        let json = try object(try await live {
            try await post($0, Self.openAIPath, Self.chat, [HTTPField.Name("x-mock-words")!: "150"])
        })
        #expect((json["usage"] as? [String: Any])?["completion_tokens"] as? Int == 150)
    }

    // MARK: Errors and latency

    @Test(arguments: [(500, "server_error", "api_error"), (529, "server_error", "overloaded_error"),
                      (429, "requests", "rate_limit_error"), (401, "invalid_request_error", "authentication_error")])
    func injectedErrorsUseNativeShapes(status: Int, openAIType: String, anthropicType: String) async throws {
        let headers: HTTPFields = [HTTPField.Name("x-mock-error")!: String(status)]
        let (o, a) = try await live { client in
            (try await post(client, Self.openAIPath, Self.chat, headers),
             try await post(client, Self.anthropicPath, Self.chat, headers))
        }
        #expect(o.status.code == status)
        #expect(a.status.code == status)
        let openAIError = try #require(try object(o)["error"] as? [String: Any])
        #expect(openAIError["type"] as? String == openAIType)
        #expect(openAIError["message"] is String)
        #expect(openAIError["param"] is NSNull)
        #expect(openAIError.keys.contains("code"))
        let anthropic = try object(a)
        #expect(anthropic["type"] as? String == "error")
        #expect((anthropic["error"] as? [String: Any])?["type"] as? String == anthropicType)
        #expect((anthropic["error"] as? [String: Any])?["message"] is String)
        #expect((o.headers[.retryAfter] != nil) == (status == 429))
    }

    @Test func malformedBodyIs400InNativeShape() async throws {
        let (o, a, missing) = try await live { client in
            (try await post(client, Self.openAIPath, "{not json"),
             try await post(client, Self.anthropicPath, "{not json"),
             try await post(client, Self.anthropicPath, #"{"model":"m"}"#))
        }
        #expect(o.status == .badRequest)
        #expect((try object(o)["error"] as? [String: Any])?["type"] as? String == "invalid_request_error")
        #expect(a.status == .badRequest)
        #expect((try object(a)["error"] as? [String: Any])?["type"] as? String == "invalid_request_error")
        #expect(missing.status == .badRequest)
    }

    @Test func latencyDelaysTheResponse() async throws {
        let clock = ContinuousClock()
        let elapsed = try await live { client in
            _ = try await post(client, Self.openAIPath, Self.chat)  // warm the connection
            let start = clock.now
            let response = try await post(client, Self.openAIPath, Self.chat, [HTTPField.Name("x-mock-latency-ms")!: "150"])
            #expect(response.status == .ok)
            return clock.now - start
        }
        #expect(elapsed >= .milliseconds(150))
    }

    @Test func healthAnswersOk() async throws {
        try await Application(router: MockUpstream().router()).test(.router) { client in
            let response = try await client.execute(uri: "/health", method: .get)
            #expect(response.status == .ok)
            #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
        }
    }

    /// The stream arrives as separate writes: with a chunk delay the client sees many body parts.
    @Test func streamIsWrittenEventByEvent() async throws {
        let body = #"{"model":"m","max_tokens":30,"stream":true,"messages":[{"role":"user","content":"Stream slowly."}]}"#
        let parts = try await live { client in
            let port = try #require(client.port)
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(Self.anthropicPath)")
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.headers.add(name: "x-mock-chunk-delay-ms", value: "20")
            request.body = .bytes(ByteBuffer(string: body))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            var parts: [String] = []
            for try await part in response.body { parts.append(String(buffer: part)) }
            return parts
        }
        #expect(parts.count >= 8)
        #expect(parts.first?.hasPrefix("event: message_start\n") == true)
        #expect(parts.joined().hasSuffix("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"))
    }

    // MARK: Helpers

    func object(_ response: TestResponse) throws -> [String: Any] {
        try object(String(buffer: response.body))
    }

    func object(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    func words(_ text: String) -> Int {
        text.split(separator: " ").count
    }

    /// The events of an SSE body: optional `event:` name and the `data:` line.
    func sse(_ response: TestResponse) -> [(name: String?, data: String)] {
        String(buffer: response.body).components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { block in
            var name: String?
            var data = ""
            for line in block.split(separator: "\n") {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data = String(line.dropFirst(6)) }
            }
            return (name, data)
        }
    }
}
