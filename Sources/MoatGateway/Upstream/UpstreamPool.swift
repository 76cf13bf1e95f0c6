import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Keep-alive HTTP/1.1 connections to one upstream, owned by one event loop: the loop of the client
/// connections that use them, so a request never changes threads. Every method runs on that loop.
final class UpstreamPool {
    let endpoint: UpstreamEndpoint
    let loop: any EventLoop
    let maxConnections: Int
    static let connectTimeout = TimeAmount.seconds(10)
    static let idleTimeout = TimeAmount.seconds(60)

    /// Connections waiting for a request, most recently used last.
    private var idle: [UpstreamConnection] = []
    /// Connections open or being opened.
    private(set) var count = 0
    /// Requests waiting for a connection (the pool is at `maxConnections`).
    private var waiting = CircularBuffer<ProxyExchange>()
    private var sweep: Scheduled<Void>?

    init(endpoint: UpstreamEndpoint, loop: any EventLoop, maxConnections: Int) {
        self.endpoint = endpoint
        self.loop = loop
        self.maxConnections = maxConnections
    }

    var idleCount: Int { idle.count }

    /// Hands `exchange` a connection: an idle one at once, else a new one (or, at the limit, the next freed).
    /// `fresh` skips idle connections (a retry after a reused one failed).
    func acquire(_ exchange: ProxyExchange, fresh: Bool = false) {
        if !fresh {
            while let c = idle.popLast() {
                if c.isUsable {
                    exchange.upstreamReady(c)
                    return
                }
                c.close()
            }
        }
        if count < maxConnections {
            connect(for: exchange)
        } else {
            waiting.append(exchange)
        }
    }

    private func connect(for exchange: ProxyExchange) {
        count += 1
        let endpoint = self.endpoint
        // The channel is created on this pool's loop, so the pool may be used in its initializer.
        let pool = NIOLoopBound(self, eventLoop: loop)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(Self.connectTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls = endpoint.tlsContext {
                        try sync.addHandler(NIOSSLClientHandler(context: tls, serverHostname: endpoint.address.host))
                    }
                    try sync.addHandler(UpstreamConnection(pool: pool.value))
                }
            }
        bootstrap.connect(host: endpoint.address.host, port: endpoint.address.port).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let channel):
                guard let c = try? channel.pipeline.syncOperations.handler(type: UpstreamConnection.self) else {
                    channel.close(promise: nil)
                    count -= 1
                    exchange.upstreamFailed(UpstreamError.connect("connection set-up failed"), connection: nil)
                    return
                }
                if exchange.wantsUpstream {
                    exchange.upstreamReady(c)
                } else {
                    release(c)
                }
            case .failure(let error):
                count -= 1
                exchange.upstreamFailed(UpstreamError.connect("\(error)"), connection: nil)
                startWaiter()
            }
        }
    }

    /// A connection finished a response and can serve another.
    func release(_ c: UpstreamConnection) {
        guard c.isUsable, c.reusable else {
            c.close()
            return
        }
        c.resumeReading()
        while let next = waiting.popFirst() {
            if next.wantsUpstream {
                next.upstreamReady(c)
                return
            }
        }
        c.idleSince = .now()
        idle.append(c)
        scheduleSweep()
    }

    /// A connection closed (by either side).
    func closed(_ c: UpstreamConnection) {
        count -= 1
        if let i = idle.firstIndex(where: { $0 === c }) { idle.remove(at: i) }
        startWaiter()
    }

    private func startWaiter() {
        while count < maxConnections, let next = waiting.popFirst() {
            if next.wantsUpstream {
                connect(for: next)
                return
            }
        }
    }

    private func scheduleSweep() {
        guard sweep == nil else { return }
        sweep = loop.assumeIsolated().scheduleTask(in: .seconds(15)) { [self] in
            sweep = nil
            let limit = NIODeadline.now() - Self.idleTimeout
            for c in idle where c.idleSince < limit { c.close() }
            if !idle.isEmpty { scheduleSweep() }
        }
    }

    /// Closes idle connections (shutdown).
    func closeIdle() {
        for c in idle { c.close() }
        sweep?.cancel()
        sweep = nil
    }
}

enum UpstreamError: Error, CustomStringConvertible {
    case connect(String)
    case closed
    case failed(String)

    var description: String {
        switch self {
        case .connect(let e): return "cannot connect: \(e)"
        case .closed: return "connection closed"
        case .failed(let e): return e
        }
    }
}

/// One upstream connection and the handler at the end of its pipeline: it writes a request as one
/// buffer of raw bytes, parses the response itself (`UpstreamResponseParser`), hands head and body to the
/// exchange it serves, and goes back to its pool when the response is complete.
final class UpstreamConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let pool: UpstreamPool
    private var context: ChannelHandlerContext?
    /// The exchange whose response this connection carries now.
    var exchange: ProxyExchange?
    /// Responses this connection completed (a failure before any byte of a reused one may be a stale
    /// keep-alive connection).
    private(set) var served = 0
    /// The last response allows another request on this connection.
    private(set) var reusable = true
    private var parser = UpstreamResponseParser()
    private var lastError: (any Error)?
    private var paused = false
    var idleSince = NIODeadline.now()
    private var isClosed = false

    init(pool: UpstreamPool) { self.pool = pool }

    var isUsable: Bool { !isClosed && (context?.channel.isActive ?? false) }
    var allocator: ByteBufferAllocator { context?.channel.allocator ?? ByteBufferAllocator() }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// Sends a request (one buffer, one flush) for `exchange`.
    func send(_ request: ByteBuffer, for exchange: ProxyExchange) {
        guard let context else {
            exchange.upstreamFailed(UpstreamError.closed, connection: self)
            return
        }
        self.exchange = exchange
        reusable = true
        parser.reset()
        context.writeAndFlush(wrapOutboundOut(request), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = unwrapInboundIn(data)
        guard let e = exchange else {
            // Bytes nobody asked for: the connection is out of step; drop it.
            context.close(promise: nil)
            return
        }
        do {
            var ended = false
            try parser.feed(bytes, allocator: context.channel.allocator) { event in
                switch event {
                case .head(let head):
                    if !head.keepAlive { reusable = false }
                    e.upstreamHead(head)
                case .body(let buffer):
                    e.upstreamBody(buffer)
                case .end:
                    ended = true
                }
            }
            if ended { finishResponse(e) }
        } catch {
            lastError = error
            context.close(promise: nil)
        }
    }

    private func finishResponse(_ e: ProxyExchange) {
        served += 1
        exchange = nil
        e.upstreamEnd(connection: self)
        pool.release(self)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.upstreamReadComplete()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosed = true
        reusable = false
        if let e = exchange {
            var ended = false
            _ = parser.closed { if case .end = $0 { ended = true } }
            if ended {
                finishResponse(e)
                pool.closed(self)
                context.fireChannelInactive()
                return
            }
        }
        let e = exchange
        exchange = nil
        pool.closed(self)
        e?.upstreamFailed(lastError.map { UpstreamError.failed("\($0)") } ?? UpstreamError.closed, connection: self)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        lastError = error
        context.close(promise: nil)
    }

    /// Stops reading the response (the client is not keeping up) until `resumeReading`.
    func pauseReading() {
        guard !paused, let channel = context?.channel else { return }
        paused = true
        try? channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
    }

    func resumeReading() {
        guard paused, let channel = context?.channel else { return }
        paused = false
        try? channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
        channel.read()
    }

    /// Gives up the connection (mid-response, or stale): closes it; the pool forgets it when it is closed.
    func close() {
        exchange = nil
        guard !isClosed else { return }
        context?.close(promise: nil)
    }
}
