import NIOCore
import Synchronization

/// A limiter's answer on the request path: now, or once a store has answered.
public enum LimiterAdmission {
    case now(RateLimiter.Decision)
    case later(EventLoopFuture<RateLimiter.Decision>)
}

/// Admission against usage limits, in two steps: reserve when a request is admitted (from `max_tokens`),
/// settle with the real usage when its exchange ends, whatever way it ends.
///
/// `LocalLimiter` keeps every bucket of this process in memory. A limiter shared by several gateway
/// replicas (budgets leased from a database) plugs in behind the same two calls; the request path does
/// not change.
public protocol UsageLimiter: Sendable {
    func reserve(_ request: RateLimiter.Request, now: Double) -> RateLimiter.Decision
    func settle(_ reservation: RateLimiter.Reservation, inputTokens: Int, outputTokens: Int, now: Double)
    /// The current windows of these subjects, for headers and the admin API.
    func status(_ subjects: RateLimiter.Subjects, now: Double) -> RateLimiter.Status
    /// The request path's admission: a limiter that must ask a store answers with a future on `eventLoop`.
    func admit(_ request: RateLimiter.Request, now: Double, on eventLoop: any EventLoop) -> LimiterAdmission
}

extension UsageLimiter {
    public func admit(_ request: RateLimiter.Request, now: Double, on eventLoop: any EventLoop) -> LimiterAdmission {
        .now(reserve(request, now: now))
    }
}

/// The in-process limiter: one `RateLimiter` behind a mutex.
public final class LocalLimiter: UsageLimiter {
    private let state = Mutex(RateLimiter())

    public init() {}

    public func reserve(_ request: RateLimiter.Request, now: Double) -> RateLimiter.Decision {
        state.withLock { $0.admit(request, now: now) }
    }

    public func settle(_ reservation: RateLimiter.Reservation, inputTokens: Int, outputTokens: Int, now: Double) {
        state.withLock { $0.settle(reservation, inputTokens: inputTokens, outputTokens: outputTokens, now: now) }
    }

    public func status(_ subjects: RateLimiter.Subjects, now: Double) -> RateLimiter.Status {
        state.withLock { $0.status(subjects, now: now) }
    }
}

/// Interned subject ids: each key, account and organisation gets a small integer once, the first time it
/// is seen (when its key is looked up, off the request path), and keeps it for the life of the process.
/// The table grows only with keys that authenticated, never with what a client sends.
public final class SubjectTable: Sendable {
    private struct State {
        var ids: [RateLimiter.Scope: [String: Int32]] = [.key: [:], .account: [:], .org: [:]]
        var names: [(RateLimiter.Scope, String)] = []
        var next: Int32 = 0
    }

    private let state = Mutex(State())

    public init() {}

    public func id(_ scope: RateLimiter.Scope, _ name: String) -> RateLimiter.SubjectID {
        state.withLock { s in
            if let id = s.ids[scope]?[name] { return RateLimiter.SubjectID(id) }
            let id = s.next
            s.next += 1
            s.ids[scope, default: [:]][name] = id
            s.names.append((scope, name))
            return RateLimiter.SubjectID(id)
        }
    }

    public var count: Int { state.withLock { Int($0.next) } }

    /// The scope and name of interned subjects.
    public func names(_ ids: [RateLimiter.SubjectID]) -> [(RateLimiter.Scope, String)] {
        state.withLock { s in ids.map { s.names[Int($0.raw)] } }
    }
}
