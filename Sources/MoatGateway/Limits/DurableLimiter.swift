import Foundation
import MoatStore
import Synchronization

/// The limiter of a gateway whose limits survive restarts: the in-process buckets (`RateLimiter`, as in
/// `LocalLimiter`), whose changed buckets are saved to the store a few times a second off the request
/// path, and restored on start with the usage of every exchange logged after the last save charged on top.
///
/// So a restart, or a crash loop, never hands out a fresh budget: a bucket comes back at the level it was
/// saved at plus what the log shows was used after that save. The only error is on the safe side: an
/// exchange admitted before a save and ended after it is charged twice (its reservation and its usage).
public final class DurableLimiter: UsageLimiter {
    private struct State {
        var limiter = RateLimiter()
        /// Subjects changed since the last save, and a flag per subject so marking costs no hashing.
        var dirty: [RateLimiter.SubjectID] = []
        var isDirty: [Bool] = []

        @inline(__always)
        mutating func mark(_ subjects: RateLimiter.Subjects) {
            subjects.forEach { subject in
                let i = Int(subject.id.raw)
                if i >= isDirty.count { isDirty.append(contentsOf: repeatElement(false, count: max(i + 1, isDirty.count * 2, 64) - isDirty.count)) }
                if !isDirty[i] {
                    isDirty[i] = true
                    dirty.append(subject.id)
                }
            }
        }
    }

    private let state = Mutex(State())
    public let subjects: SubjectTable
    let store: MoatStore

    public init(store: MoatStore, subjects: SubjectTable) {
        self.store = store
        self.subjects = subjects
    }

    public func reserve(_ request: RateLimiter.Request, now: Double) -> RateLimiter.Decision {
        state.withLock { s in
            let decision = s.limiter.admit(request, now: now)
            if case .admitted = decision { s.mark(request.subjects) }
            return decision
        }
    }

    public func settle(_ reservation: RateLimiter.Reservation, inputTokens: Int, outputTokens: Int, now: Double) {
        state.withLock { s in
            s.limiter.settle(reservation, inputTokens: inputTokens, outputTokens: outputTokens, now: now)
            s.mark(reservation.subjects)
        }
    }

    public func status(_ subjects: RateLimiter.Subjects, now: Double) -> RateLimiter.Status {
        state.withLock { $0.limiter.status(subjects, now: now) }
    }

    /// Charges usage the limiter did not see (exchanges logged after the last save).
    public func charge(_ subjects: RateLimiter.Subjects, inputTokens: Int, outputTokens: Int, now: Double) {
        state.withLock { s in
            s.limiter.charge(subjects, inputTokens: inputTokens, outputTokens: outputTokens, now: now)
            s.mark(subjects)
        }
    }

    /// Writes the buckets changed since the last save (blocking: call it off the event loops). Returns how
    /// many buckets were written.
    @discardableResult
    public func save(now: Double = Date().timeIntervalSince1970) throws -> Int {
        let taken: [RateLimiter.SavedBucket] = state.withLock { s in
            var out: [RateLimiter.SavedBucket] = []
            for id in s.dirty {
                s.isDirty[Int(id.raw)] = false
                out += s.limiter.saved(id)
            }
            s.dirty.removeAll(keepingCapacity: true)
            return out
        }
        let names = subjects.names(taken.map(\.id))
        let rows = zip(taken, names).map { b, n in
            LimitBucketRow(scope: n.0.rawValue, subject: n.1, dimension: b.dimension, level: b.level, at: b.at)
        }
        do {
            try store.saveLimitBuckets(rows, takenAt: now)
        } catch {
            // Saved next time instead.
            state.withLock { s in
                for b in taken where !s.isDirty[Int(b.id.raw)] {
                    s.isDirty[Int(b.id.raw)] = true
                    s.dirty.append(b.id)
                }
            }
            throw error
        }
        return rows.count
    }

    /// Puts the saved buckets back; returns when they were saved (Unix seconds), nil if never.
    public func restore() throws -> (buckets: Int, takenAt: Double?) {
        let (rows, takenAt) = try store.limitBuckets()
        state.withLock { s in
            for r in rows {
                guard let scope = RateLimiter.Scope(rawValue: r.scope) else { continue }
                let id = subjects.id(scope, r.subject)
                s.limiter.restore(RateLimiter.SavedBucket(id: id, dimension: r.dimension, level: r.level, at: r.at))
            }
        }
        return (rows.count, takenAt)
    }
}
