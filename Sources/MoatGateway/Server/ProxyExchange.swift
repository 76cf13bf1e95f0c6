import Foundation
import Logging
import MoatCore
import MoatProvenance
import MoatStore
import NIOCore
import NIOHTTP1

/// One proxied request, from its head to its log record, on its connection's event loop.
///
/// Authentication comes first, from the headers alone: the body of a request without a valid key is
/// never read. Then the body's fields are scanned (not parsed into a tree), limits are reserved, and the
/// body is forwarded as it came on a pooled upstream connection of the same loop. The answer passes back
/// as it arrives (streams) or whole (complete answers), scanned for usage and text on the way.
///
/// No exchange escapes the log: once the upstream's response head has arrived, every way the exchange
/// can end (completed, client gone, upstream broken, timeout, gateway shutting down) goes through
/// `record`, which writes it to the journal with what was seen (usage, or an estimate from the text),
/// settles the limits reservation, and thereby feeds live detection (which follows the journal). The
/// last bytes of an answer (a stream's terminal event, a complete body) are sent only after that.
final class ProxyExchange {
    let connection: ProxyConnection
    let gateway: Gateway
    let loop: LoopContext
    let api: ModelAPI
    let head: HTTPRequestHead
    /// Arrival, wall clock (seconds since 1970) and monotonic.
    let arrivedWall: Double
    let arrived: NIODeadline

    private enum Phase {
        /// `leasing`: waiting for the shared store's lease (usage limits across replicas).
        case receiving, leasing, connecting, waitingForHead, streaming, buffering, done
    }

    private var phase = Phase.receiving
    private var key: KeyEntry?
    private var authenticating = false
    private var body: ByteBuffer?
    private var bodyBytes = 0
    private var requestComplete = false
    private var requestCompletedAt = NIODeadline.now()

    private var info = RequestInfo()
    /// Replay mode: the event time the request's header gave (seconds since 1970), before clamping.
    private var claimedTime: Double?
    private var reservation: RateLimiter.Reservation?
    /// The rate-limit headers of the answer, as `name: value\r\n` lines.
    private var limitHeaders: ByteBuffer?
    private var transforms: TransformChain?
    private var pool: UpstreamPool?
    private var upstream: UpstreamConnection?
    private var reusedConnection = false
    private var retried = false
    private var sentAt = NIODeadline.now()
    private var lastRead = NIODeadline.now()
    /// The upstream is being waited for (its head, or its next bytes): checked by the loop's sweep.
    private var watching = false

    private var status = 0
    private var clientHead: ResponseHead?
    private var relay: StreamRelay?
    private var answerBody: ByteBuffer?
    private var answer = AnswerInfo()
    private var needsFlush = false
    private var readPaused = false

    static let maxAnswerBytes = 64 << 20
    static let maxKeyBytes = 512

    init(connection: ProxyConnection, api: ModelAPI, head: HTTPRequestHead) {
        self.connection = connection
        gateway = connection.gateway
        loop = connection.loop
        self.api = api
        self.head = head
        arrivedWall = Date().timeIntervalSince1970
        arrived = .now()
    }

    /// False once the exchange no longer needs an upstream connection (answered, or its client left).
    var wantsUpstream: Bool { phase == .connecting }

    // MARK: - Request

    /// The head arrived: authenticate from the headers.
    func start() {
        guard let secret = Self.presentedKey(head.headers), !secret.isEmpty else {
            return refuse(401, "missing API key: send `Authorization: Bearer KEY` or `x-api-key: KEY`", outcome: "unauthenticated", early: true)
        }
        guard secret.utf8.count <= Self.maxKeyBytes else {
            return refuse(401, "invalid or revoked API key", outcome: "unauthenticated", early: true)
        }
        let digest = KeyDigest(secret: secret)
        switch gateway.keys.lookup(digest) {
        case .valid(let entry):
            key = gateway.current(entry, digest: digest)
            authenticated()
        case .invalid:
            refuse(401, "invalid or revoked API key", outcome: "unauthenticated", early: true)
        case .unknown:
            // Looked up in the store off the loop; nothing more is read from the client meanwhile.
            authenticating = true
            connection.pauseReading()
            gateway.lookUpKey(digest, on: loop.eventLoop).assumeIsolated().whenComplete { [self] result in
                authenticating = false
                guard phase == .receiving else { return }
                switch result {
                case .success(let entry?):
                    key = entry
                    connection.resumeReading()
                    authenticated()
                case .success(nil):
                    refuse(401, "invalid or revoked API key", outcome: "unauthenticated", early: true)
                case .failure(let error):
                    gateway.logger.error("cannot look up an API key in the store", metadata: ["error": "\(error)"])
                    refuse(503, "the gateway cannot check API keys right now; retry shortly", outcome: "store_unavailable", early: true)
                }
            }
        }
    }

