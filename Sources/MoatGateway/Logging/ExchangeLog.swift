import Foundation
import Logging
import MoatCore
import MoatStore
import Synchronization

/// The gateway's exchange log: the store's journal, written for the request handlers by a writer thread
/// of its own (`JournalWriter`; a `write` the kernel holds up stalls it, not an event loop), with a
/// flusher thread (group fsync) and an ingester thread (journal to SQLite), both off the path.
///
/// An exchange is durable once `append` returns (in the page cache: it survives the gateway being
/// killed) and, with `log.durability: fsync`, once `waitForSync` calls back (on disk). The backlog of
/// journal not yet in SQLite is bounded: past `log.max_backlog_mb` the gateway refuses new requests
/// (503) until the store catches up, instead of queueing without end.
public final class ExchangeLog: Sendable {
    public let journal: ExchangeJournal
    public let ingester: JournalIngester
    /// Writes the event loops' batches; nil when they write the journal themselves, on the loop
    /// (`MOAT_JOURNAL_ON_LOOP=1`: the previous design, kept to measure one against the other).
    let writer: JournalWriter?
    let durability: GatewayConfig.LogConfig.Durability
    let fsyncInterval: Duration
    let maxBacklogBytes: Int64
    private let overBacklog = Atomic<Bool>(false)
    private let state = Mutex(State())
    private let metrics: GatewayMetrics
    private let logger: Logger

    private struct State {
        var flusherRunning = false
        var stopping = false
    }

    private let flusherDone = NSCondition()

    init(store: MoatStore, config: GatewayConfig.LogConfig, metrics: GatewayMetrics, logger: Logger) throws {
        journal = try ExchangeJournal(directory: store.journalDirectory)
        writer = ProcessInfo.processInfo.environment["MOAT_JOURNAL_ON_LOOP"] == "1" ? nil : JournalWriter(journal: journal, metrics: metrics)
        self.metrics = metrics
        self.logger = logger
        durability = config.durability
        fsyncInterval = .milliseconds(config.fsyncIntervalMs)
        maxBacklogBytes = Int64(config.maxBacklogMB * 1_048_576)
        ingester = try JournalIngester(
            store: store, journal: journal,
            onBatch: { records in metrics.ingested(records: records) },
            onError: { message in logger.error("cannot write the exchange log to the store; retrying", metadata: ["error": "\(message)"]) })
        // What a crash left in the journal goes into the store before anything new is served.
        let recovered = try ingester.catchUp()
        if recovered > 0 { logger.notice("exchange log recovered from the journal", metadata: ["exchanges": "\(recovered)"]) }
    }

    /// Starts the ingester and the flusher.
    func start() {
        writer?.start()
        ingester.start()
        let begin = state.withLock { s -> Bool in
            if s.flusherRunning { return false }
            s.flusherRunning = true
            return true
        }
        guard begin else { return }
        let thread = Thread { [self] in flushLoop() }
        thread.name = "moat.journal-fsync"
        thread.start()
    }

    /// True while the store lags the journal by more than the configured backlog.
    var isOverBacklog: Bool { overBacklog.load(ordering: .relaxed) }

    var waitsForSync: Bool { durability == .fsync }

    /// The group fsync: every `fsync_interval_ms` when something changed, at once when someone waits.
    /// Also watches the backlog every 100 ms.
    private func flushLoop() {
        BackgroundPriority.lowerCurrentThread()
        var lastSync = ContinuousClock.now
        let tick = min(fsyncInterval, .milliseconds(100))
        while !state.withLock({ $0.stopping }) {
            let waiting = journal.hasSyncWaiters || journal.waitForSyncRequest(timeout: tick)
            let now = ContinuousClock.now
            if waiting || now - lastSync >= fsyncInterval {
                journal.sync()
                lastSync = now
            }
            updateBacklog()
        }
        journal.sync()
        flusherDone.lock()
        state.withLock { $0.flusherRunning = false }
        flusherDone.broadcast()
        flusherDone.unlock()
    }

    func updateBacklog() {
        let backlog = ingester.backlogBytes
        metrics.logBacklog(bytes: backlog)
        let over = backlog > maxBacklogBytes
        if over != overBacklog.load(ordering: .relaxed) {
            overBacklog.store(over, ordering: .relaxed)
            if over {
                logger.error("the store lags the exchange journal by more than log.max_backlog_mb: refusing new requests until it catches up",
                             metadata: ["backlog_bytes": "\(backlog)"])
            } else {
                logger.notice("the store caught up with the exchange journal")
            }
        }
    }

    /// Stops the writer (after writing what it was handed), stops taking records, syncs, lets the ingester write everything to the store, stops both threads.
    func close() {
        writer?.stop()
        journal.closeForWriting()
        ingester.stop()
        state.withLock { $0.stopping = true }
        journal.wakeSyncRequests()
        flusherDone.lock()
        while state.withLock({ $0.flusherRunning }) { _ = flusherDone.wait(until: Date().addingTimeInterval(0.1)) }
        flusherDone.unlock()
        metrics.logBacklog(bytes: 0)
    }
}
