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
    /// Records framed since the last batch was handed to the journal writer, and what to do once they
    /// are written; handed over at the end of this loop pass, or when the batch being written returns.
    private var frames: [UInt8] = []
    private var framed = 0
    private var afterLogged: [(Bool) -> Void] = []
    private var flushScheduled = false
    /// A batch is being written (at most one per loop): what to do once it is, and the buffer it returns.
    private var writing = false
    private var afterWritten: [(Bool) -> Void] = []
    private var spareFrames: [UInt8] = []
    private var drainWaiters: [EventLoopPromise<Void>] = []
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
        spareFrames.reserveCapacity(64 << 10)
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

    /// Logs an exchange: serialised now, handed to the journal writer (`JournalWriter`) with the other
    /// records of this loop pass at its end, or, while the previous batch is being written, with every
    /// record that comes meanwhile once it is. `then` runs on this loop after the write (and, with
    /// `log.durability: fsync`, after the journal's group fsync): true once durable, false if it could not
    /// be written.
    func log(_ exchange: Exchange, then: @escaping (Bool) -> Void) {
        line.reset()
        exchange.write(to: &line)
        line.bytes.withUnsafeBytes {
            ExchangeJournal.appendFrame(id: exchange.id, account: exchange.accountID, tsMs: exchange.ts.milliseconds, line: $0, to: &frames)
        }
        framed += 1
        afterLogged.append(then)
        if !flushScheduled && !writing {
            flushScheduled = true
            eventLoop.assumeIsolated().execute { [self] in flushLog() }
        }
    }

    /// More journal bytes wait on this loop than a stalled disk should be allowed to pile up: new requests
    /// are refused (503) until the writer catches up.
    var isJournalBehind: Bool { frames.count > Self.maxWaitingJournalBytes }
    static let maxWaitingJournalBytes = 64 << 20

    /// Hands the records gathered so far to the journal writer (or writes them here, without one).
    private func flushLog() {
        flushScheduled = false
        guard !writing, framed > 0 else { return }
        writing = true
        swap(&afterWritten, &afterLogged)
        let count = framed
        framed = 0
        var batch = spareFrames
        swap(&batch, &frames)
        guard let writer = log.writer else {
            let began = NIODeadline.now()
            var end: JournalPosition?
            var failure: String?
            do {
                end = try batch.withUnsafeBytes { try log.journal.append(frames: $0, count: count) }
            } catch {
                failure = "\(error)"
            }
            metrics.journalWrite(seconds: Double((NIODeadline.now() - began).nanoseconds) / 1e9)
            batch.removeAll(keepingCapacity: true)
            written(end: end, failure: failure, count: count, emptied: batch)
            return
        }
        let eventLoop = self.eventLoop
        writer.write(.init(frames: batch, count: count) { [self] end, failure, emptied in
            eventLoop.execute { [self] in written(end: end, failure: failure, count: count, emptied: emptied) }
        })
    }

    /// A batch is written (`end`) or failed: answers wait no more for it; the next batch goes.
    private func written(end: JournalPosition?, failure: String?, count: Int, emptied: [UInt8]) {
        writing = false
        spareFrames = emptied
        var callbacks: [(Bool) -> Void] = []
        swap(&callbacks, &afterWritten)
        if let failure {
            metrics.logFailed()
            logger.error("cannot write exchanges to the journal: their answers are not completed",
                         metadata: ["error": "\(failure)", "exchanges": "\(count)"])
        }
        // What came meanwhile is written while these answers go out.
        if framed > 0 { flushLog() }
        if let end, log.waitsForSync {
            let bound = NIOLoopBound(callbacks, eventLoop: eventLoop)
            let eventLoop = self.eventLoop
            log.journal.waitForSync(through: end) { ok in
                eventLoop.execute { for c in bound.value { c(ok) } }
            }
        } else {
            for c in callbacks { c(end != nil) }
        }
        if !writing && framed == 0 && !drainWaiters.isEmpty {
            let waiters = drainWaiters
            drainWaiters.removeAll()
            for p in waiters { p.succeed() }
        }
    }

    /// Succeeds once every record logged on this loop so far is written (or failed) and called back.
    func logWritten() -> EventLoopFuture<Void> {
        guard writing || framed > 0 else { return eventLoop.makeSucceededVoidFuture() }
        let p = eventLoop.makePromise(of: Void.self)
        drainWaiters.append(p)
        if !writing && !flushScheduled { flushLog() }
        return p.futureResult
    }

    private var sweeping: RepeatedTask?
    /// How often timeouts are checked (client idle and read timeouts, upstream silence).
    static let sweepInterval = TimeAmount.milliseconds(100)

    private var probing: RepeatedTask?
    private var probeDue = NIODeadline.now()
    /// How often the loop-lag probe runs.
    static let probeInterval = TimeAmount.milliseconds(5)

    /// Starts the loop-lag probe: a task due every `probeInterval`, recording how late it ran
    /// (`moat_event_loop_lag_seconds`), which is what a request arriving then waited for the loop.
    private func startProbe() {
        probeDue = .now() + Self.probeInterval
        probing = eventLoop.scheduleRepeatedTask(initialDelay: Self.probeInterval, delay: Self.probeInterval) {
            [self] (_: RepeatedTask) in
            let now = NIODeadline.now()
            metrics.loopLag(seconds: Double(max(0, (now - probeDue).nanoseconds)) / 1e9)
            probeDue = now + Self.probeInterval
        }
    }

    func opened(_ c: ProxyConnection) {
        connections[ObjectIdentifier(c)] = c
        if probing == nil { startProbe() }
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
        probing?.cancel()
        probing = nil
    }

    func closeIdleConnections() {
        for pool in pools { pool?.closeIdle() }
    }
}