    static func presentedKey(_ headers: HTTPHeaders) -> String? {
        if let auth = headers.first(name: "authorization") {
            if auth.hasPrefix("Bearer ") || auth.hasPrefix("bearer ") { return String(auth.dropFirst(7)) }
        }
        return headers.first(name: "x-api-key")
    }

    private func authenticated() {
        if let refusal = checkEventTime() {
            return refuse(400, refusal, outcome: "bad_request", early: true)
        }
        if let length = head.headers.first(name: "content-length").flatMap({ Int($0) }), length > gateway.config.maxBodyBytes {
            return refuse(413, "request body is larger than \(gateway.config.maxBodyBytes) bytes", outcome: "too_large", early: true)
        }
        if bodyBytes > gateway.config.maxBodyBytes {
            return refuse(413, "request body is larger than \(gateway.config.maxBodyBytes) bytes", outcome: "too_large", early: true)
        }
        if requestComplete { admit() }
    }

    func requestBody(_ buffer: ByteBuffer) {
        guard phase == .receiving else { return }
        bodyBytes += buffer.readableBytes
        if bodyBytes > gateway.config.maxBodyBytes {
            return refuse(413, "request body is larger than \(gateway.config.maxBodyBytes) bytes", outcome: "too_large", early: true)
        }
        if body == nil {
            body = buffer
        } else {
            var b = buffer
            body!.writeBuffer(&b)
        }
    }

    func requestEnded() {
        guard phase == .receiving else { return }
        requestComplete = true
        requestCompletedAt = .now()
        if !authenticating, key != nil { admit() }
    }

    /// The connection gave up on the request before it was complete (read timeout).
    func abandonRequest() {
        phase = .done
    }

    /// Enforcement, limits, then forwarding.
    private func admit() {
        guard let entry = key else { return }
        let parsed = body.map { b in b.withUnsafeReadableBytes { RequestInfo.parse($0, api: api) } }
            ?? RequestInfo.parse(UnsafeRawBufferPointer(start: nil, count: 0), api: api)
        guard let parsed else {
            return refuse(400, "request body must be a JSON object with a `model`", outcome: "bad_request")
        }
        info = parsed
        guard let pool = loop.pools[api == .openAI ? 0 : 1] else {
            return refuse(502, "no upstream is configured for \(api.path)", outcome: "no_upstream")
        }
        if gateway.log.isOverBacklog || loop.isJournalBehind {
            var extra = loop.eventLoopAllocator.buffer(capacity: 32)
            extra.writeStaticString("retry-after: 1\r\n")
            return refuse(503, "the gateway's exchange log is behind; retry shortly", outcome: "log_backlog", extra: extra)
        }
        let record = entry.record
        let action = gateway.actions.action(account: record.account, org: entry.org, key: record.id)
        if action == .block {
            return refuse(403, "access to this API has been suspended for account \(record.account) pending review; contact support",
                          outcome: "blocked")
        }
        var regionTier: Int?
        if !gateway.regions.isEmpty {
            // The client address's country only from a trusted proxy (issue 9's trust boundary).
            let clientCountry = gateway.regions.usesClientCountry && connection.peerTrusted
                ? gateway.config.countryHeader.flatMap { head.headers.first(name: $0) } : nil
            switch gateway.regions.decide(billing: entry.identity?.country, client: clientCountry) {
            case .deny(let basis, let country):
                gateway.regions.denied(account: record.account, basis: basis, country: country, store: gateway.store, now: arrivedWall)
                return refuse(403, basis == .billing ? "access to this API is not available for accounts billed in \(country)"
                                                     : "access to this API is not available from \(country)",
                              outcome: "region_denied")
            case .allow(let t):
                regionTier = t
            }
        }
        let tier = gateway.tiers.tiers[action == .throttle ? gateway.tiers.throttleIndex : regionTier ?? entry.tier]
        var subjects = RateLimiter.Subjects()
        if let l = tier.key { subjects.key = .init(entry.keySubject, .key, record.id, l) }
        if let l = tier.account { subjects.account = .init(entry.accountSubject, .account, record.account, l) }
        if let l = tier.org, let org = entry.org, let id = entry.orgSubject { subjects.org = .init(id, .org, org, l) }
        let request = RateLimiter.Request(subjects: subjects, inputTokens: info.estimatedInputTokens,
                                          reservedOutputTokens: info.maxTokens ?? gateway.config.limits.defaultMaxTokens)
        switch gateway.limiter.admit(request, now: arrivedWall, on: loop.eventLoop) {
        case .now(let decision):
            limitDecided(decision, action: action, record: record, pool: pool)
        case .later(let future):
            // A lease from the shared store: the exchange waits for it on its loop.
            phase = .leasing
            let bound = NIOLoopBound((self, pool), eventLoop: loop.eventLoop)
            future.whenComplete { result in
                let (exchange, pool) = bound.value
                guard exchange.phase == .leasing else {
                    if case .success(.admitted(let r, _)) = result {
                        exchange.gateway.limiter.settle(r, inputTokens: 0, outputTokens: 0, now: Date().timeIntervalSince1970)
                    }
                    return
                }
                exchange.phase = .receiving
                switch result {
                case .success(let decision): exchange.limitDecided(decision, action: action, record: record, pool: pool)
                case .failure: exchange.refuse(503, "usage limits are unavailable; retry shortly", outcome: "limits_unavailable")
                }
            }
        }
    }

