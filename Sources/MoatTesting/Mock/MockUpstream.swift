import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MoatCore
import NIOCore

/// A deterministic upstream that speaks the OpenAI chat completions API and the Anthropic messages
/// API, for tests, the demo and benchmarks.
///
/// The answer is a function of the last user message, so the same request always gets the same bytes.
/// Request headers steer it:
/// - `x-mock-error: <status>` answers with that status (400...599) and the API's native error body;
/// - `x-mock-latency-ms: N` delays the response head by N ms;
/// - `x-mock-chunk-delay-ms: N` sleeps N ms between stream events;
/// - `x-mock-words: N` sets the answer's length in words (still capped by `max_tokens` and 200);
/// - `x-mock-break-after: N` breaks the answer off: a stream after N events, a complete answer after N
///   bytes of its body, by closing the connection (an upstream that fails mid-answer);
/// - `x-mock-hold-after: N` holds a stream after N events: it sends only SSE comments (`: held`), every
///   100 ms, until its reader goes away (a write fails) or `x-mock-hold-ms` (default 30,000) has passed,
///   then carries on. A test can so keep a stream open, whatever the machine's load, until a proxy has
///   seen its client hang up.
///
/// It records nothing about the request; API keys are neither checked nor kept.
public struct MockUpstream: Sendable {
    /// Largest request body read; a larger one gets 413.
    static let maxBodyBytes = 8 << 20
    /// The `created` of every OpenAI response.
    static let created = 1_700_000_000

    public init() {}

    /// The application serving the mock on `host:port` (port 0 picks a free one).
    public func application(host: String, port: Int, logger: Logger) -> some ApplicationProtocol {
        Application(
            router: router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "moat-mock-upstream"),
            logger: logger
        )
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.get("/health") { _, _ in
            Self.json(.ok, Array(#"{"status":"ok"}"#.utf8))
        }
        router.post("/v1/chat/completions") { request, _ in
            try await Self.respond(to: request, api: .openAI)
        }
        router.post("/v1/messages") { request, _ in
            try await Self.respond(to: request, api: .anthropic)
        }
        return router
    }

    static func respond(to request: Request, api: MockAPI) async throws -> Response {
        let options = Options(request.headers)
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBodyBytes)
        } catch is NIOTooManyBytesError {
            return Self.error(api, status: 413, message: "request body is larger than \(maxBodyBytes) bytes")
        }
        if let latency = options.latency { try await Task.sleep(for: latency) }
        if let status = options.error {
            return Self.error(api, status: status, message: "mock upstream error \(status) (x-mock-error)")
        }
        let parsed: MockRequest
        do {
            parsed = try MockRequest(body, api: api)
        } catch {
            return Self.error(api, status: 400, message: error.message)
        }
        let completion = MockCompletion(parsed, words: options.words)
        switch api {
        case .openAI:
            return parsed.stream
                ? eventStream(openAIEvents(parsed, completion), options)
                : json(.ok, openAIBody(parsed, completion), breakAfter: options.breakAfter)
        case .anthropic:
            return parsed.stream
                ? eventStream(anthropicEvents(parsed, completion), options)
                : json(.ok, anthropicBody(parsed, completion), breakAfter: options.breakAfter)
        }
    }

    /// The connection is dropped mid-answer (`x-mock-break-after`).
    struct BrokenOff: Error {}

    static func error(_ api: MockAPI, status: Int, message: String) -> Response {
        var response = switch api {
        case .openAI: json(.init(code: status), openAIError(status: status, message: message))
        case .anthropic: json(.init(code: status), anthropicError(status: status, message: message))
        }
        if status == 429 { response.headers[.retryAfter] = "1" }
        return response
    }

    static func json(_ status: HTTPResponse.Status, _ bytes: [UInt8], breakAfter: Int? = nil) -> Response {
        if let cut = breakAfter, cut < bytes.count {
            return Response(status: status, headers: [.contentType: "application/json"],
                            body: ResponseBody(contentLength: bytes.count) { writer in
                                try await writer.write(ByteBuffer(bytes: bytes[..<cut]))
                                throw BrokenOff()
                            })
        }
        return Response(status: status, headers: [.contentType: "application/json"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Server-sent events, one write per event, so a proxy's pass-through can be observed.
    static func eventStream(_ events: [[UInt8]], _ options: Options) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                for (i, event) in events.enumerated() {
                    if let breakAfter = options.breakAfter, i >= breakAfter { throw BrokenOff() }
                    if i > 0, let delay = options.chunkDelay { try await Task.sleep(for: delay) }
                    if i > 0, i == options.holdAfter {
                        let until = ContinuousClock.now + options.hold
                        while ContinuousClock.now < until {
                            try await writer.write(ByteBuffer(string: ": held\n\n"))
                            try await Task.sleep(for: .milliseconds(100))
                        }
                    }
                    try await writer.write(ByteBuffer(bytes: event))
                }
                try await writer.finish(nil)
            }
        )
    }

    /// The `x-mock-*` request headers.
    struct Options {
        var error: Int?
        var latency: Duration?
        var chunkDelay: Duration?
        var words: Int?
        var breakAfter: Int?
        var holdAfter: Int?
        var hold = Duration.seconds(30)

        static let holdAfterField = HTTPField.Name("x-mock-hold-after")!
        static let holdField = HTTPField.Name("x-mock-hold-ms")!
        static let breakField = HTTPField.Name("x-mock-break-after")!
        static let errorField = HTTPField.Name("x-mock-error")!
        static let latencyField = HTTPField.Name("x-mock-latency-ms")!
        static let chunkDelayField = HTTPField.Name("x-mock-chunk-delay-ms")!
        static let wordsField = HTTPField.Name("x-mock-words")!

        init(_ headers: HTTPFields) {
            func int(_ name: HTTPField.Name, _ range: ClosedRange<Int>) -> Int? {
                guard let v = headers[name].flatMap({ Int($0.trimmingCharacters(in: .whitespaces)) }),
                      range.contains(v) else { return nil }
                return v
            }
            error = int(Self.errorField, 400...599)
            latency = int(Self.latencyField, 1...600_000).map { .milliseconds($0) }
            chunkDelay = int(Self.chunkDelayField, 1...60_000).map { .milliseconds($0) }
            words = int(Self.wordsField, 0...MockText.maxWords)
            breakAfter = int(Self.breakField, 0...1_000_000)
            holdAfter = int(Self.holdAfterField, 1...1_000_000)
            if let ms = int(Self.holdField, 0...600_000) { hold = .milliseconds(ms) }
        }
    }
}

extension JSONBuffer {
    /// The document as an SSE event: `event: name` (when given) and `data: json`.
    func sse(event: String?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 40)
        if let event { out += Array("event: \(event)\n".utf8) }
        out += Array("data: ".utf8)
        out += bytes
        out += Array("\n\n".utf8)
        return out
    }
}
