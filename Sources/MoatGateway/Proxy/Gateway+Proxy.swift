import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import MoatCore
import MoatStore
import NIOCore
import NIOHTTP1
import HTTPTypes

extension Gateway {
    /// One proxied exchange: authenticate, enforce, limit, forward, pass the answer through, log, detect.
    func proxy(_ api: ModelAPI, _ request: Request, _ context: GatewayRequestContext) async throws -> Response {
        let arrived = Date()
        let started = ContinuousClock.now
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: config.maxBodyBytes)
        } catch {
            return native(api, status: 413, "request body is larger than \(config.maxBodyBytes) bytes", outcome: "too_large")
        }

        // Authentication: the API's own header conventions, both accepted on both routes.
        let presented = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
            ?? request.headers[HTTPField.Name("x-api-key")!]
        guard let secret = presented, !secret.isEmpty else {
            return native(api, status: 401, "missing API key: send `Authorization: Bearer KEY` or `x-api-key: KEY`", outcome: "unauthenticated")
        }
        guard let key = try keys.lookup(secret: secret) else {
            return native(api, status: 401, "invalid or revoked API key", outcome: "unauthenticated")
        }

        guard let info = api.parse(Data(buffer: body)) else {
            return native(api, status: 400, "request body must be a JSON object with a `model`", outcome: "bad_request")
        }
        guard let upstream = upstream(api) else {
            return native(api, status: 502, "no upstream is configured for \(api.path)", outcome: "no_upstream")
        }

        // Enforcement, then limits.
        let identity = accounts.identity(key.account)
        let org = key.org ?? identity?.orgID
        let action = actions.action(account: key.account, org: org, key: key.id)
        if action == .block {
            return native(api, status: 403, "access to this API has been suspended for account \(key.account) pending review; contact support",
                          outcome: "blocked")
        }
        let tierName = action == .throttle ? (config.policy.throttleTier ?? config.limits.defaultTier)
            : config.limits.tier(program: identity?.program, verification: identity?.verification)
        let tier = config.limits.tiers[tierName] ?? LimitsConfig.Tier()
        var subjects: [(RateLimiter.Subject, LimitsConfig.Limits)] = []
        if let l = tier.key { subjects.append((.init(.key, key.id), l)) }
        if let l = tier.account { subjects.append((.init(.account, key.account), l)) }
        if let org, let l = tier.org { subjects.append((.init(.org, org), l)) }
        let reservedOutput = info.maxTokens ?? config.limits.defaultMaxTokens
        let now = arrived.timeIntervalSince1970
        let decision = limiter.withLock {
            $0.admit(.init(limits: subjects, inputTokens: info.estimatedInputTokens, reservedOutputTokens: reservedOutput), now: now)
        }
        let reservation: RateLimiter.Reservation
        let status: RateLimiter.Status
        switch decision {
        case .limited(let subject, let kind, let retryAfter, let s):
            var response = native(api, status: 429,
                                  "rate limit exceeded: \(kind.rawValue) per \(kind == .dailyTokens ? "day" : "minute") for \(subject.scope.rawValue) \(subject.id); retry after \(Int(retryAfter.rounded(.up))) s",
                                  openAIType: kind == .requests ? "requests" : "tokens", outcome: "limited")
            addLimitHeaders(api, s, now: now, to: &response.headers)
            response.headers[HTTPField.Name("retry-after")!] = String(Int(retryAfter.rounded(.up)))
            return response
        case .admitted(let r, let s):
            reservation = r
            status = s
        }

        // Forward.
        var outbound = HTTPClientRequest(url: upstream.url + api.path)
        outbound.method = .POST
        outbound.headers.add(name: "content-type", value: "application/json")
        for name in ["anthropic-version", "anthropic-beta", "openai-organization", "openai-project", "x-mock-error", "x-mock-latency-ms"] {
            if let value = request.headers[HTTPField.Name(name)!] { outbound.headers.add(name: name, value: value) }
        }
        if let providerKey = upstream.resolvedKey() {
            if api == .anthropic {
                outbound.headers.add(name: "x-api-key", value: providerKey)
            } else {
                outbound.headers.add(name: "authorization", value: "Bearer \(providerKey)")
            }
        }
        if api == .anthropic, request.headers[HTTPField.Name("anthropic-version")!] == nil {
            outbound.headers.add(name: "anthropic-version", value: "2023-06-01")
        }
        outbound.body = .bytes(body)
        metrics.added(seconds: (ContinuousClock.now - started).seconds)
        let upstreamResponse: HTTPClientResponse
        do {
            upstreamResponse = try await http.execute(outbound, timeout: .seconds(Int64(config.upstreamTimeoutSeconds)))
        } catch {
            limiter.withLock { $0.settle(reservation, inputTokens: 0, outputTokens: 0, now: Date().timeIntervalSince1970) }
            logger.warning("upstream unavailable", metadata: ["upstream": "\(upstream.url)", "error": "\(error)"])
            return native(api, status: 502, "upstream \(upstream.url) is unavailable: \(error)", outcome: "upstream_down")
        }

        let clientIP = self.clientIP(request, context)
        var eventTime = arrived
        if let header = config.eventTimeHeader, let value = request.headers[HTTPField.Name(header)!],
           let ts = Timestamp(rfc3339: value) {
            eventTime = Date(timeIntervalSince1970: ts.seconds)
        }
        let record = ExchangeDraft(
            api: api, arrived: eventTime, wallArrival: arrived, key: key, org: org, info: info, clientIP: clientIP,
            userAgent: request.headers[.userAgent],
            asn: config.asnHeader.flatMap { request.headers[HTTPField.Name($0)!] }.flatMap { Int($0) },
            asnOrg: config.asnOrgHeader.flatMap { request.headers[HTTPField.Name($0)!] },
            country: config.countryHeader.flatMap { request.headers[HTTPField.Name($0)!] },
            tlsFingerprint: config.tlsFingerprintHeader.flatMap { request.headers[HTTPField.Name($0)!] })
        var headers = HTTPFields()
        for (name, value) in upstreamResponse.headers where Self.passedResponseHeaders.contains(name.lowercased()) {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        addLimitHeaders(api, status, now: now, to: &headers)
        let withhold = action == .withholdReasoning
        let responseStatus = HTTPResponse.Status(code: Int(upstreamResponse.status.code))

        let isStream = upstreamResponse.headers.first(name: "content-type")?.contains("text/event-stream") ?? false
        if !isStream {
            let raw = try await upstreamResponse.body.collect(upTo: 64 << 20)
            let (out, seen) = ResponseRewriter.inspect(Data(buffer: raw), api: api, withholdReasoning: withhold)
            let exchange = record.exchange(status: Int(upstreamResponse.status.code), seen: seen, stream: false)
            try await finish(exchange, reservation: reservation)
            metrics.upstream(seconds: (ContinuousClock.now - started).seconds)
            metrics.request(api: api, status: Int(upstreamResponse.status.code), outcome: withhold ? "withheld" : "served")
            headers[.contentType] = "application/json"
            return Response(status: responseStatus, headers: headers, body: .init(byteBuffer: ByteBuffer(data: out)))
        }

        headers[.contentType] = "text/event-stream"
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        headers[.cacheControl] = "no-cache"
        let upstreamBody = upstreamResponse.body
        let code = Int(upstreamResponse.status.code)
        let responseBody = ResponseBody { [self] writer in
            var inspector = StreamInspector(api: api, withholdReasoning: withhold)
            // One chunk behind: the last bytes go out only after the exchange is durably logged.
            var held: ByteBuffer?
            for try await chunk in upstreamBody {
                let bytes = Array(buffer: chunk)
                let forward = inspector.feed(bytes).map { ByteBuffer(bytes: $0) } ?? chunk
                if let previous = held, previous.readableBytes > 0 { try await writer.write(previous) }
                held = forward
            }
            if let rest = inspector.finish(), !rest.isEmpty {
                if let previous = held { try await writer.write(previous) }
                held = ByteBuffer(bytes: rest)
            }
            let exchange = record.exchange(status: code, seen: inspector.info, stream: true)
            try await self.finish(exchange, reservation: reservation)
            if let last = held, last.readableBytes > 0 { try await writer.write(last) }
            try await writer.finish(nil)
            self.metrics.upstream(seconds: (ContinuousClock.now - started).seconds)
            self.metrics.request(api: api, status: code, outcome: withhold ? "withheld" : "served")
        }
        return Response(status: responseStatus, headers: headers, body: responseBody)
    }

    static let passedResponseHeaders: Set<String> = ["request-id", "x-request-id", "openai-processing-ms", "anthropic-organization-id"]

    /// Logs the exchange durably, corrects the limits with the real usage, and hands it to detection.
    func finish(_ exchange: Exchange, reservation: RateLimiter.Reservation) async throws {
        try await log.append(exchange)
        limiter.withLock {
            $0.settle(reservation, inputTokens: exchange.inputTokens, outputTokens: exchange.outputTokens,
                      now: Date().timeIntervalSince1970)
        }
        detection.yield(exchange)
    }

    func upstream(_ api: ModelAPI) -> GatewayConfig.Upstream? {
        api == .openAI ? config.upstreams.openai : config.upstreams.anthropic
    }

    func clientIP(_ request: Request, _ context: GatewayRequestContext) -> String? {
        if config.trustForwardedFor, let xff = request.headers[HTTPField.Name("x-forwarded-for")!],
           let first = xff.split(separator: ",").first {
            return first.trimmingCharacters(in: .whitespaces)
        }
        return context.remoteAddress?.ipAddress
    }

    func addLimitHeaders(_ api: ModelAPI, _ status: RateLimiter.Status, now: Double, to headers: inout HTTPFields) {
        let pairs = api == .anthropic ? status.anthropicHeaders(now: now) : status.openAIHeaders()
        for (name, value) in pairs { if let field = HTTPField.Name(name) { headers[field] = value } }
    }

    func native(_ api: ModelAPI, status: Int, _ message: String, openAIType: String? = nil, outcome: String) -> Response {
        metrics.request(api: api, status: status, outcome: outcome)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        let body = api.errorBody(status: status, message: message, openAIType: openAIType)
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(data: body)))
    }
}

