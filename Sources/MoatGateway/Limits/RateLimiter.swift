/// Usage limits as a pure state machine: token buckets per key, account and organisation, refilled
/// continuously, and a daily token cap per UTC day. The clock is passed in (seconds), so tests drive it.
///
/// Subjects are interned integers (`SubjectTable`): the buckets live in flat arrays indexed by them, so an
/// admission allocates nothing and hashes no string. Output tokens are reserved at admission from
/// `max_tokens` (as Anthropic does) and corrected from the real usage when the exchange ends. One value
/// holds every bucket and every admission checks and charges all of them at once, so concurrent
/// requests cannot slip past a limit as long as callers serialize access (`LocalLimiter` holds it
/// behind a mutex).
public struct RateLimiter: Sendable {
    public enum Scope: String, Sendable, Hashable { case key, account, org }
    public enum Dimension: Int, Sendable, CaseIterable { case requests, inputTokens, outputTokens }

    /// An interned subject: an index into the limiter's tables.
    public struct SubjectID: Hashable, Sendable {
        public var raw: Int32
        public init(_ raw: Int32) { self.raw = raw }
    }

    /// One limited subject of a request: who, and the limits of its tier.
    public struct Subject: Sendable {
        public var id: SubjectID
        public var scope: Scope
        /// The key, account or org id, for messages.
        public var name: String
        public var limits: LimitsConfig.Limits

        public init(_ id: SubjectID, _ scope: Scope, _ name: String, _ limits: LimitsConfig.Limits) {
            self.id = id
            self.scope = scope
            self.name = name
            self.limits = limits
        }
    }

    /// Up to one subject per scope, inline (no array).
    public struct Subjects: Sendable {
        public var key: Subject?
        public var account: Subject?
        public var org: Subject?

        public init(key: Subject? = nil, account: Subject? = nil, org: Subject? = nil) {
            self.key = key
            self.account = account
            self.org = org
        }

        @inline(__always)
        func forEach(_ body: (Subject) -> Void) {
            if let key { body(key) }
            if let account { body(account) }
            if let org { body(org) }
        }
    }

    public struct Request: Sendable {
        public var subjects: Subjects
        public var inputTokens: Int
        public var reservedOutputTokens: Int

        public init(subjects: Subjects, inputTokens: Int, reservedOutputTokens: Int) {
            self.subjects = subjects
            self.inputTokens = inputTokens
            self.reservedOutputTokens = reservedOutputTokens
        }
    }

    /// What was charged, to correct when the exchange ends.
    public struct Reservation: Sendable {
        public var subjects: Subjects
        public var inputTokens: Int
        public var outputTokens: Int
    }

    /// The state of one limit, for the response headers.
    public struct Window: Sendable, Equatable {
        public var limit: Int
        public var remaining: Int
        /// Seconds until the limit is fully available again.
        public var resetSeconds: Double
    }

    public struct Status: Sendable, Equatable {
        public var requests: Window?
        public var inputTokens: Window?
        public var outputTokens: Window?
        public var dailyTokens: Window?

        /// The most restrictive token window (input or output), for APIs with one `tokens` header.
        public var tokens: Window? {
            func tighter(_ a: Window?, _ b: Window?) -> Window? {
                guard let a else { return b }
                guard let b else { return a }
                return Double(b.remaining) / Double(max(b.limit, 1)) < Double(a.remaining) / Double(max(a.limit, 1)) ? b : a
            }
            return tighter(tighter(inputTokens, outputTokens), dailyTokens)
        }
    }

    public enum Decision: Sendable {
        case admitted(Reservation, Status)
        /// Refused: which limit, and when to retry.
        case limited(Subject, LimitKind, retryAfterSeconds: Double, Status)
    }

    public enum LimitKind: String, Sendable { case requests, inputTokens = "input_tokens", outputTokens = "output_tokens", dailyTokens = "daily_tokens" }

