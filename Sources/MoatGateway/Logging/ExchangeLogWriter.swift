import Dispatch
import MoatCore
import MoatStore
import Synchronization

/// Appends served exchanges to the store with group commit.
///
/// `append` returns only once the exchange's transaction has committed, and the proxy finishes a
/// response only after that, so every exchange a client got an answer for is in the log even if the
/// process is killed. Exchanges that arrive while a commit is running are written together in the next.
public final class ExchangeLogWriter: Sendable {
    private struct Pending {
        var exchange: Exchange
        var done: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var flushing = false
    }

    private let store: MoatStore
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "moat.exchange-log")
    private let metrics: GatewayMetrics?

    init(store: MoatStore, metrics: GatewayMetrics?) {
        self.store = store
        self.metrics = metrics
    }

    /// Durably appends one exchange.
    public func append(_ exchange: Exchange) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let schedule = state.withLock { s -> Bool in
                s.pending.append(Pending(exchange: exchange, done: c))
                if s.flushing { return false }
                s.flushing = true
                return true
            }
            if schedule { queue.async { self.flushLoop() } }
        }
    }

    /// Waits until everything appended so far is written (graceful shutdown).
    public func drain() {
        queue.sync {}
    }

    private func flushLoop() {
        while true {
            let batch = state.withLock { s -> [Pending] in
                let b = s.pending
                s.pending = []
                if b.isEmpty { s.flushing = false }
                return b
            }
            if batch.isEmpty { return }
            do {
                try store.appendExchanges(batch.map(\.exchange))
                metrics?.logged(batch: batch.count)
                for p in batch { p.done.resume() }
            } catch {
                for p in batch { p.done.resume(throwing: error) }
            }
        }
    }
}
