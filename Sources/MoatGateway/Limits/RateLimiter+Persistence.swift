/// Saving and restoring the limiter's buckets, and charging usage it did not see (the log's exchanges that
/// ended after the last save, on start).
extension RateLimiter {
    /// One bucket's saved state: per-minute (dimension 0-2, level and time) or daily (3, tokens used and day).
    public struct SavedBucket: Sendable, Equatable {
        public var id: SubjectID
        public var dimension: Int
        public var level: Double
        public var at: Double
    }

    /// The buckets of `id` that were ever used.
    func saved(_ id: SubjectID) -> [SavedBucket] {
        let s = Int(id.raw)
        guard s < daily.count else { return [] }
        var out: [SavedBucket] = []
        for d in 0..<3 {
            let b = buckets[s * 3 + d]
            if b.updated >= 0 { out.append(SavedBucket(id: id, dimension: d, level: b.tokens, at: b.updated)) }
        }
        if daily[s].day >= 0 { out.append(SavedBucket(id: id, dimension: 3, level: Double(daily[s].used), at: Double(daily[s].day))) }
        return out
    }

    /// Puts a saved bucket back. A per-minute bucket keeps its level and time (it refills from then on its
    /// next use, to the capacity of the limits in force then).
    mutating func restore(_ b: SavedBucket) {
        reserveSlots(b.id)
        let s = Int(b.id.raw)
        switch b.dimension {
        case 0..<3:
            buckets[s * 3 + b.dimension] = Bucket(capacity: max(b.level, 0), tokens: b.level, updated: b.at)
        case 3:
            daily[s] = Daily(day: Int64(b.at), used: Int(b.level))
        default:
            break
        }
    }

    /// Charges usage that already happened, without refusing anything (a bucket can go below zero: the
    /// subject waits until it refills).
    public mutating func charge(_ subjects: Subjects, inputTokens: Int, outputTokens: Int, now: Double) {
        let today = Int64((now / 86_400).rounded(.down))
        subjects.forEach { subject in
            reserveSlots(subject.id)
            for d in Dimension.allCases {
                guard let limit = Self.perMinute(subject.limits, d) else { continue }
                let i = bucket(subject.id, d, limit: limit, now: now)
                buckets[i].tokens -= min(Self.cost(d, input: inputTokens, output: outputTokens), buckets[i].capacity)
            }
            if subject.limits.tokensPerDay != nil {
                let s = Int(subject.id.raw)
                if daily[s].day < today { daily[s] = Daily(day: today, used: 0) }
                if daily[s].day == today { daily[s].used += inputTokens + outputTokens }
            }
        }
    }
}