    /// After the usage limits' decision: refuses, or forwards (with the action's answer transforms).
    private func limitDecided(_ decision: RateLimiter.Decision, action: GatewayAction, record: APIKeyRecord, pool: UpstreamPool) {
        switch decision {
        case .limited(let subject, let kind, let retryAfter, let status):
            var extra = loop.eventLoopAllocator.buffer(capacity: 512)
            gateway.addLimitHeaders(api, status, now: arrivedWall, to: &extra)
            extra.writeStaticString("retry-after: ")
            extra.writeString(String(Int(retryAfter.rounded(.up))))
            extra.writeStaticString("\r\n")
            let per = kind == .dailyTokens ? "day" : "minute"
            return refuse(429, "rate limit exceeded: \(kind.rawValue) per \(per) for \(subject.scope.rawValue) \(subject.name); retry after \(Int(retryAfter.rounded(.up))) s",
                          outcome: "limited", openAIType: kind == .requests ? "requests" : "tokens", extra: extra)
        case .admitted(let r, let status):
            reservation = r
            var lines = loop.eventLoopAllocator.buffer(capacity: 512)
            gateway.addLimitHeaders(api, status, now: arrivedWall, to: &lines)
            limitHeaders = lines
        }
        if action.withholdsReasoning || action.fingerprints {
            var chain: [any AnswerTransform] = []
            if action.withholdsReasoning { chain.append(WithholdReasoning()) }
            // The account's campaign names the key (`default` outside any campaign).
            if action.fingerprints, let marker = gateway.fingerprintKeys.marker(campaign: gateway.actions.entry(record.account)?.campaign) {
                chain.append(FingerprintAnswer(marker: marker, prompt: FingerprintPrompt([info.systemPrompt ?? "", info.prompt ?? ""])))
            }
            transforms = TransformChain(chain)
        }
        self.pool = pool
        phase = .connecting
        pool.acquire(self)
    }

    /// Answers the request itself (no upstream involved); `early`: before its body was read (closes).
    private func refuse(_ status: Int, _ message: String, outcome: String, openAIType: String? = nil,
                        extra: ByteBuffer? = nil, early: Bool = false) {
        phase = .done
        loop.count(api: api, status: status, outcome: outcome)
        connection.respondError(api, status: status, message: message, openAIType: openAIType, extra: extra, early: early)
    }

    // MARK: - Upstream

    func upstreamReady(_ c: UpstreamConnection) {
        guard phase == .connecting, let pool else {
            self.pool?.release(c)
            return
        }
        let body = self.body ?? loop.eventLoopAllocator.buffer(capacity: 0)
        upstream = c
        reusedConnection = c.served > 0
        phase = .waitingForHead
        let now = NIODeadline.now()
        if !retried { gateway.metrics.added(seconds: Double((now - requestCompletedAt).nanoseconds) / 1e9) }
        sentAt = now
        lastRead = now
        c.send(pool.endpoint.request(client: head.headers, body: body, allocator: loop.eventLoopAllocator), for: self)
        armTimer()
    }

