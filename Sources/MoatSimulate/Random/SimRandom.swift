import MoatCore
import Foundation

/// A small, fast, seedable generator (xoshiro256**). The same seed gives the same sequence on
/// every platform, which is what makes `moat simulate` reproducible byte for byte.
public struct SimRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var sm = seed
        func splitmix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(&sm); s1 = splitmix(&sm); s2 = splitmix(&sm); s3 = splitmix(&sm)
    }

    /// A generator derived from a seed and a path of integers (e.g. seed, group, account, day),
    /// so every part of the simulation has its own independent, reproducible stream.
    public init(_ seed: UInt64, _ path: UInt64...) {
        var h = seed &* 0x9E37_79B9_7F4A_7C15 ^ 0xD1B5_4A32_D192_ED03
        for p in path {
            h ^= p &+ 0x9E37_79B9_7F4A_7C15 &+ (h << 6) &+ (h >> 2)
            h = (h ^ (h >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        }
        self.init(seed: h)
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    public mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }

    /// Uniform integer in the closed range.
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// Uniform index below `n` (n > 0).
    public mutating func index(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }

    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    public mutating func pick<T>(_ items: [T]) -> T { items[index(items.count)] }

    /// Picks by weight; `weights` need not sum to 1.
    public mutating func pickWeighted<T>(_ items: [(T, Double)]) -> T {
        let total = items.reduce(0) { $0 + $1.1 }
        var r = unit() * total
        for (item, w) in items {
            r -= w
            if r < 0 { return item }
        }
        return items[items.count - 1].0
    }

    public mutating func exponential(mean: Double) -> Double { -mean * log(1 - unit()) }

    public mutating func normal(mean: Double = 0, sd: Double = 1) -> Double {
        let u1 = max(unit(), 1e-12), u2 = unit()
        return mean + sd * sqrt(-2 * log(u1)) * cos(2 * .pi * u2)
    }

    /// Log-normal with the given median and shape: heavy-tailed activity levels.
    public mutating func logNormal(median: Double, sigma: Double) -> Double {
        median * exp(normal(sd: sigma))
    }

    /// Poisson-distributed count (inversion for small means, normal approximation for large).
    public mutating func poisson(_ mean: Double) -> Int {
        if mean <= 0 { return 0 }
        if mean > 60 { return max(0, Int(normal(mean: mean, sd: sqrt(mean)).rounded())) }
        let l = exp(-mean)
        var k = 0
        var p = 1.0
        repeat {
            k += 1
            p *= unit()
        } while p > l
        return k - 1
    }

    /// Geometric count ≥ 1 with the given mean.
    public mutating func geometric(mean: Double) -> Int {
        guard mean > 1 else { return 1 }
        let p = 1 / mean
        return 1 + Int(log(1 - unit()) / log(1 - p))
    }
}
