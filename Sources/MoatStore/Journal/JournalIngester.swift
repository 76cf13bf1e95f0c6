import Foundation
import Synchronization

/// Moves exchanges from the journal into the store's log, off the request path: one thread that follows
/// the journal and writes what it finds in batches (one transaction per batch, with the new position),
/// then deletes the journal segments every consumer is done with.
///
/// The gateway's answers never wait for it: an exchange is durable once it is in the journal. How far it
/// lags (`backlogBytes`) is what the gateway's admission watches to push back when SQLite cannot keep up.
public final class JournalIngester: Sendable {
    public let store: MoatStore
    public let journal: ExchangeJournal
    public static let cursorName = "ingest"
    /// After being woken by new records, how long to gather more before writing: bounds the commit (and
    /// fsync) rate to about 1/gather under any load, while keeping the log a few milliseconds behind.
    public static let gather: Duration = .milliseconds(50)

    private struct State {
        var position: JournalPosition
        var ingested: Int64 = 0
        var batches: Int64 = 0
        var stopping = false
        var running = false
        var lastError: String?
    }

    private let state: Mutex<State>
    private let done = NSCondition()
    private let onBatch: (@Sendable (_ records: Int) -> Void)?
    private let onError: (@Sendable (_ message: String) -> Void)?

    /// Starts from where the store says ingestion stopped.
    public init(store: MoatStore, journal: ExchangeJournal, onBatch: (@Sendable (Int) -> Void)? = nil,
                onError: (@Sendable (String) -> Void)? = nil) throws {
        self.store = store
        self.journal = journal
        self.onBatch = onBatch
        self.onError = onError
        let position = try store.journalPosition()
        state = Mutex(State(position: position))
        journal.setCursor(Self.cursorName, position)
    }

    /// Syncs the store's files, then lets the journal drop what precedes `position`.
    private func makeDurable(_ position: JournalPosition) {
        store.syncFiles()
        journal.setCursor(Self.cursorName, position)
        journal.removeConsumedSegments()
    }

    /// Ingests everything written so far, on the calling thread (recovery before serving). Returns how many records.
    @discardableResult
    public func catchUp() throws -> Int {
        var reader = JournalReader(directory: journal.directory, from: position)
        var total = 0
        while true {
            let n = try store.ingest(from: &reader, limit: journal.end)
            if n == 0 { break }
            total += n
            committed(reader.position, records: n)
        }
        if total > 0 { makeDurable(reader.position) }
        return total
    }

    public func start() {
        let begin = state.withLock { s -> Bool in
            if s.running { return false }
            s.running = true
            s.stopping = false
            return true
        }
        guard begin else { return }
        let thread = Thread { [self] in run() }
        thread.name = "moat.journal-ingest"
        thread.start()
    }

    /// Ingests what is left (up to the journal's end now), then stops the thread. Returns once it has.
    public func stop() {
        state.withLock { $0.stopping = true }
        journal.wakeReaders()
        done.lock()
        while state.withLock({ $0.running }) { _ = done.wait(until: Date().addingTimeInterval(0.1)) }
        done.unlock()
    }

    /// How far the log has the journal.
    public var position: JournalPosition { state.withLock { $0.position } }
    public var ingested: Int64 { state.withLock { $0.ingested } }
    public var lastError: String? { state.withLock { $0.lastError } }

    /// Journal bytes not yet in the log.
    public var backlogBytes: Int64 { journal.bytes(after: position) }

    /// Waits until the log has the journal up to `target` (default: its end now). False on timeout.
    public func waitUntilIngested(_ target: JournalPosition? = nil, timeout: Duration = .seconds(10)) -> Bool {
        let target = target ?? journal.end
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
        done.lock()
        defer { done.unlock() }
        while position < target {
            if !done.wait(until: deadline) { return position >= target }
        }
        return true
    }

    private func committed(_ position: JournalPosition, records: Int) {
        let movedSegment = state.withLock { s -> Bool in
            let moved = s.position.segment != position.segment
            s.position = position
            s.ingested += Int64(records)
            s.batches += 1
            s.lastError = nil
            return moved
        }
        // A journal segment goes only once what came from it is on disk in the store.
        if movedSegment { makeDurable(position) }
        onBatch?(records)
        done.lock()
        done.broadcast()
        done.unlock()
    }

    private func run() {
        BackgroundPriority.lowerOwnThread()
        var reader = JournalReader(directory: journal.directory, from: position)
        while true {
            let stopping = state.withLock { $0.stopping }
            let end = journal.end
            do {
                let n = try store.ingest(from: &reader, limit: end)
                if n > 0 {
                    committed(reader.position, records: n)
                    continue
                }
            } catch {
                let message = "\(error)"
                state.withLock { $0.lastError = message }
                onError?(message)
                // Start again from what is committed: the failed batch is read again.
                reader = JournalReader(directory: journal.directory, from: position)
                Thread.sleep(forTimeInterval: 0.5)
                if stopping { break }
                continue
            }
            if stopping || journal.isClosed { break }
            if journal.waitForAppend(after: reader.position, timeout: .milliseconds(200)) {
                Thread.sleep(forTimeInterval: Double(Self.gather.components.attoseconds) / 1e18)
            }
        }
        makeDurable(reader.position)
        state.withLock { $0.running = false }
        done.lock()
        done.broadcast()
        done.unlock()
    }
}
