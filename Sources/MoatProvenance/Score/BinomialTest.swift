#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Exact binomial tails and the Clopper–Pearson interval, in log space so that p-values far below
/// `Double`'s range are still reported (as log10).
public enum BinomialTest {
    /// log10 of P(X ≥ k) for X ~ Binomial(n, 1/2): the one-sided exact p-value of k successes in n.
    public static func log10UpperTail(successes k: Int, trials n: Int) -> Double {
        guard n > 0, k > 0 else { return 0 }
        guard k <= n else { return -.infinity }
        if 2 * k > n {
            return log10SumFrom(k, n)
        }
        // P(X ≥ k) = 1 − P(X ≤ k − 1) = 1 − P(X ≥ n − k + 1), the latter at most 1/2.
        let lower = pow(10, log10SumFrom(n - k + 1, n))
        return log10(max(0, 1 - lower))
    }

    /// P(X ≥ k) for X ~ Binomial(n, 1/2) (0 when below the smallest positive Double).
    public static func upperTail(successes k: Int, trials n: Int) -> Double {
        pow(10, log10UpperTail(successes: k, trials: n))
    }

    /// log10 Σ_{j ≥ k} C(n, j) / 2^n for k > n/2, where the terms fall as j grows.
    private static func log10SumFrom(_ k: Int, _ n: Int) -> Double {
        let logTerm = logChoose(n, k) - Double(n) * M_LN2
        var sum = 1.0
        var term = 1.0
        var j = k
        while j < n {
            term *= Double(n - j) / Double(j + 1)
            sum += term
            if term < sum * 1e-17 { break }
            j += 1
        }
        return (logTerm + log(sum)) / M_LN10
    }

    static func logChoose(_ n: Int, _ k: Int) -> Double {
        lgamma(Double(n) + 1) - lgamma(Double(k) + 1) - lgamma(Double(n - k) + 1)
    }

    /// The Clopper–Pearson (exact) two-sided interval for a binomial proportion at `confidence`.
    public static func clopperPearson(successes k: Int, trials n: Int, confidence: Double = 0.95) -> (low: Double, high: Double) {
        guard n > 0 else { return (0, 1) }
        let alpha = (1 - confidence) / 2
        // P(X ≥ k | p) = I_p(k, n − k + 1) grows with p; the lower bound is where it equals alpha.
        let low = k == 0 ? 0 : solve { p in regularizedBeta(Double(k), Double(n - k + 1), p) - alpha }
        // P(X ≤ k | p) = 1 − I_p(k + 1, n − k) falls with p; the upper bound is where it equals alpha.
        let high = k == n ? 1 : solve { p in alpha - (1 - regularizedBeta(Double(k + 1), Double(n - k), p)) }
        return (low, high)
    }

    /// The root in (0, 1) of an increasing function, by bisection.
    private static func solve(_ f: (Double) -> Double) -> Double {
        var lo = 0.0
        var hi = 1.0
        for _ in 0..<100 {
            let mid = (lo + hi) / 2
            if f(mid) < 0 { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// The regularized incomplete beta function I_x(a, b) (continued fraction, modified Lentz).
    static func regularizedBeta(_ a: Double, _ b: Double, _ x: Double) -> Double {
        if x <= 0 { return 0 }
        if x >= 1 { return 1 }
        let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log(1 - x)
        if x < (a + 1) / (a + b + 2) {
            return exp(logFront) * betaFraction(a, b, x) / a
        }
        return 1 - exp(logFront) * betaFraction(b, a, 1 - x) / b
    }

    private static func betaFraction(_ a: Double, _ b: Double, _ x: Double) -> Double {
        let tiny = 1e-300
        let qab = a + b, qap = a + 1, qam = a - 1
        var c = 1.0
        var d = 1 - qab * x / qap
        if abs(d) < tiny { d = tiny }
        d = 1 / d
        var h = d
        for m in 1...100_000 {
            let m = Double(m), m2 = 2 * m
            var aa = m * (b - m) * x / ((qam + m2) * (a + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            h *= d * c
            aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
            d = 1 + aa * d
            if abs(d) < tiny { d = tiny }
            c = 1 + aa / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 3e-16 { break }
        }
        return h
    }
}
