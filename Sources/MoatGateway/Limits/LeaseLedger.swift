import MoatStore

/// The leases one gateway replica holds on budgets shared through a store (`LimitLeaseStore`), as a pure
/// state machine: the clock is passed in (seconds), and every step returns what to do next. `LeasedLimiter`
/// runs it behind a mutex and does the store calls it asks for.
///
/// A request is admitted from leases held here when they cover it: no store round trip. When they do not,
/// the ledger asks for a lease of what is missing; the store grants at most what is left of the shared
/// bucket, plus a prefetch only while the bucket is far from spent (a sixteenth of what would be left), so
/// the replicas together never admit more than the limit, and near the end of a budget they hold little or
/// nothing unused. Leases unused for `idleSeconds` go back to the store (`returns`); usage beyond a
/// reservation (more output than reserved) is charged there the same way, as a negative return.
public struct LeaseLedger: Sendable {
    /// One budget: a subject's bucket in one dimension (0 requests, 1 input, 2 output tokens per minute;
    /// 3 tokens per UTC day).
    public struct Key: Hashable, Sendable {
        public var subject: RateLimiter.SubjectID
        public var dimension: Int
    }

    struct Slot {
        var scope: RateLimiter.Scope
        var name: String
        var capacity: Double
        /// Leased and not yet used (negative: used beyond the leases, owed to the store).
        var held: Double = 0
        /// The shared bucket's level after the last lease (for headers).
        var level: Double
        var levelAt: Double
        var lastUsed: Double
        /// The store had too little at the last lease: refuse without asking again until then.
        var exhaustedUntil: Double = 0
    }

    /// What a request needs of one budget.
    public struct Need: Sendable {
        public var key: Key
        public var subject: RateLimiter.Subject
        public var capacity: Double
        public var amount: Double
    }

    public enum Step: Sendable {
        case decided(RateLimiter.Decision)
        /// Lease these (what is missing of each need) from the store, then call `leased`.
        case lease([LeaseAsk], needs: [Need])
    }

    var slots: [Key: Slot] = [:]
    /// Seconds a lease may stay unused before it is given back.
    public var idleSeconds: Double

    public init(idleSeconds: Double = 0.25) {
        self.idleSeconds = idleSeconds
    }

    /// What `request` needs of each budget it is limited by.
    public static func needs(_ request: RateLimiter.Request) -> [Need] {
        var out: [Need] = []
        request.subjects.forEach { s in
            let l = s.limits
            let perMinute: [(Int, Int?, Double)] = [(0, l.requestsPerMinute, 1), (1, l.inputTokensPerMinute, Double(request.inputTokens)),
                                                    (2, l.outputTokensPerMinute, Double(request.reservedOutputTokens))]
            for (d, limit, cost) in perMinute {
                guard let limit else { continue }
                // A request larger than a whole minute's allowance needs the whole (full) bucket, as in `RateLimiter`.
                out.append(Need(key: Key(subject: s.id, dimension: d), subject: s, capacity: Double(limit), amount: min(cost, Double(limit))))
            }
            if let cap = l.tokensPerDay {
                out.append(Need(key: Key(subject: s.id, dimension: 3), subject: s, capacity: Double(cap),
                                amount: Double(request.inputTokens + request.reservedOutputTokens)))
            }
        }
        return out
    }

    /// Admits from the leases held, refuses a budget known to be spent, or asks for a lease.
    public mutating func admit(_ request: RateLimiter.Request, now: Double) -> Step {
        let needs = Self.needs(request)
        var asks: [LeaseAsk] = []
        for n in needs {
            let slot = self.slot(n, now: now)
            guard slot.held < n.amount else { continue }
            if slot.exhaustedUntil > now {
                return .decided(.limited(n.subject, Self.kind(n.key.dimension), retryAfterSeconds: slot.exhaustedUntil - now,
                                         status(request.subjects, now: now)))
            }
            asks.append(LeaseAsk(scope: n.subject.scope.rawValue, subject: n.subject.name, dimension: n.key.dimension,
                                 capacity: n.capacity, want: n.amount - max(0, slot.held)))
        }
        guard asks.isEmpty else { return .lease(asks, needs: needs) }
        return .decided(consume(request, needs, now: now))
    }

    /// Adds what the store granted (`grants`, in the order of `asks`) to the leases held, then admits the
    /// request from them or refuses it. A budget the store could not cover is marked spent until it has
    /// refilled enough; if every ask was granted in full but concurrent requests took the leases meanwhile,
    /// the ledger asks again.
    public mutating func leased(_ request: RateLimiter.Request, needs: [Need], asks: [LeaseAsk], grants: [LeaseGrant],
                                now: Double) -> Step {
        var short: (Need, Double)?
        for (ask, grant) in zip(asks, grants) {
            guard let n = needs.first(where: { $0.key.dimension == ask.dimension && $0.subject.name == ask.subject
                                                  && $0.subject.scope.rawValue == ask.scope }) else { continue }
            var slot = self.slot(n, now: now)
            slot.held += grant.granted
            slot.level = grant.level
            slot.levelAt = now
            if grant.granted < ask.want {
                let wait = Self.refillSeconds(dimension: n.key.dimension, missing: ask.want - grant.granted - max(0, grant.level),
                                              capacity: n.capacity, now: now)
                slot.exhaustedUntil = now + wait
                if wait > (short?.1 ?? -1) { short = (n, wait) }
            }
            slots[n.key] = slot
        }
        if let (n, wait) = short {
            return .decided(.limited(n.subject, Self.kind(n.key.dimension), retryAfterSeconds: max(wait, 0.001),
                                     status(request.subjects, now: now)))
        }
        return admit(request, now: now)
    }