    func upstreamFailed(_ error: any Error, connection c: UpstreamConnection?) {
        switch phase {
        case .connecting, .waitingForHead:
            upstream = nil
            // A reused keep-alive connection the upstream had closed: once more on a fresh one.
            if c != nil, reusedConnection, !retried, phase == .waitingForHead, let pool {
                cancelTimer()
                retried = true
                phase = .connecting
                pool.acquire(self, fresh: true)
                return
            }
            cancelTimer()
            settle(inputTokens: 0, outputTokens: 0)
            let url = pool?.endpoint.url ?? "?"
            gateway.logger.warning("upstream unavailable", metadata: ["upstream": "\(url)", "error": "\(error)"])
            refuse(502, "upstream \(url) is unavailable: \(error)", outcome: "upstream_down")
        case .streaming:
            upstream = nil
            if relay?.info.ended == true {
                // The whole answer arrived; only the connection's framing broke.
                finishStream(.completed)
            } else {
                abort(.upstreamBroken)
            }
        case .buffering:
            upstream = nil
            abort(.upstreamBroken)
        case .receiving, .leasing, .done:
            break
        }
    }

    func upstreamHead(_ h: UpstreamHead) {
        guard phase == .waitingForHead else { return }
        let now = NIODeadline.now()
        lastRead = now
        gateway.metrics.firstByte(seconds: Double((now - sentAt).nanoseconds) / 1e9)
        status = h.status
        var head = ResponseHead(status: h.status, allocator: loop.eventLoopAllocator)
        head.add(lines: h.passed)
        if let limitHeaders { head.add(lines: limitHeaders) }
        let contentType = h.contentType ?? "application/json"
        head.add("content-type", contentType)
        if contentType.utf8.starts(with: "text/event-stream".utf8) {
            head.add("cache-control", "no-cache")
            head.add("x-accel-buffering", "no")
            phase = .streaming
            relay = StreamRelay(api: api, transforms: transforms)
            connection.writeHead(head, contentLength: nil)
            needsFlush = true
        } else {
            phase = .buffering
            clientHead = head
        }
    }

    func upstreamBody(_ buffer: ByteBuffer) {
        lastRead = .now()
        switch phase {
        case .streaming:
            if let out = relay!.feed(buffer, allocator: loop.eventLoopAllocator), out.readableBytes > 0 {
                connection.writeBody(out)
                needsFlush = true
            }
            if !connection.isWritable, !readPaused {
                readPaused = true
                upstream?.pauseReading()
            }
        case .buffering:
            if answerBody == nil {
                answerBody = buffer
            } else {
                var b = buffer
                answerBody!.writeBuffer(&b)
            }
            if answerBody!.readableBytes > Self.maxAnswerBytes { abort(.upstreamBroken) }
        default:
            break
        }
    }

    func upstreamReadComplete() {
        if needsFlush {
            needsFlush = false
            connection.flush()
        }
    }

    /// The client's socket drained: read the upstream again.
    func clientWritable() {
        if readPaused {
            readPaused = false
            upstream?.resumeReading()
        }
    }

    func upstreamEnd(connection c: UpstreamConnection) {
        upstream = nil
        switch phase {
        case .streaming:
            finishStream(relay!.info.streamError ? .upstreamBroken : .completed)
        case .buffering:
            finishAnswer()
        case .waitingForHead:
            // A response without a head cannot be; treat as broken.
            upstreamFailed(UpstreamError.closed, connection: nil)
        default:
            break
        }
    }

    // MARK: - Ending

    /// A complete answer: read it, rewrite it if a countermeasure applies, log it, then send it.
    private func finishAnswer() {
        cancelTimer()
        var body = answerBody ?? loop.eventLoopAllocator.buffer(capacity: 0)
        body.withUnsafeReadableBytes { answer.readAnswer($0, api: api) }
        if let transforms, status == 200 { transforms.rewrite(body: &body, api: api, allocator: loop.eventLoopAllocator) }
        phase = .done
        let head = clientHead ?? ResponseHead(status: status, allocator: loop.eventLoopAllocator)
        record(.completed) { [connection, api] logged in
            guard logged else {
                return connection.respondError(api, status: 503, message: "the exchange could not be logged; not delivered")
            }
            connection.writeHead(head, contentLength: body.readableBytes)
            connection.writeBody(body)
            connection.writeEnd()
        }
    }

