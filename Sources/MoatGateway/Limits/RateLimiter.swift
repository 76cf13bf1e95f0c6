/// Usage limits as a pure state machine: token buckets per key, account and organisation, refilled
/// continuously, and a daily token cap per UTC day. The clock is passed in (seconds), so tests drive it.
///
/// Output tokens are reserved at admission from `max_tokens` (as Anthropic does) and corrected from the
/// real usage when the exchange ends. One value holds every bucket and every admission checks and
/// charges all of them at once, so concurrent requests cannot slip past a limit as long as callers
/// serialize access (the gateway keeps it behind a mutex).
public struct RateLimiter: Sendable {
    public enum Scope: String, Sendable, Hashable { case key, account, org }
    public enum Dimension: Int, Sendable, CaseIterable { case requests, inputTokens, outputTokens }

    public struct Subject: Hashable, Sendable {
        public var scope: Scope
        public var id: String
        public init(_ scope: Scope, _ id: String) {
            self.scope = scope
            self.id = id
        }
    }

    public struct Request: Sendable {
        public var limits: [(Subject, LimitsConfig.Limits)]
        public var inputTokens: Int
        public var reservedOutputTokens: Int
        public init(limits: [(Subject, LimitsConfig.Limits)], inputTokens: Int, reservedOutputTokens: Int) {
            self.limits = limits
            self.inputTokens = inputTokens
            self.reservedOutputTokens = reservedOutputTokens
        }
    }

    /// What was charged, to correct when the exchange ends.
    public struct Reservation: Sendable {
        public var subjects: [(Subject, LimitsConfig.Limits)]
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
            [inputTokens, outputTokens, dailyTokens].compactMap { $0 }.min { a, b in
                Double(a.remaining) / Double(max(a.limit, 1)) < Double(b.remaining) / Double(max(b.limit, 1))
            }
        }
    }

    public enum Decision: Sendable {
        case admitted(Reservation, Status)
        /// Refused: which limit, and when to retry.
        case limited(Subject, LimitKind, retryAfterSeconds: Double, Status)
    }

    public enum LimitKind: String, Sendable { case requests, inputTokens = "input_tokens", outputTokens = "output_tokens", dailyTokens = "daily_tokens" }

    struct Bucket {
        var capacity: Double
        var tokens: Double
        var updated: Double

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

    struct BucketKey: Hashable {
        var subject: Subject
        var dimension: Dimension
    }

    struct Daily {
        var day: Int64
        var used: Int
    }

    var buckets: [BucketKey: Bucket] = [:]
    var daily: [Subject: Daily] = [:]

    public init() {}

    static func perMinute(_ limits: LimitsConfig.Limits, _ d: Dimension) -> Int? {
        switch d {
        case .requests: return limits.requestsPerMinute
        case .inputTokens: return limits.inputTokensPerMinute
        case .outputTokens: return limits.outputTokensPerMinute
        }
    }

    /// Admits the request and charges every applicable limit, or refuses it and charges nothing.
    public mutating func admit(_ r: Request, now: Double) -> Decision {
        let costs: [Dimension: Double] = [.requests: 1, .inputTokens: Double(r.inputTokens),
                                          .outputTokens: Double(r.reservedOutputTokens)]
        let today = Int64((now / 86_400).rounded(.down))
        var worst: (Subject, LimitKind, Double)?
        for (subject, limits) in r.limits {
            for d in Dimension.allCases {
                guard let limit = Self.perMinute(limits, d) else { continue }
                let key = BucketKey(subject: subject, dimension: d)
                var b = buckets[key] ?? Bucket(capacity: Double(limit), tokens: Double(limit), updated: now)
                b.capacity = Double(limit)
                b.refill(now: now)
                buckets[key] = b
                // A request larger than a whole minute's allowance is admitted when the bucket is full.
                let cost = min(costs[d] ?? 0, b.capacity)
                if b.tokens < cost {
                    let wait = (cost - b.tokens) * 60 / b.capacity
                    if wait > (worst?.2 ?? -1) { worst = (subject, Self.kind(d), wait) }
                }
            }
            if let cap = limits.tokensPerDay {
                if daily[subject]?.day != today { daily[subject] = Daily(day: today, used: 0) }
                let used = daily[subject]?.used ?? 0
                if used + r.inputTokens + r.reservedOutputTokens > cap {
                    let wait = Double(today + 1) * 86_400 - now
                    if wait > (worst?.2 ?? -1) { worst = (subject, .dailyTokens, wait) }
                }
            }
        }
        if let (subject, kind, wait) = worst {
            return .limited(subject, kind, retryAfterSeconds: max(wait, 0.001), status(r.limits, now: now))
        }
        for (subject, limits) in r.limits {
            for d in Dimension.allCases where Self.perMinute(limits, d) != nil {
                let key = BucketKey(subject: subject, dimension: d)
                if var b = buckets[key] {
                    b.tokens -= min(costs[d] ?? 0, b.capacity)
                    buckets[key] = b
                }
            }
            if limits.tokensPerDay != nil { daily[subject]!.used += r.inputTokens + r.reservedOutputTokens }
        }
        let reservation = Reservation(subjects: r.limits, inputTokens: r.inputTokens, outputTokens: r.reservedOutputTokens)
        return .admitted(reservation, status(r.limits, now: now))
    }

    /// Corrects a reservation with the real usage: unused output tokens come back, extra tokens are charged.
    public mutating func settle(_ reservation: Reservation, inputTokens: Int, outputTokens: Int, now: Double) {
        let today = Int64((now / 86_400).rounded(.down))
        let deltas: [Dimension: Double] = [.inputTokens: Double(inputTokens - reservation.inputTokens),
                                           .outputTokens: Double(outputTokens - reservation.outputTokens)]
        for (subject, limits) in reservation.subjects {
            for (d, delta) in deltas where Self.perMinute(limits, d) != nil {
                let key = BucketKey(subject: subject, dimension: d)
                guard var b = buckets[key] else { continue }
                b.refill(now: now)
                b.tokens = min(b.capacity, b.tokens - delta)
                buckets[key] = b
            }
            if limits.tokensPerDay != nil, daily[subject]?.day == today {
                daily[subject]!.used = max(0, daily[subject]!.used + (inputTokens + outputTokens)
                                                - (reservation.inputTokens + reservation.outputTokens))
            }
        }
    }

    /// The headers' view: the most restrictive subject for each dimension.
    public func status(_ limits: [(Subject, LimitsConfig.Limits)], now: Double) -> Status {
        var s = Status()
        let today = Int64((now / 86_400).rounded(.down))
        func tighter(_ a: Window?, _ b: Window) -> Window {
            guard let a else { return b }
            return Double(b.remaining) / Double(max(b.limit, 1)) < Double(a.remaining) / Double(max(a.limit, 1)) ? b : a
        }
        for (subject, l) in limits {
            for d in Dimension.allCases {
                guard let limit = Self.perMinute(l, d) else { continue }
                var b = buckets[BucketKey(subject: subject, dimension: d)] ?? Bucket(capacity: Double(limit), tokens: Double(limit), updated: now)
                b.refill(now: now)
                let w = b.window()
                switch d {
                case .requests: s.requests = tighter(s.requests, w)
                case .inputTokens: s.inputTokens = tighter(s.inputTokens, w)
                case .outputTokens: s.outputTokens = tighter(s.outputTokens, w)
                }
            }
            if let cap = l.tokensPerDay {
                let used = daily[subject].map { $0.day == today ? $0.used : 0 } ?? 0
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
