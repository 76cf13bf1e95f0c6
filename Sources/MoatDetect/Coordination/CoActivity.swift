#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Co-activity in the manner of SynchroTrap (Cao et al., CCS 2014): accounts that act together, over and
/// over, in the same short windows and with the same software or prompt family.
///
/// Activity is bucketed by (window, co-attribute), where the co-attribute is a soft value the exchange
/// carries (a client stack, a system-prompt family, a request shape), at two window lengths. A window is a
/// *burst* of a value when far more distinct accounts used the value in it than in the windows just before
/// and just after it (a Poisson test against the larger of the two): a wave is a spike, while office hours,
/// time zones, a release day and slow trends rise and stay.
/// An account is *synchronized* with a value when a large share of its own windows with that value are
/// bursts, many times, spread over hours, far beyond what its own activity would meet by chance (a binomial
/// test). Accounts synchronized with one value whose bursts they share are one coordinated cluster.
///
/// The work per exchange is a few dictionary updates; each window's members are read once when it closes.
struct CoActivity {
    struct Scale {
        var cellMilliseconds: Int64
        var baselineCells: Int
        var skipCells: Int
    }

    /// One value at one window length.
    struct Stream {
        var kind: LinkKind
        var value: UInt64
        var scale: UInt8
        var cell: Int64
        var members: [Int32] = []
        /// Distinct-account counts of the windows before `cell` (a ring, oldest first from `ringPosition`).
        var ring: [UInt16]
        var ringPosition = 0
        var ringSum = 0
        var firstCell: Int64
        /// Closed windows waiting for the windows after them, and the counts of the latest closed windows.
        var pending: [Pending] = []
        var recent: [(cell: Int64, count: Int)] = []
        var cellsWithActivity = 0
        var bursts = 0
        var burstAccounts = 0
        var clusters: [Cluster] = []
    }

    /// Accounts synchronized with one value on a shared set of bursts.
    struct Cluster {
        var root: Int32
        var members: Int
        /// Members that extracted when they joined (a few): the hubs others join through.
        var anchors: [Int32] = []
        static let maxAnchors = 8

        /// The share of an account's recent bursts that are this cluster's.
        func overlap(_ bursts: Set<Int64>) -> Double {
            Double(bursts.intersection(cells).count) / Double(max(1, bursts.count))
        }
        /// Members waiting for the cluster to reach its minimum size before they count as coordinated.
        var waiting: [Int32] = []
        var cells: Set<Int64>
        var firstBurst: Int64
        var lastBurst: Int64
        /// Summed over members: burst windows, windows with the value, and the bursts expected by chance.
        var burstWindows = 0
        var activeWindows = 0
        var expected = 0.0
    }

    /// What one account did with one value at one window length.
    struct Record {
        var stream: UInt64
        var lastCell: Int64
        var activeCells: Int32 = 0
        var burstCells: Int32 = 0
        var firstBurstTs: Int64 = .max
        var lastBurstTs: Int64 = .min
        var recentBursts: [Int64] = []
        var synchronized = false
        /// The account's exchanges that carried the value: coordinated traffic is scored on its own, so cover
        /// traffic cannot dilute it.
        var behaviour = Behaviour()
    }

    struct Pending {
        var cell: Int64
        var members: [Int32]
        var before: Double
    }

    /// A burst closed: its members, for the engine to credit.
    struct Burst {
        var stream: UInt64
        var cell: Int64
        var members: [Int32]
        var count: Int
        var baseline: Double
    }

    let scales: [Scale]
    let minAccounts: Int
    let lift: Double
    let alpha: Double
    /// Share of the baseline windows before, the busiest ones, left out of the baseline: a scheduler's previous
    /// wave falls in them and must not hide the next one.
    let baselineTrim: Double
    var streams: [UInt64: Stream] = [:]

    init(config: DetectionConfig) {
        scales = zip(config.coactivityWindowSeconds, config.coactivityBaselineWindows).map {
            Scale(cellMilliseconds: Int64($0.0 * 1000), baselineCells: max(1, $0.1), skipCells: max(0, config.burstSkipWindows))
        }
        minAccounts = config.burstMinAccounts
        lift = config.burstLift
        alpha = config.burstAlpha
        baselineTrim = min(max(config.burstBaselineTrim, 0), 0.5)
    }

    static func streamKey(_ value: UInt64, scale: Int) -> UInt64 { StableHash.mix(value &+ UInt64(scale + 1) &* 0x51_7CC1_B727_220A) }

    /// Notes that account `a` used `value` at `ts`. Appends the bursts that closed to `closed`, and to `entered`,
    /// for each scale in which the account newly entered a window (so its record counts one more active window),
    /// the stream and the window. `lastCells[s]` is the last window of scale `s` in which the account was already
    /// counted.
    mutating func observe(_ a: Int32, kind: LinkKind, value: UInt64, ts: Int64, lastCells: [Int64?],
                          _ closed: inout [Burst], entered: inout [(stream: UInt64, cell: Int64)]) {
        for s in scales.indices {
            let scale = scales[s]
            let key = Self.streamKey(value, scale: s)
            let cell = ts / scale.cellMilliseconds
            var at = streams.index(forKey: key)
            if at == nil {
                streams[key] = Stream(kind: kind, value: value, scale: UInt8(s), cell: cell,
                                      ring: [UInt16](repeating: 0, count: scale.baselineCells + scale.skipCells), firstCell: cell)
                at = streams.index(forKey: key)
            }
            // In place: a copy of the stream would copy its members, ring and windows on every write.
            Self.advance(&streams.values[at!], key: key, to: cell, skip: scale.skipCells, minAccounts: minAccounts,
                         lift: lift, alpha: alpha, trim: baselineTrim, &closed)
            // An account counts once per window.
            if let last = lastCells[s], last == cell { continue }
            streams.values[at!].members.append(a)
            entered.append((key, cell))
        }
    }