    /// The stream's end: log it, then send the held terminal event and end the response.
    private func finishStream(_ outcome: Outcome) {
        cancelTimer()
        phase = .done
        let rest = relay?.finish(allocator: loop.eventLoopAllocator)
        record(outcome) { [connection] logged in
            // Not logged: the client never sees the stream's end (its SDK reports the answer cut short).
            guard logged else { return connection.close() }
            if let rest { connection.writeBody(rest) }
            connection.writeEnd()
        }
    }

    /// Ends an exchange that will not complete: logs it (once the answer began) and closes what is open.
    private func abort(_ outcome: Outcome) {
        cancelTimer()
        let began = phase == .streaming || phase == .buffering
        let wasBuffering = phase == .buffering
        // A complete answer not received in full is answered with an error: that is the status logged.
        if wasBuffering, outcome == .timeout || outcome == .upstreamBroken { status = outcome == .timeout ? 504 : 502 }
        if began {
            record(outcome) { _ in }
        } else {
            // No answer began: not an exchange; nothing was used.
            settle(inputTokens: 0, outputTokens: 0)
        }
        phase = .done
        upstream?.close()
        upstream = nil
        switch outcome {
        case .clientClosed, .cancelled:
            if !began { loop.count(api: api, status: 499, outcome: outcome.rawValue) }
            connection.close()
        case .timeout where wasBuffering || !began:
            if !began { loop.count(api: api, status: 504, outcome: "upstream_timeout") }
            connection.respondError(api, status: 504, message: "the upstream did not answer within \(Int(gateway.config.upstreamTimeoutSeconds)) s")
        case .upstreamBroken where wasBuffering:
            connection.respondError(api, status: 502, message: "the upstream's answer broke off")
        default:
            // A stream already under way cannot turn into an error: the client sees it cut short.
            connection.close()
        }
    }

    /// The client went away (or the gateway closed the connection).
    func clientClosed() {
        switch phase {
        case .receiving, .leasing:
            phase = .done
        case .connecting, .waitingForHead, .streaming, .buffering:
            abort(gateway.isStopping ? .cancelled : .clientClosed)
        case .done:
            break
        }
    }

    // MARK: - Log

    /// Logs the exchange with what was seen, settles the reservation and counts it; `then` runs once the
    /// record is durable (true), or could not be written (false). Records of one event-loop pass are
    /// written to the journal together (`LoopContext.log`).
    private func record(_ outcome: Outcome, then: @escaping (Bool) -> Void) {
        guard let key else { return then(false) }
        let streamed = relay != nil
        let seen = streamed ? relay!.info : answer
        let wallNow = Date().timeIntervalSince1970
        let client = clientFields()
        let exchange = Exchange(
            id: loop.nextExchangeID(milliseconds: Int64(wallNow * 1000)), ts: Timestamp(seconds: eventTime(now: wallNow)), accountID: key.record.account, model: info.model,
            inputTokens: seen.inputTokens ?? info.estimatedInputTokens, outputTokens: seen.outputTokensOrEstimate,
            orgID: key.org, apiKeyID: key.record.id, endpoint: api.rawValue, turn: info.turn, systemPrompt: info.systemPrompt,
            prompt: info.prompt, response: seen.textString, reasoningTokens: seen.reasoningTokens,
            thinkingRequested: info.thinking ? true : nil, tools: info.tools > 0 ? info.tools : nil,
            toolCalls: seen.toolCalls > 0 ? seen.toolCalls : nil, maxTokens: info.maxTokens, temperature: info.temperature,
            stream: streamed, status: status, latencyMs: ((wallNow - arrivedWall) * 10_000).rounded() / 10,
            client: client, outcome: outcome == .completed ? nil : outcome.rawValue, countermeasure: transforms?.names)
        settle(inputTokens: exchange.inputTokens, outputTokens: exchange.outputTokens)
        gateway.metrics.upstream(seconds: Double((NIODeadline.now() - sentAt).nanoseconds) / 1e9)
        let label = outcome == .completed ? (transforms == nil ? "served" : "withheld") : outcome.rawValue
        let (loop, api, status, metrics) = (self.loop, self.api, self.status, gateway.metrics)
        loop.log(exchange) { logged in
            if logged {
                metrics.logged(outcome)
                loop.count(api: api, status: status, outcome: label)
            } else {
                loop.count(api: api, status: 503, outcome: "log_failed")
            }
            then(logged)
        }
    }

