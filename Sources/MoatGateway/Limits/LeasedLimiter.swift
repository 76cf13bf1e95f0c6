import Logging
import MoatStore
import NIOCore
import Synchronization

/// The limiter of gateway replicas that share limits through a store (PostgreSQL): a `LeaseLedger` behind a
/// mutex, which admits from the leases this replica holds and, when they do not cover a request, leases
/// what is missing from the store (off the event loop; the request waits for that one round trip).
/// `LeaseReturnService` gives unused leases back a few times a second.
public final class LeasedLimiter: UsageLimiter {
    private let ledger: Mutex<LeaseLedger>
    let store: any LimitLeaseStore
    let logger: Logger

    public init(store: any LimitLeaseStore, idleSeconds: Double = 0.25, logger: Logger = Logger(label: "moat.limits")) {
        ledger = Mutex(LeaseLedger(idleSeconds: idleSeconds))
        self.store = store
        self.logger = logger
    }

    /// Decides from the leases held only; a request that needs a lease is refused for a second (the request
    /// path uses `admit(_:now:on:)`, which waits for the lease instead).
    public func reserve(_ request: RateLimiter.Request, now: Double) -> RateLimiter.Decision {
        ledger.withLock { l in
            switch l.admit(request, now: now) {
            case .decided(let d): return d
            case .lease(_, let needs): return l.unavailable(request, needs: needs, now: now)
            }
        }
    }

    public func admit(_ request: RateLimiter.Request, now: Double, on eventLoop: any EventLoop) -> LimiterAdmission {
        switch ledger.withLock({ $0.admit(request, now: now) }) {
        case .decided(let d):
            return .now(d)
        case .lease(let asks, let needs):
            return .later(eventLoop.makeFutureWithTask { await self.lease(request, asks: asks, needs: needs, now: now) })
        }
    }

    /// Leases what `request` misses (again, at most twice more, when concurrent requests took the leases first).
    func lease(_ request: RateLimiter.Request, asks: [LeaseAsk], needs: [LeaseLedger.Need], now: Double) async -> RateLimiter.Decision {
        var (asks, needs) = (asks, needs)
        for _ in 0..<3 {
            let grants: [LeaseGrant]
            do {
                grants = try await store.lease(asks, now: now)
            } catch {
                logger.error("cannot lease limits from the store; refusing the request", metadata: ["error": "\(error)"])
                return ledger.withLock { $0.unavailable(request, needs: needs, now: now) }
            }
            switch ledger.withLock({ $0.leased(request, needs: needs, asks: asks, grants: grants, now: now) }) {
            case .decided(let d): return d
            case .lease(let a, let n): (asks, needs) = (a, n)
            }
        }
        return ledger.withLock { $0.unavailable(request, needs: needs, now: now) }
    }

    public func settle(_ reservation: RateLimiter.Reservation, inputTokens: Int, outputTokens: Int, now: Double) {
        ledger.withLock { $0.settle(reservation, inputTokens: inputTokens, outputTokens: outputTokens, now: now) }
    }

    public func status(_ subjects: RateLimiter.Subjects, now: Double) -> RateLimiter.Status {
        ledger.withLock { $0.status(subjects, now: now) }
    }

    /// Gives back leases unused for a while, and charges debts (`all`: every lease, at shutdown). Returns how
    /// many budgets were settled.
    @discardableResult
    public func giveBack(now: Double, all: Bool = false) async throws -> Int {
        let returns = ledger.withLock { l in
            if all { l.idleSeconds = 0 }
            return l.returns(now: now)
        }
        guard !returns.isEmpty else { return 0 }
        do {
            try await store.giveBack(returns, now: now)
        } catch {
            ledger.withLock { $0.restore(returns) }
            throw error
        }
        return returns.count
    }
}