    /// The store could not be asked (it failed): the request is refused for a second.
    public func unavailable(_ request: RateLimiter.Request, needs: [Need], now: Double) -> RateLimiter.Decision {
        let n = needs[0]
        return .limited(n.subject, Self.kind(n.key.dimension), retryAfterSeconds: 1, status(request.subjects, now: now))
    }

    /// Corrects a reservation with the real usage: unused reserved tokens come back to the leases held,
    /// extra tokens are owed (held goes below zero, and the debt is charged to the store).
    public mutating func settle(_ reservation: RateLimiter.Reservation, inputTokens: Int, outputTokens: Int, now: Double) {
        let inputDelta = Double(reservation.inputTokens - inputTokens)
        let outputDelta = Double(reservation.outputTokens - outputTokens)
        reservation.subjects.forEach { s in
            for (d, delta) in [(1, inputDelta), (2, outputDelta), (3, inputDelta + outputDelta)] where delta != 0 {
                let key = Key(subject: s.id, dimension: d)
                guard var slot = slots[key] else { continue }
                slot.held += delta
                slot.lastUsed = now
                slots[key] = slot
            }
        }
    }

    /// Leases unused for `idleSeconds`, and debts, to give back to the store now; they leave the ledger.
    /// Budgets long unused are forgotten.
    public mutating func returns(now: Double) -> [LeaseReturn] {
        var out: [LeaseReturn] = []
        for (key, slot) in slots {
            if slot.held != 0, slot.held < 0 || now - slot.lastUsed >= idleSeconds {
                out.append(LeaseReturn(scope: slot.scope.rawValue, subject: slot.name, dimension: key.dimension, capacity: slot.capacity,
                                       amount: slot.held))
                slots[key]?.held = 0
            } else if slot.held == 0, now - slot.lastUsed > 120, slot.exhaustedUntil < now {
                slots[key] = nil
            }
        }
        return out
    }

    /// Puts back returns the store did not take (it failed): they are tried again next time.
    public mutating func restore(_ returns: [LeaseReturn]) {
        for r in returns {
            guard let key = slots.first(where: { $0.key.dimension == r.dimension && $0.value.name == r.subject
                                                   && $0.value.scope.rawValue == r.scope })?.key else { continue }
            slots[key]?.held += r.amount
        }
    }

    /// The leases held, by budget (tests, health).
    public func held(_ subject: RateLimiter.SubjectID, dimension: Int) -> Double {
        slots[Key(subject: subject, dimension: dimension)]?.held ?? 0
    }

    /// The headers' view, from the shared levels last seen plus the leases held here.
    public func status(_ subjects: RateLimiter.Subjects, now: Double) -> RateLimiter.Status {
        var s = RateLimiter.Status()
        func tighter(_ a: RateLimiter.Window?, _ b: RateLimiter.Window) -> RateLimiter.Window {
            guard let a else { return b }
            return Double(b.remaining) / Double(max(b.limit, 1)) < Double(a.remaining) / Double(max(a.limit, 1)) ? b : a
        }
        subjects.forEach { subject in
            for d in 0...3 {
                let limit: Int?
                switch d {
                case 0: limit = subject.limits.requestsPerMinute
                case 1: limit = subject.limits.inputTokensPerMinute
                case 2: limit = subject.limits.outputTokensPerMinute
                default: limit = subject.limits.tokensPerDay
                }
                guard let limit else { continue }
                let capacity = Double(limit)
                let slot = slots[Key(subject: subject.id, dimension: d)]
                var level = slot.map { $0.level } ?? capacity
                if let slot, d < 3 { level = min(capacity, level + max(0, now - slot.levelAt) * capacity / 60) }
                let available = min(capacity, level + max(0, slot?.held ?? 0))
                let reset = d == 3 ? ((now / 86_400).rounded(.down) + 1) * 86_400 - now
                    : available >= capacity ? 0 : (capacity - available) * 60 / capacity
                let w = RateLimiter.Window(limit: limit, remaining: max(0, Int(available.rounded(.down))), resetSeconds: reset)
                switch d {
                case 0: s.requests = tighter(s.requests, w)
                case 1: s.inputTokens = tighter(s.inputTokens, w)
                case 2: s.outputTokens = tighter(s.outputTokens, w)
                default: s.dailyTokens = tighter(s.dailyTokens, w)
                }
            }
        }
        return s
    }

    // MARK: - Helpers

    private mutating func slot(_ n: Need, now: Double) -> Slot {
        if var s = slots[n.key] {
            s.capacity = n.capacity
            return s
        }
        let s = Slot(scope: n.subject.scope, name: n.subject.name, capacity: n.capacity, level: n.capacity, levelAt: now, lastUsed: now)
        slots[n.key] = s
        return s
    }

    private mutating func consume(_ request: RateLimiter.Request, _ needs: [Need], now: Double) -> RateLimiter.Decision {
        for n in needs {
            slots[n.key]?.held -= n.amount
            slots[n.key]?.lastUsed = now
        }
        return .admitted(RateLimiter.Reservation(subjects: request.subjects, inputTokens: request.inputTokens,
                                                 outputTokens: request.reservedOutputTokens),
                         status(request.subjects, now: now))
    }

    /// Seconds until a shared bucket has `missing` more: per minute at its refill rate, per day at the next UTC day.
    static func refillSeconds(dimension: Int, missing: Double, capacity: Double, now: Double) -> Double {
        if dimension == 3 { return ((now / 86_400).rounded(.down) + 1) * 86_400 - now }
        return max(missing, 0.01) * 60 / max(capacity, 1)
    }

    static func kind(_ dimension: Int) -> RateLimiter.LimitKind {
        switch dimension {
        case 0: return .requests
        case 1: return .inputTokens
        case 2: return .outputTokens
        default: return .dailyTokens
        }
    }
}