    /// Closes the stream's current window if `cell` is later. A closed window is decided a few windows later:
    /// it is a burst when it holds far more accounts than both the windows before it and the windows after
    /// it. A wave is a spike; the start of office hours, a release day or any other ramp is not (the windows
    /// after stay high).
    /// `skip` is the stream's scale's `skipCells`; the rest are the detector's settings.
    static func advance(_ st: inout Stream, key: UInt64, to cell: Int64, skip: Int, minAccounts: Int, lift: Double,
                        alpha: Double, trim: Double, _ closed: inout [Burst]) {
        guard cell > st.cell else { return }
        let x = st.members.count
        let m = st.ring.count
        // The newest `skip` windows are left out of the baseline before.
        let before = Self.trimmedMean(st.ring, newest: (st.ringPosition + m - 1) % m, skip: skip, trim: trim)
        if x > 0 { st.cellsWithActivity += 1 }
        if x >= minAccounts {
            st.pending.append(Pending(cell: st.cell, members: st.members, before: before))
        }
        st.recent.append((st.cell, x))
        if st.recent.count > 8 { st.recent.removeFirst(st.recent.count - 8) }
        // Push this window's count, then empty windows up to `cell`, into the ring.
        let empty = Int(min(Int64(m), cell - st.cell - 1))
        for k in 0...empty {
            let v = k == 0 ? UInt16(min(x, Int(UInt16.max))) : 0
            st.ringSum += Int(v) - Int(st.ring[st.ringPosition])
            st.ring[st.ringPosition] = v
            st.ringPosition = (st.ringPosition + 1) % m
        }
        st.cell = cell
        st.members.removeAll(keepingCapacity: true)
        // Decide the windows whose windows after are all closed now.
        while let p = st.pending.first, p.cell + Self.afterLast < cell {
            st.pending.removeFirst()
            var after = 0
            for (c, n) in st.recent where c >= p.cell + Self.afterFirst && c <= p.cell + Self.afterLast { after += n }
            let baseline = max(p.before, Double(after) / Double(Self.afterLast - Self.afterFirst + 1))
            let count = p.members.count
            if Double(count) >= lift * baseline, Self.poissonTail(count, mean: baseline + 0.1) <= alpha {
                st.bursts += 1
                st.burstAccounts += count
                closed.append(Burst(stream: key, cell: p.cell, members: p.members, count: count, baseline: baseline))
            }
        }
    }

    /// Mean of the ring's windows except the newest `skip`, leaving out the busiest `trim` share of them.
    static func trimmedMean(_ ring: [UInt16], newest: Int, skip: Int, trim: Double) -> Double {
        let m = ring.count
        let n = max(0, m - skip)
        guard n > 0 else { return 0 }
        let drop = Int(Double(n) * trim)
        return withUnsafeTemporaryAllocation(of: UInt16.self, capacity: n) { buffer in
            var sum = 0
            for k in 0..<n {
                let v = ring[(newest + m - skip - k) % m]
                buffer[k] = v
                sum += Int(v)
            }
            if drop > 0 {
                // Remove the `drop` largest by partial selection (n is at most a few dozen).
                for d in 0..<drop {
                    var best = d
                    for k in (d + 1)..<n where buffer[k] > buffer[best] { best = k }
                    sum -= Int(buffer[best])
                    buffer.swapAt(d, best)
                }
            }
            return Double(sum) / Double(n - drop)
        }
    }

    /// Whether a cluster of at least `syncClusterMinAccounts` accounts formed on the stream's bursts.
    func established(_ key: UInt64, _ config: DetectionConfig) -> Bool {
        streams[key]?.clusters.contains { $0.members >= config.syncClusterMinAccounts } ?? false
    }

    /// The windows after a window that form its after-baseline (the next one may still hold the same wave).
    static let afterFirst: Int64 = 2
    static let afterLast: Int64 = 3

    /// The share of a stream's windows since it began that were bursts: the chance that an independent
    /// account's window lands in one.
    func burstRate(_ key: UInt64, now cell: Int64) -> Double {
        guard let st = streams[key] else { return 1 }
        return Double(st.bursts) / Double(max(1, cell - st.firstCell + 1))
    }

    /// P(X >= k) for X ~ Poisson(mean).
    static func poissonTail(_ k: Int, mean: Double) -> Double {
        guard k > 0 else { return 1 }
        // Sum the terms from k upward in log space until they vanish.
        var logTerm = Double(k) * log(mean) - mean - lgamma(Double(k) + 1)
        var total = 0.0
        var i = k
        while i < k + 400 {
            let t = exp(logTerm)
            total += t
            if t < total * 1e-12 { break }
            i += 1
            logTerm += log(mean) - log(Double(i))
        }
        return min(1, total)
    }

    /// P(X >= k) for X ~ Binomial(n, p).
    static func binomialTail(_ k: Int, n: Int, p: Double) -> Double {
        guard k > 0 else { return 1 }
        guard k <= n else { return 0 }
        let q = min(max(p, 1e-12), 1 - 1e-12)
        var total = 0.0
        for i in k...n {
            let logTerm = lgamma(Double(n) + 1) - lgamma(Double(i) + 1) - lgamma(Double(n - i) + 1)
                + Double(i) * log(q) + Double(n - i) * log(1 - q)
            let t = exp(logTerm)
            total += t
            if i > k + 5, t < total * 1e-12 { break }
        }
        return min(1, total)
    }
}