    struct Bucket {
        var capacity: Double = 0
        var tokens: Double = 0
        /// -1: never used.
        var updated: Double = -1

        mutating func refill(now: Double) {
            if now > updated {
                tokens = min(capacity, tokens + (now - updated) * capacity / 60)
                updated = now
            }
        }

        func window() -> Window {
            Window(limit: Int(capacity), remaining: max(0, Int(tokens.rounded(.down))),
                   resetSeconds: tokens >= capacity ? 0 : (capacity - tokens) * 60 / capacity)
        }
    }

    struct Daily {
        var day: Int64 = -1
        var used = 0
    }

    /// Three buckets per subject (by `Dimension`), at `id * 3 + dimension`.
    var buckets: [Bucket] = []
    var daily: [Daily] = []

    public init() {}

    @inline(__always)
    static func perMinute(_ limits: LimitsConfig.Limits, _ d: Dimension) -> Int? {
        switch d {
        case .requests: return limits.requestsPerMinute
        case .inputTokens: return limits.inputTokensPerMinute
        case .outputTokens: return limits.outputTokensPerMinute
        }
    }

    @inline(__always)
    static func cost(_ d: Dimension, input: Int, output: Int) -> Double {
        switch d {
        case .requests: return 1
        case .inputTokens: return Double(input)
        case .outputTokens: return Double(output)
        }
    }

    /// Makes room for subject `id` (a new subject grows the tables once).
    @inline(__always)
    mutating func reserveSlots(_ id: SubjectID) {
        let n = Int(id.raw) + 1
        if daily.count < n {
            let target = max(n, daily.count * 2, 64)
            daily.append(contentsOf: repeatElement(Daily(), count: target - daily.count))
            buckets.append(contentsOf: repeatElement(Bucket(), count: target * 3 - buckets.count))
        }
    }

    /// The bucket of (subject, dimension), refilled to `now`; a new one starts full.
    @inline(__always)
    mutating func bucket(_ id: SubjectID, _ d: Dimension, limit: Int, now: Double) -> Int {
        let i = Int(id.raw) * 3 + d.rawValue
        if buckets[i].updated < 0 {
            buckets[i] = Bucket(capacity: Double(limit), tokens: Double(limit), updated: now)
        } else {
            buckets[i].capacity = Double(limit)
            buckets[i].refill(now: now)
        }
        return i
    }

    /// Admits the request and charges every applicable limit, or refuses it and charges nothing.
    public mutating func admit(_ r: Request, now: Double) -> Decision {
        let today = Int64((now / 86_400).rounded(.down))
        var worst: (Subject, LimitKind, Double)?
        r.subjects.forEach { subject in
            reserveSlots(subject.id)
            for d in Dimension.allCases {
                guard let limit = Self.perMinute(subject.limits, d) else { continue }
                let i = bucket(subject.id, d, limit: limit, now: now)
                // A request larger than a whole minute's allowance is admitted when the bucket is full.
                let cost = min(Self.cost(d, input: r.inputTokens, output: r.reservedOutputTokens), buckets[i].capacity)
                if buckets[i].tokens < cost {
                    let wait = (cost - buckets[i].tokens) * 60 / max(buckets[i].capacity, 1)
                    if wait > (worst?.2 ?? -1) { worst = (subject, Self.kind(d), wait) }
                }
            }
            if let cap = subject.limits.tokensPerDay {
                let s = Int(subject.id.raw)
                if daily[s].day != today { daily[s] = Daily(day: today, used: 0) }
                if daily[s].used + r.inputTokens + r.reservedOutputTokens > cap {
                    let wait = Double(today + 1) * 86_400 - now
                    if wait > (worst?.2 ?? -1) { worst = (subject, .dailyTokens, wait) }
                }
            }
        }
        if let (subject, kind, wait) = worst {
            return .limited(subject, kind, retryAfterSeconds: max(wait, 0.001), status(r.subjects, now: now))
        }
        r.subjects.forEach { subject in
            for d in Dimension.allCases where Self.perMinute(subject.limits, d) != nil {
                let i = Int(subject.id.raw) * 3 + d.rawValue
                buckets[i].tokens -= min(Self.cost(d, input: r.inputTokens, output: r.reservedOutputTokens), buckets[i].capacity)
            }
            if subject.limits.tokensPerDay != nil { daily[Int(subject.id.raw)].used += r.inputTokens + r.reservedOutputTokens }
        }
        let reservation = Reservation(subjects: r.subjects, inputTokens: r.inputTokens, outputTokens: r.reservedOutputTokens)
        return .admitted(reservation, status(r.subjects, now: now))
    }

