import Foundation
import MoatStore
import Synchronization

/// Writes the request loops' journal records on a thread of its own, so that a `write` the kernel holds
/// up (the filesystem's journal committing, writeback of the same file, a busy disk) stalls this thread
/// and not every request of an event loop.
///
/// Each event loop hands over one batch at a time (`LoopContext`): the records it gathered while the
/// previous batch was being written, framed, in one buffer. The writer appends each batch to the journal
/// in one `write`, in the order handed over, then calls the batch back with where the journal ends (or
/// nil when it could not be written) and the emptied buffer, for the loop to reuse. An answer's end is
/// still sent only after that call back: an exchange is in the journal before its client sees the end.
final class JournalWriter: Sendable {
    struct Batch: Sendable {
        var frames: [UInt8]
        var count: Int
        /// Called on the writer's thread once the batch is written (the journal's end) or failed (nil).
        var done: @Sendable (_ end: JournalPosition?, _ error: String?, _ emptied: [UInt8]) -> Void
    }

    private final class Queue: @unchecked Sendable {
        /// Guards `batches`, `running`, `stopping`.
        let condition = NSCondition()
        var batches: [Batch] = []
        var running = false
        var stopping = false
    }

    private let journal: ExchangeJournal
    private let metrics: GatewayMetrics
    private let queue = Queue()

    init(journal: ExchangeJournal, metrics: GatewayMetrics) {
        self.journal = journal
        self.metrics = metrics
    }

    /// Starts the writer's thread (at normal priority: it is on the request path).
    func start() {
        queue.condition.lock()
        let begin = !queue.running
        queue.running = true
        queue.stopping = false
        queue.condition.unlock()
        guard begin else { return }
        let thread = Thread { [self] in run() }
        thread.name = "moat.journal-write"
        thread.start()
    }

    /// Hands a batch over. When the writer is not running (before start, after stop) it is written on the
    /// calling thread instead: nothing handed over is left unanswered.
    func write(_ batch: Batch) {
        let c = queue.condition
        c.lock()
        guard queue.running, !queue.stopping else {
            c.unlock()
            perform(batch)
            return
        }
        queue.batches.append(batch)
        c.signal()
        c.unlock()
    }

    /// Writes what was handed over, then stops the thread. Returns once it has.
    func stop() {
        let c = queue.condition
        c.lock()
        queue.stopping = true
        c.broadcast()
        while queue.running { c.wait() }
        c.unlock()
    }

    private func run() {
        var taken: [Batch] = []
        let c = queue.condition
        while true {
            c.lock()
            while queue.batches.isEmpty && !queue.stopping { c.wait() }
            if queue.batches.isEmpty {
                queue.running = false
                c.broadcast()
                c.unlock()
                return
            }
            swap(&taken, &queue.batches)
            c.unlock()
            for batch in taken { perform(batch) }
            taken.removeAll(keepingCapacity: true)
        }
    }

    private func perform(_ batch: Batch) {
        var frames = batch.frames
        let began = ContinuousClock.now
        var end: JournalPosition?
        var failure: String?
        do {
            end = try frames.withUnsafeBytes { try journal.append(frames: $0, count: batch.count) }
        } catch {
            failure = "\(error)"
        }
        let took = ContinuousClock.now - began
        metrics.journalWrite(seconds: Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)
        frames.removeAll(keepingCapacity: true)
        batch.done(end, failure, frames)
    }
}
