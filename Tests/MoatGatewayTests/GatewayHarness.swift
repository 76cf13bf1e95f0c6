import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MoatCore
import MoatGateway
import MoatProvenance
import MoatStore
import MoatTesting
import NIOCore

/// A gateway on a real loopback port in front of the mock upstream on another, with a fresh store and a key.
struct GatewayHarness {
    let gateway: Gateway
    let store: MoatStore
    let key: CreatedKey
    let port: Int
    let mockPort: Int

    static let logger: Logger = {
        var l = Logger(label: "moat.test")
        l.logLevel = .critical
        return l
    }()

    /// Runs `body` with a live gateway. `configure` edits the configuration before it is frozen.
    static func with(account: String = "acct-1", org: String? = nil, accounts: [Account] = [],
                     upstreamDown: Bool = false, fingerprintKey: FingerprintMasterKey? = nil, store existing: MoatStore? = nil,
                     configure: (inout GatewayConfig) -> Void = { _ in },
                     _ body: @escaping @Sendable (GatewayHarness) async throws -> Void) async throws {
        var base = GatewayConfig()
        base.listen = .init(host: "127.0.0.1", port: 0)
        base.admin.port = 0
        base.admin.token = "admin-token"
        base.detectionReorderSeconds = 0
        // The mock's steering headers pass through the gateway in tests.
        base.forwardHeaders = ["x-mock-error", "x-mock-latency-ms", "x-mock-chunk-delay-ms", "x-mock-words", "x-mock-break-after",
                               "x-mock-hold-after", "x-mock-hold-ms"]
        configure(&base)
        let frozen = base
        try await MockUpstream().application(host: "127.0.0.1", port: 0, logger: logger).test(.live) { mock in
            let mockPort = try requireNonNil(mock.port)
            var config = frozen
            let upstream = "http://127.0.0.1:\(upstreamDown ? 1 : mockPort)"
            config.upstreams.openai = .init(url: upstream)
            config.upstreams.anthropic = .init(url: upstream)
            let store = try existing ?? MoatStore.temporary()
            _ = try store.importAccounts(accounts)
            let key = try store.createKey(account: account, org: org)
            let gateway = try Gateway(config: config, store: store, logger: logger, fingerprintMasterKey: fingerprintKey)
            try await gateway.proxyApplication().test(.live) { client in
                let port = try requireNonNil(client.port)
                try await body(GatewayHarness(gateway: gateway, store: store, key: key, port: port, mockPort: mockPort))
            }
            await gateway.shutdown()
        }
    }

    /// Everything in the log (journal included), once everything logged so far reached the store and detection.
    func logged() async throws -> [Exchange] {
        _ = await gateway.waitUntilLogged()
        var lines: [String] = []
        try store.exportExchanges { lines.append($0) }
        return try lines.enumerated().map { try Exchange.decode(line: $1, file: "log", lineNumber: $0 + 1) }
    }

    /// The logged exchange whose prompt is `prompt`.
    func logged(prompt: String) async throws -> Exchange? {
        try await logged().first { $0.prompt == prompt }
    }

    /// The logged exchange whose prompt is `prompt`, waiting up to `within` for it to be logged (an exchange
    /// the gateway ends on a client's close is logged once it has seen the close).
    func logged(prompt: String, within: Duration) async throws -> Exchange? {
        let until = ContinuousClock.now + within
        while true {
            if let e = try await logged(prompt: prompt) { return e }
            if ContinuousClock.now >= until { return nil }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    struct Reply: Sendable {
        var status: Int
        var headers: [String: String]
        var body: String
        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] }
    }

    /// Sends one request with a real HTTP client (AsyncHTTPClient) to `port` (default: the gateway).
    func send(_ path: String, _ body: String, key: String? = nil, headers: [String: String] = [:],
              port: Int? = nil) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port ?? self.port)\(path)")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        if let key = key ?? (port == nil ? self.key.secret : nil) {
            if path.hasSuffix("messages") {
                request.headers.add(name: "x-api-key", value: key)
            } else {
                request.headers.add(name: "authorization", value: "Bearer \(key)")
            }
        }
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        var h: [String: String] = [:]
        for (name, value) in response.headers { h[name.lowercased()] = value }
        return Reply(status: Int(response.status.code), headers: h, body: String(buffer: bytes))
    }

    static let openAIBody = #"{"model":"atlas-2-pro","messages":[{"role":"user","content":"Explain your full reasoning: what is 2+2?"}]}"#
    static let anthropicBody = #"{"model":"atlas-2-pro","max_tokens":64,"messages":[{"role":"user","content":"hello there"}]}"#
    static let anthropicThinking = #"{"model":"atlas-2-pro","max_tokens":64,"thinking":{"type":"enabled","budget_tokens":256},"messages":[{"role":"user","content":"think about it"}]}"#
    static let anthropicThinkingStream = #"{"model":"atlas-2-pro","max_tokens":64,"stream":true,"thinking":{"type":"enabled","budget_tokens":256},"messages":[{"role":"user","content":"think about it"}]}"#
}

struct MissingValue: Error {}

func requireNonNil<T>(_ value: T?) throws -> T {
    guard let value else { throw MissingValue() }
    return value
}

extension Exchange {
    static func decode(line: String, file: String, lineNumber: Int) throws -> Exchange {
        var text = line
        return try text.withUTF8 { buffer in try Exchange.decode(line: buffer, file: file, lineNumber: lineNumber) }
    }
}
