import Logging
import MoatCore
import MoatStore
import NIOCore
import Prometheus

/// What the proxy keeps per event loop: upstream connection pools, cached metric handles and a reusable
/// buffer to serialise log records. Touched only on its loop, so it needs no lock.
final class LoopContext: @unchecked Sendable {
    let eventLoop: any EventLoop
    let eventLoopAllocator = ByteBufferAllocator()
    /// By API: 0 OpenAI, 1 Anthropic; nil when that API has no upstream.
    let pools: [UpstreamPool?]
    private let metrics: GatewayMetrics
    private var counters: [CounterKey: Counter] = [:]

    private struct CounterKey: Hashable {
        var api: Int8
        var status: Int
        var outcome: String
    }
    private var line = JSONBuffer(capacity: 8 << 10)
    private let log: ExchangeLog
    private let logger: Logger
    /// Records of this loop pass, framed, waiting to be written together; and what to do after.
    private var frames: [UInt8] = []
    private var framed = 0
    private var afterLogged: [(Bool) -> Void] = []
    private var flushScheduled = false
    private var ids = ExchangeIDs()
    /// Open client connections of this loop.
    private var connections: [ObjectIdentifier: ProxyConnection] = [:]

    init(eventLoop: any EventLoop, endpoints: [UpstreamEndpoint?], maxConnections: Int, metrics: GatewayMetrics,
         log: ExchangeLog, logger: Logger) {
        self.eventLoop = eventLoop
        self.metrics = metrics
        self.log = log
        self.logger = logger
        frames.reserveCapacity(64 << 10)
        pools = endpoints.map { $0.map { UpstreamPool(endpoint: $0, loop: eventLoop, maxConnections: maxConnections) } }
    }

    /// Counts a request by API, status and outcome; the counter is created the first time.
    func count(api: ModelAPI?, status: Int, outcome: String) {
        let key = CounterKey(api: api == .openAI ? 1 : api == .anthropic ? 2 : 0, status: status, outcome: outcome)
        if let c = counters[key] {
            c.increment()
            return
        }
        let c = metrics.makeRequestCounter(api: api, status: status, outcome: outcome)
        counters[key] = c
        c.increment()
    }

    func nextExchangeID(milliseconds: Int64) -> String { ids.next(milliseconds: milliseconds) }

    /// Logs an exchange: serialised now, written to the journal with the other records of this loop
    /// pass in one write at its end; `then` runs after that write (and, with `log.durability: fsync`,
    /// after the journal's group fsync): true once durable, false if it could not be written.
    func log(_ exchange: Exchange, then: @escaping (Bool) -> Void) {
        line.reset()
        exchange.write(to: &line)
        line.bytes.withUnsafeBytes {
            ExchangeJournal.appendFrame(id: exchange.id, account: exchange.accountID, tsMs: exchange.ts.milliseconds, line: $0, to: &frames)
        }
        framed += 1
        afterLogged.append(then)
        if !flushScheduled {
            flushScheduled = true
            eventLoop.assumeIsolated().execute { [self] in flushLog() }
        }
    }

    private func flushLog() {
        flushScheduled = false
        let callbacks = afterLogged
        afterLogged.removeAll(keepingCapacity: true)
        let count = framed
        framed = 0
        var position: JournalPosition?
        do {
            position = try frames.withUnsafeBytes { try log.journal.append(frames: $0, count: count) }
        } catch {
            metrics.logFailed()
            logger.error("cannot write exchanges to the journal: their answers are not completed",
                         metadata: ["error": "\(error)", "exchanges": "\(count)"])
        }
        frames.removeAll(keepingCapacity: true)
        guard let position, log.waitsForSync else {
            for c in callbacks { c(position != nil) }
            return
        }
        let bound = NIOLoopBound(callbacks, eventLoop: eventLoop)
        let eventLoop = self.eventLoop
        log.journal.waitForSync(through: position) { ok in
            eventLoop.execute { for c in bound.value { c(ok) } }
        }
    }

    private var sweeping: RepeatedTask?
    /// How often timeouts are checked (client idle and read timeouts, upstream silence).
    static let sweepInterval = TimeAmount.milliseconds(100)

    func opened(_ c: ProxyConnection) {
        connections[ObjectIdentifier(c)] = c
        if sweeping == nil {
            sweeping = eventLoop.scheduleRepeatedTask(initialDelay: Self.sweepInterval, delay: Self.sweepInterval) {
                [self] (_: RepeatedTask) in sweep()
            }
        }
    }

    /// One pass over the loop's connections: timeouts without a timer per request.
    private func sweep() {
        let now = NIODeadline.now()
        for c in connections.values { c.sweep(now: now) }
    }

    func closed(_ c: ProxyConnection) { connections[ObjectIdentifier(c)] = nil }

    /// Closes every client connection of this loop (their exchanges end as `cancelled`); returns when
    /// each will have closed.
    func closeClientConnections() -> [EventLoopFuture<Void>] {
        connections.values.compactMap { c in
            let closed = c.closeFuture
            c.close()
            return closed
        }
    }

    func stopSweeping() {
        sweeping?.cancel()
        sweeping = nil
    }

    func closeIdleConnections() {
        for pool in pools { pool?.closeIdle() }
    }
}