    private func settle(inputTokens: Int, outputTokens: Int) {
        guard let r = reservation else { return }
        reservation = nil
        gateway.limiter.settle(r, inputTokens: inputTokens, outputTokens: outputTokens, now: Date().timeIntervalSince1970)
    }

    /// The client's address and edge enrichment: believed from trusted proxies only.
    private func clientFields() -> Exchange.Client {
        let headers = head.headers
        var client = Exchange.Client(userAgent: headers.first(name: "user-agent"))
        guard connection.peerTrusted else {
            client.ip = connection.peer?.description
            return client
        }
        let forwarded = headers[canonicalForm: "x-forwarded-for"].map(String.init)
        client.ip = gateway.trustedProxies.clientAddress(peer: connection.peer, forwardedFor: forwarded)?.description
        let config = gateway.config
        client.tlsFingerprint = config.tlsFingerprintHeader.flatMap { headers.first(name: $0) }
        client.asn = config.asnHeader.flatMap { headers.first(name: $0) }.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        client.asnOrg = config.asnOrgHeader.flatMap { headers.first(name: $0) }
        client.country = config.countryHeader.flatMap { headers.first(name: $0) }
        return client
    }

    /// Why the request's event-time header is refused, if it is: outside replay mode the header itself (a
    /// client never dates its own exchanges), in replay mode a value that is not an RFC 3339 time. A
    /// replay-mode time is kept for the record (`eventTime`).
    private func checkEventTime() -> String? {
        guard let replay = gateway.config.replay else {
            let name = GatewayConfig.ReplayConfig.defaultEventTimeHeader
            guard head.headers.contains(name: name) else { return nil }
            return "the `\(name)` header is accepted only by a gateway in replay mode; send the request without it"
        }
        guard let value = head.headers.first(name: replay.eventTimeHeader) else { return nil }
        guard let t = Timestamp(rfc3339: value) else {
            return "the `\(replay.eventTimeHeader)` header must be an RFC 3339 time, such as 2026-04-22T08:15:02Z"
        }
        claimedTime = t.seconds
        return nil
    }

    /// The exchange's event time: its arrival, or in replay mode the event-time header's, clamped to the
    /// window `max_age_days` before now to `max_future_seconds` after it.
    private func eventTime(now: Double) -> Double {
        guard let replay = gateway.config.replay, let t = claimedTime else { return arrivedWall }
        return min(max(t, now - replay.maxAgeDays * 86_400), now + replay.maxFutureSeconds)
    }

    // MARK: - Timeout

    private func armTimer() { watching = true }

    private func cancelTimer() { watching = false }

    /// The loop's sweep: an upstream silent for longer than `upstream_timeout_seconds` ends the exchange.
    func sweep(now: NIODeadline) {
        guard watching, phase == .waitingForHead || phase == .streaming || phase == .buffering else { return }
        if now >= lastRead + TimeAmount.nanoseconds(Int64(gateway.config.upstreamTimeoutSeconds * 1e9)) {
            watching = false
            abort(.timeout)
        }
    }
}

/// Exchange ids: `ex_`, the time in milliseconds (12 hex digits) and 80 random bits (20 hex digits).
/// Time first keeps the log's id index growing at one end (cheap inserts) and sorts ids by time.
struct ExchangeIDs {
    /// xoshiro256**, seeded once from the system's secure generator: ids need to be unique, not secret.
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    init() {
        var rng = SystemRandomNumberGenerator()
        (s0, s1, s2, s3) = (rng.next(), rng.next(), rng.next(), rng.next() | 1)
    }

    private mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    mutating func next(milliseconds: Int64) -> String {
        let time = UInt64(max(0, milliseconds)) & 0xFFFF_FFFF_FFFF
        let high = next(), low = next()
        return String(unsafeUninitializedCapacity: 35) { out in
            out[0] = UInt8(ascii: "e"); out[1] = UInt8(ascii: "x"); out[2] = UInt8(ascii: "_")
            @inline(__always) func hex(_ v: UInt64) -> UInt8 { v < 10 ? UInt8(ascii: "0") + UInt8(v) : UInt8(ascii: "a") + UInt8(v - 10) }
            for i in 0..<12 { out[3 + i] = hex((time >> UInt64(44 - 4 * i)) & 0xF) }
            for i in 0..<16 { out[15 + i] = hex((high >> UInt64(60 - 4 * i)) & 0xF) }
            for i in 0..<4 { out[31 + i] = hex((low >> UInt64(60 - 4 * i)) & 0xF) }
            return 35
        }
    }
}
