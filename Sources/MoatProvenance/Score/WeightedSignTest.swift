#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The exact upper tail of a weighted sign test: S = Σ wᵢ·Bᵢ with independent fair coins Bᵢ and fixed
/// positive integer weights wᵢ (grouped: `counts[w - 1]` units of weight w).
///
/// Computed exactly (up to floating point) by exponential tilting: under the tilted law the coins of
/// weight w come up with probability e^{θw}/(1 + e^{θw}), θ chosen so that the tilted mean is the
/// observed statistic; there the distribution of S is not tiny near s, so it is convolved in `Double`
/// (each group's binomial cut where its terms fall below 1e-40 of its largest) and mapped back:
/// P(S = t) = P_θ(S = t)·e^{−θt}·Π((1 + e^{θw})/2)^{n_w}. p-values far below `Double`'s range keep their
/// logarithm, as in `BinomialTest`. With every weight 1 this is the exact binomial tail.
public enum WeightedSignTest {
    /// Natural logs of P(S ≥ s) and P(S ≥ s + 1).
    public static func logUpperTails(counts: [Int], statistic s: Int) -> (atLeast: Double, above: Double) {
        let groups = counts.enumerated().filter { $0.element > 0 }.map { (w: $0.offset + 1, n: $0.element) }
        let maxS = groups.reduce(0) { $0 + $1.w * $1.n }
        let total = groups.reduce(0) { $0 + $1.n }
        func tail(_ u: Int) -> Double {
            if u <= 0 { return 0 }
            if u > maxS { return -.infinity }
            // Only all coins up reaches the maximum: exactly 2^-N.
            if u == maxS { return -Double(total) * M_LN2 }
            return tilted(groups, from: u)
        }
        return (tail(s), tail(s + 1))
    }

    /// log10 P(S ≥ s).
    public static func log10UpperTail(counts: [Int], statistic s: Int) -> Double {
        logUpperTails(counts: counts, statistic: s).atLeast / M_LN10
    }

    @inline(__always)
    static func softplus(_ x: Double) -> Double { x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)) }

    private static func tilted(_ groups: [(w: Int, n: Int)], from s: Int) -> Double {
        func mean(_ theta: Double) -> Double {
            groups.reduce(0) { $0 + Double($1.w * $1.n) / (1 + exp(-theta * Double($1.w))) }
        }
        var theta = 0.0
        let target = Double(s)
        if mean(0) < target {
            var lo = 0.0, hi = 1.0
            while mean(hi) < target && hi < 1e4 { hi *= 2 }
            for _ in 0..<100 {
                let mid = (lo + hi) / 2
                if mean(mid) < target { lo = mid } else { hi = mid }
            }
            theta = (lo + hi) / 2
        }
        // The tilted distribution of S, as dist[i] · e^{scale} = P_θ(S = start + i).
        var dist: [Double] = [1]
        var start = 0
        var scale = 0.0
        var logZ = 0.0
        for g in groups {
            let x = theta * Double(g.w)
            let logP = -softplus(-x), logQ = -softplus(x)
            logZ += Double(g.n) * (softplus(x) - M_LN2)
            let p = exp(logP)
            let sd = (Double(g.n) * p * exp(logQ)).squareRoot()
            let center = Double(g.n) * p
            let kLo = max(0, Int((center - 14 * sd - 2).rounded(.down)))
            let kHi = min(g.n, Int((center + 14 * sd + 2).rounded(.up)))
            var terms = [Double](repeating: 0, count: kHi - kLo + 1)
            var top = -Double.infinity
            for k in kLo...kHi {
                let l = BinomialTest.logChoose(g.n, k) + Double(k) * logP + Double(g.n - k) * logQ
                terms[k - kLo] = l
                top = max(top, l)
            }
            for i in terms.indices { terms[i] = exp(terms[i] - top) }
            scale += top
            var next = [Double](repeating: 0, count: dist.count + g.w * (terms.count - 1))
            dist.withUnsafeBufferPointer { d in
                next.withUnsafeMutableBufferPointer { out in
                    for (j, t) in terms.enumerated() where t > 1e-40 {
                        let base = j * g.w
                        for i in 0..<d.count { out[base + i] += d[i] * t }
                    }
                }
            }
            start += g.w * kLo
            // Trim what is negligible next to the peak, and renormalise.
            let peak = next.max() ?? 1
            var a = 0, b = next.count - 1
            while a < b && next[a] < peak * 1e-40 { a += 1 }
            while b > a && next[b] < peak * 1e-40 { b -= 1 }
            dist = next[a...b].map { $0 / peak }
            start += a
            scale += log(peak)
        }
        // Σ_{t ≥ s} P_θ(S = t) e^{−θ(t − s)}, then back to the untilted law.
        var sum = 0.0
        let first = max(0, s - start)
        if first < dist.count {
            for i in first..<dist.count {
                sum += dist[i] * exp(-theta * Double(start + i - s))
            }
        }
        guard sum > 0 else { return -.infinity }
        return min(0, scale + log(sum) - theta * Double(s) + logZ)
    }
}