    /// Corrects a reservation with the real usage: unused output tokens come back, extra tokens are charged.
    public mutating func settle(_ reservation: Reservation, inputTokens: Int, outputTokens: Int, now: Double) {
        let today = Int64((now / 86_400).rounded(.down))
        let inputDelta = Double(inputTokens - reservation.inputTokens)
        let outputDelta = Double(outputTokens - reservation.outputTokens)
        reservation.subjects.forEach { subject in
            reserveSlots(subject.id)
            correct(subject, .inputTokens, by: inputDelta, now: now)
            correct(subject, .outputTokens, by: outputDelta, now: now)
            let s = Int(subject.id.raw)
            if subject.limits.tokensPerDay != nil, daily[s].day == today {
                daily[s].used = max(0, daily[s].used + (inputTokens + outputTokens) - (reservation.inputTokens + reservation.outputTokens))
            }
        }
    }

    @inline(__always)
    private mutating func correct(_ subject: Subject, _ d: Dimension, by delta: Double, now: Double) {
        guard Self.perMinute(subject.limits, d) != nil else { return }
        let i = Int(subject.id.raw) * 3 + d.rawValue
        guard buckets[i].updated >= 0 else { return }
        buckets[i].refill(now: now)
        buckets[i].tokens = min(buckets[i].capacity, buckets[i].tokens - delta)
    }

    /// The headers' view: the most restrictive subject for each dimension.
    public func status(_ subjects: Subjects, now: Double) -> Status {
        var s = Status()
        let today = Int64((now / 86_400).rounded(.down))
        func tighter(_ a: Window?, _ b: Window) -> Window {
            guard let a else { return b }
            return Double(b.remaining) / Double(max(b.limit, 1)) < Double(a.remaining) / Double(max(a.limit, 1)) ? b : a
        }
        subjects.forEach { subject in
            for d in Dimension.allCases {
                guard let limit = Self.perMinute(subject.limits, d) else { continue }
                let i = Int(subject.id.raw) * 3 + d.rawValue
                var b = i < buckets.count && buckets[i].updated >= 0 ? buckets[i]
                    : Bucket(capacity: Double(limit), tokens: Double(limit), updated: now)
                b.capacity = Double(limit)
                b.refill(now: now)
                let w = b.window()
                switch d {
                case .requests: s.requests = tighter(s.requests, w)
                case .inputTokens: s.inputTokens = tighter(s.inputTokens, w)
                case .outputTokens: s.outputTokens = tighter(s.outputTokens, w)
                }
            }
            if let cap = subject.limits.tokensPerDay {
                let i = Int(subject.id.raw)
                let used = i < daily.count && daily[i].day == today ? daily[i].used : 0
                s.dailyTokens = tighter(s.dailyTokens, Window(limit: cap, remaining: max(0, cap - used),
                                                              resetSeconds: Double(today + 1) * 86_400 - now))
            }
        }
        return s
    }

    static func kind(_ d: Dimension) -> LimitKind {
        switch d {
        case .requests: return .requests
        case .inputTokens: return .inputTokens
        case .outputTokens: return .outputTokens
        }
    }
}
