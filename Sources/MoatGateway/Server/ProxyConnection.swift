import MoatCore
import NIOCore
import NIOHTTP1

/// One client connection to the proxy listener: HTTP/1.1 requests one after another (pipelined ones
/// wait their turn), each handled by a `ProxyExchange` on this connection's event loop. Everything here
/// runs on that loop, synchronously: no task, no thread hop between reading a request, forwarding it
/// and passing the answer back.
final class ProxyConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    /// Responses are written as bytes (`ResponseHead`, chunked framing here), not through NIO's encoder.
    typealias OutboundOut = ByteBuffer

    let gateway: Gateway
    private(set) var context: ChannelHandlerContext?
    private(set) var loop: LoopContext!
    /// The connection's peer and whether it is a trusted proxy (`trusted_proxies`).
    private(set) var peer: IPAddress?
    private(set) var peerTrusted = false

    private enum State {
        case idle
        /// Head received, body coming.
        case receiving(ProxyExchange)
        /// Answered early (401, 413): the rest of the request is read and dropped (never kept), up to a
        /// limit, then the connection closes (a lingering close: the client reads the answer, not a reset).
        case discarding
        /// A request with a fixed answer (health, not found), sent when the request has ended.
        case simple(Int, String, [UInt8])
        /// The request is complete; its response is being written (nil: a simple response).
        case responding(ProxyExchange?)
        case closed
    }

    private var state = State.idle
    /// Parts of pipelined requests that arrived while one was in progress (reading is paused meanwhile).
    private var queued = CircularBuffer<HTTPServerRequestPart>()
    private var closeAfterResponse = false
    private var quiescing = false
    /// When the connection's current wait (idle, reading a request, lingering) runs out; checked by the
    /// loop's sweep (`LoopContext.sweep`), so no timer is scheduled per request.
    private var deadline: NIODeadline?
    private var readingPaused = false
    private var discarded = 0
    static let requestReadTimeout = TimeAmount.seconds(60)
    /// After an early answer: how much more of the request is read (and dropped), and for how long.
    static let lingerBytes = 1 << 20
    static let lingerTime = TimeAmount.seconds(2)

    init(gateway: Gateway) { self.gateway = gateway }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        loop = gateway.loopContext(for: context.eventLoop)
        loop.opened(self)
        if let remote = context.channel.remoteAddress, let ip = IPAddress(remote) {
            peer = ip
            peerTrusted = gateway.trustedProxies.contains(ip)
        }
        deadline = .now() + idleTimeout
    }

    private var idleTimeout: TimeAmount { .nanoseconds(Int64(gateway.config.clientIdleTimeoutSeconds * 1e9)) }

    func handlerRemoved(context: ChannelHandlerContext) {
        loop.closed(self)
        deadline = nil
        abandonCurrent()
        self.context = nil
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .responding = state {
            // A pipelined request: it waits until this response is complete.
            queued.append(part)
            pauseReading()
            return
        }
        handle(part)
    }

    private func handle(_ part: HTTPServerRequestPart) {
        switch (part, state) {
        case (.head(let head), .idle):
            deadline = .now() + Self.requestReadTimeout
            if !head.isKeepAlive { closeAfterResponse = true }
            route(head)
        case (.body(let buffer), .receiving(let exchange)):
            exchange.requestBody(buffer)
        case (.end, .receiving(let exchange)):
            deadline = nil
            state = .responding(exchange)
            exchange.requestEnded()
        case (.body(let buffer), .discarding):
            discarded += buffer.readableBytes
            if discarded > Self.lingerBytes { close() }
        case (.end, .discarding):
            close()
        case (.body, .simple):
            break
        case (.end, .simple(let status, let contentType, let body)):
            state = .responding(nil)
            writeSimple(status: status, contentType: contentType, body: body)
            responseComplete()
        case (_, .closed):
            break
        default:
            // A part out of order (the decoder guarantees it cannot happen): give up on the connection.
            close()
        }
    }

    private func route(_ head: HTTPRequestHead) {
        let path = head.uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { String(head.uri[..<$0]) } ?? head.uri
        let api: ModelAPI
        switch (head.method, path) {
        case (.POST, "/v1/chat/completions"): api = .openAI
        case (.POST, "/v1/messages"): api = .anthropic
        case (.GET, "/health"):
            state = .simple(200, "text/plain; charset=utf-8", Array("ok".utf8))
            return
        default:
            state = .simple(404, "application/json", Array(#"{"error":{"message":"not found","type":"invalid_request_error"}}"#.utf8))
            return
        }
        let exchange = ProxyExchange(connection: self, api: api, head: head)
        state = .receiving(exchange)
        exchange.start()
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        abandonCurrent()
        state = .closed
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            // A malformed request: answer 400 (unless a response is under way) and close.
            switch state {
            case .idle, .receiving, .simple:
                state = .closed
                writeSimple(status: 400, contentType: "application/json",
                            body: Array(#"{"error":{"message":"malformed HTTP request","type":"invalid_request_error"}}"#.utf8), close: true)
                return
            default:
                break
            }
        }
        close()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, case .responding(let exchange?) = state { exchange.clientWritable() }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            if case .idle = state { close() }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The current exchange loses its client (closed, or the connection is torn down).
    private func abandonCurrent() {
        switch state {
        case .receiving(let exchange), .responding(let exchange?):
            state = .closed
            exchange.clientClosed()
        default:
            break
        }
    }

    // MARK: - Outbound, for the exchange

    var isWritable: Bool { context?.channel.isWritable ?? false }

    /// The current response's body is chunked (a stream).
    private var chunked = false
    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

    /// Writes a response head: with `contentLength` a complete body follows, without it a chunked stream.
    func writeHead(_ head: ResponseHead, contentLength: Int?) {
        guard let context else { return }
        var bytes = head.bytes
        if let contentLength {
            bytes.writeStaticString("content-length: ")
            bytes.writeString(String(contentLength))
            bytes.writeStaticString("\r\n")
            chunked = false
        } else {
            bytes.writeStaticString("transfer-encoding: chunked\r\n")
            chunked = true
        }
        if closesAfterResponse { bytes.writeStaticString("connection: close\r\n") }
        bytes.writeStaticString("\r\n")
        context.write(wrapOutboundOut(bytes), promise: nil)
    }

    func writeBody(_ buffer: ByteBuffer) {
        guard let context, buffer.readableBytes > 0 else { return }
        guard chunked else {
            context.write(wrapOutboundOut(buffer), promise: nil)
            return
        }
        var size = context.channel.allocator.buffer(capacity: 12)
        Self.writeHex(buffer.readableBytes, to: &size)
        size.writeStaticString("\r\n")
        context.write(wrapOutboundOut(size), promise: nil)
        context.write(wrapOutboundOut(buffer), promise: nil)
        context.write(wrapOutboundOut(Self.crlf), promise: nil)
    }

    static let crlf = ByteBuffer(staticString: "\r\n")
    static let lastChunk = ByteBuffer(staticString: "0\r\n\r\n")

    static func writeHex(_ n: Int, to out: inout ByteBuffer) {
        let digits: StaticString = "0123456789abcdef"
        var shift = 60
        while shift > 0, (n >> shift) & 0xF == 0 { shift -= 4 }
        while shift >= 0 {
            out.writeInteger(digits.utf8Start[(n >> shift) & 0xF])
            shift -= 4
        }
    }

    func flush() { context?.flush() }

    /// Ends the current response; the connection then takes the next request (or closes).
    func writeEnd() {
        guard let context else { return }
        if chunked {
            context.writeAndFlush(wrapOutboundOut(Self.lastChunk), promise: nil)
        } else {
            context.flush()
        }
        chunked = false
        responseComplete()
    }

    /// A response in the API's native error shape, with `extra` headers; ends the response. `early`: sent
    /// before the request's body was read, so the connection closes after it.
    func respondError(_ api: ModelAPI, status: Int, message: String, openAIType: String? = nil,
                      extra: ByteBuffer? = nil, early: Bool = false) {
        let body = api.errorBody(status: status, message: message, openAIType: openAIType)
        if early {
            closeAfterResponse = true
            if case .responding = state {
                // The request was read to its end already.
                writeSimple(status: status, contentType: "application/json", body: body, extra: extra, close: true)
                state = .closed
                return
            }
            state = .discarding
            discarded = 0
            writeSimple(status: status, contentType: "application/json", body: body, extra: extra)
            resumeReading()
            deadline = .now() + Self.lingerTime
            return
        }
        writeSimple(status: status, contentType: "application/json", body: body, extra: extra)
        responseComplete()
    }

    private func writeSimple(status: Int, contentType: String, body: [UInt8], extra: ByteBuffer? = nil, close: Bool = false) {
        guard let context else { return }
        var head = ResponseHead(status: status, allocator: context.channel.allocator)
        head.add("content-type", contentType)
        head.add("content-length", String(body.count))
        if let extra { head.add(lines: extra) }
        if close || closeAfterResponse || quiescing { head.add("connection", "close") }
        var bytes = head.bytes
        bytes.writeStaticString("\r\n")
        bytes.writeBytes(body)
        if close {
            context.writeAndFlush(wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        }
    }

    /// Whether the response should say `connection: close`.
    var closesAfterResponse: Bool { closeAfterResponse || quiescing }

    /// The response is written: next request, or close.
    private func responseComplete() {
        guard case .responding = state else { return }
        state = .idle
        if closeAfterResponse || quiescing {
            close()
            return
        }
        deadline = .now() + idleTimeout
        // Pipelined requests that waited.
        while case .idle = state, let part = queued.popFirst() { handle(part) }
        if queued.isEmpty { resumeReading() }
    }

    /// Stops reading from the client (while a key is looked up, or pipelined requests wait).
    func pauseReading() {
        guard !readingPaused, let channel = context?.channel else { return }
        readingPaused = true
        try? channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
    }

    func resumeReading() {
        guard readingPaused, let channel = context?.channel else { return }
        readingPaused = false
        try? channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
        channel.read()
    }

    /// Completes once the connection has closed (and its exchange, if any, is logged).
    var closeFuture: EventLoopFuture<Void>? { context?.channel.closeFuture }

    /// Closes the connection (an exchange in progress sees `clientClosed`).
    func close() {
        guard let context else { return }
        context.close(promise: nil)
    }

    /// Called by the loop's sweep: ends waits that ran out, and lets the exchange check its upstream.
    func sweep(now: NIODeadline) {
        if case .responding(let exchange?) = state { exchange.sweep(now: now) }
        guard let due = deadline, now >= due else { return }
        deadline = nil
        switch state {
        case .idle, .discarding:
            close()
        case .receiving(let exchange):
            // The request did not arrive in time (a slow or stalled client).
            exchange.abandonRequest()
            state = .responding(nil)
            respondError(exchange.api, status: 408, message: "the request was not received in time", early: true)
        default:
            break
        }
    }
}


/// A response head written as bytes: the status line, then header lines as they are added.
struct ResponseHead {
    var bytes: ByteBuffer

    init(status: Int, allocator: ByteBufferAllocator) {
        bytes = allocator.buffer(capacity: 512)
        bytes.writeStaticString("HTTP/1.1 ")
        bytes.writeString(String(status))
        bytes.writeStaticString(" ")
        bytes.writeString(HTTPResponseStatus(statusCode: status).reasonPhrase)
        bytes.writeStaticString("\r\n")
    }

    mutating func add(_ name: String, _ value: String) {
        bytes.writeString(name)
        bytes.writeStaticString(": ")
        bytes.writeString(value)
        bytes.writeStaticString("\r\n")
    }

    /// Appends preformatted `name: value\r\n` lines.
    mutating func add(lines: ByteBuffer) {
        var l = lines
        bytes.writeBuffer(&l)
    }
}