/// What is known about an exchange before its answer arrives.
struct ExchangeDraft: Sendable {
    var api: ModelAPI
    /// Event time (arrival, or the replayed time).
    var arrived: Date
    var wallArrival: Date
    var key: APIKeyRecord
    var org: String?
    var info: ModelAPI.RequestInfo
    var clientIP: String?
    var userAgent: String?
    var asn: Int?
    var asnOrg: String?
    var country: String?
    var tlsFingerprint: String?

    func exchange(status: Int, seen: ResponseInfo, stream: Bool) -> Exchange {
        let latency = Date().timeIntervalSince(wallArrival) * 1000
        return Exchange(
            id: Self.newID(),
            ts: Timestamp(seconds: arrived.timeIntervalSince1970), accountID: key.account, model: info.model,
            inputTokens: seen.inputTokens ?? info.estimatedInputTokens, outputTokens: seen.outputTokensOrEstimate,
            orgID: org, apiKeyID: key.id, endpoint: api.rawValue, turn: info.turn, systemPrompt: info.systemPrompt,
            prompt: info.prompt, response: seen.text.isEmpty ? nil : seen.text, reasoningTokens: seen.reasoningTokens,
            thinkingRequested: info.thinking ? true : nil, tools: info.tools > 0 ? info.tools : nil,
            toolCalls: seen.toolCalls > 0 ? seen.toolCalls : nil, maxTokens: info.maxTokens, temperature: info.temperature,
            stream: stream, status: status, latencyMs: (latency * 10).rounded() / 10,
            client: Exchange.Client(ip: clientIP, asn: asn, asnOrg: asnOrg, country: country, userAgent: userAgent,
                                    tlsFingerprint: tlsFingerprint))
    }
}

extension ExchangeDraft {
    /// "ex_" and 128 random bits in hex.
    static func newID() -> String {
        var rng = SystemRandomNumberGenerator()
        let high: UInt64 = rng.next(), low: UInt64 = rng.next()
        return String(unsafeUninitializedCapacity: 35) { out in
            out[0] = UInt8(ascii: "e"); out[1] = UInt8(ascii: "x"); out[2] = UInt8(ascii: "_")
            for i in 0..<32 {
                let nibble = ((i < 16 ? high : low) >> UInt64(60 - 4 * (i % 16))) & 0xF
                out[3 + i] = nibble < 10 ? UInt8(ascii: "0") + UInt8(nibble) : UInt8(ascii: "a") + UInt8(nibble - 10)
            }
            return 35
        }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
