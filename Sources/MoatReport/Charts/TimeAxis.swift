import MoatCore

/// The time buckets of a chart: `count` buckets of `bucketMs` from `startMs` (aligned to the bucket).
struct TimeAxis: Sendable, Equatable {
    let startMs: Int64
    let bucketMs: Int64
    let count: Int

    /// Bucket widths a chart may use, smallest first.
    static let widths: [Int64] = [1, 2, 3, 4, 6, 8, 12, 24, 48, 168].map { $0 * Timestamp.hour }

    /// The narrowest bucket (at least `minimum`) that covers `firstMs...lastMs` in at most `maxBuckets`.
    static func fitting(firstMs: Int64, lastMs: Int64, maxBuckets: Int, minimum: Int64 = Timestamp.hour) -> TimeAxis {
        let last = max(firstMs, lastMs)
        for width in widths where width >= minimum {
            let start = floorDiv(firstMs, width) * width
            let count = Int(floorDiv(last - start, width)) + 1
            if count <= maxBuckets || width == widths.last { return TimeAxis(startMs: start, bucketMs: width, count: max(1, count)) }
        }
        return TimeAxis(startMs: firstMs, bucketMs: Timestamp.day, count: 1)
    }

    var endMs: Int64 { startMs + Int64(count) * bucketMs }
    var hours: Int64 { bucketMs / Timestamp.hour }

    /// The bucket holding `ms`, or nil outside the axis.
    func bucket(_ ms: Int64) -> Int? {
        guard ms >= startMs else { return nil }
        let b = Int((ms - startMs) / bucketMs)
        return b < count ? b : nil
    }

    /// Sums an hourly table (key: hours since the epoch) into the buckets.
    func sum(_ hourly: [Int64: Int]) -> [Double] {
        var out = [Double](repeating: 0, count: count)
        for (hour, n) in hourly {
            if let b = bucket(hour * Timestamp.hour) { out[b] += Double(n) }
        }
        return out
    }

    /// Sums an hourly table of arrays (one slot per series) into per-slot bucket series.
    func sum(_ hourly: [Int64: [Int]], slots: Int) -> [[Double]] {
        var out = [[Double]](repeating: [Double](repeating: 0, count: count), count: slots)
        for (hour, values) in hourly {
            guard let b = bucket(hour * Timestamp.hour) else { continue }
            for (k, v) in values.enumerated() where k < slots && v != 0 { out[k][b] += Double(v) }
        }
        return out
    }

    /// A readable name of the bucket: `hour`, `3 hours`, `day`, `week`.
    var bucketName: String {
        switch bucketMs {
        case Timestamp.hour: return "hour"
        case Timestamp.day: return "day"
        case 7 * Timestamp.day: return "week"
        default: return bucketMs % Timestamp.day == 0 ? "\(bucketMs / Timestamp.day) days" : "\(hours) hours"
        }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : (a - b + 1) / b }
}

/// Round axis maxima and ticks: 1, 2, 2.5, 5 times a power of ten.
enum NiceScale {
    static func ticks(max value: Double, count: Int = 4, integer: Bool = false) -> (max: Double, step: Double) {
        guard value > 0, value.isFinite else { return integer ? (1, 1) : (1, 0.25) }
        if integer && value <= Double(count) { return (value.rounded(.up), 1) }
        let raw = value / Double(count)
        var power = 1.0
        while power * 10 <= raw { power *= 10 }
        while power > raw { power /= 10 }
        for m in [1.0, 2.0, 2.5, 5.0, 10.0] where m * power >= raw {
            let step = m * power
            return ((value / step).rounded(.up) * step, step)
        }
        return (value, value / Double(count))
    }
}

extension TimeAxis {
    /// The largest hourly value within each bucket (e.g. accounts active in the busiest hour of the bucket).
    func maxOf(_ hourly: [Int64: Int]) -> [Double] {
        var out = [Double](repeating: 0, count: count)
        for (hour, n) in hourly {
            if let b = bucket(hour * Timestamp.hour) { out[b] = max(out[b], Double(n)) }
        }
        return out
    }

    /// Counts moments into the buckets.
    func histogram(_ moments: [Int64]) -> [Double] {
        var out = [Double](repeating: 0, count: count)
        for ms in moments { if let b = bucket(ms) { out[b] += 1 } }
        return out
    }
}
