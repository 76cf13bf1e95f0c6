import Foundation
import Testing
@testable import MoatProvenance

@Suite struct BinomialTests {
    // Reference values from scipy.stats (binom.sf, beta.ppf) and exact integer sums in Python.
    static let references: [(k: Int, n: Int, log10p: Double, low: Double, high: Double)] = [
        (7, 10, -0.7647872888256622, 0.3475471499400027, 0.9332604888222655),
        (60, 100, -1.5460098366302202, 0.4972091504223347, 0.6967052312971226),
        (600, 1000, -9.865111742849937, 0.5688784459558931, 0.6305310124510877),
        (5200, 10000, -4.481912957702328, 0.5101533947198647, 0.5298349514860567),
        (3, 3, -0.9030899869919435, 0.2924017738212866, 1),
        (1, 2, -0.12493873660829993, 0.01257911709342505, 0.9874208829065749),
        (0, 5, 0, 0, 0.5218237501049814),
        (50, 100, -0.26777144931512475, 0.39832112950330095, 0.601678870496699),
        (30, 100, -6.983514738061719e-06, 0.21240642048953662, 0.3998146761798041),
        (900, 1000, -161.17381386429895, 0.8797120634813074, 0.91789466564442),
    ]

    @Test func tailsAndIntervalsMatchReferenceValues() {
        for r in Self.references {
            let l = BinomialTest.log10UpperTail(successes: r.k, trials: r.n)
            #expect(abs(l - r.log10p) < 1e-9 * max(1, abs(r.log10p)), "p \(r.k)/\(r.n): \(l)")
            let ci = BinomialTest.clopperPearson(successes: r.k, trials: r.n)
            #expect(abs(ci.low - r.low) < 1e-9 && abs(ci.high - r.high) < 1e-9, "ci \(r.k)/\(r.n): \(ci)")
        }
    }

    @Test func tinyPValuesStayExactInLogSpace() {
        // log10 of P(X ≥ 9000 | 10000, 1/2) = -1600.3076504190747 (exact sum of binomial coefficients).
        #expect(abs(BinomialTest.log10UpperTail(successes: 9000, trials: 10000) + 1600.3076504190747) < 1e-8)
        #expect(abs(BinomialTest.log10UpperTail(successes: 120, trials: 200) + 2.546287609736382) < 1e-9)
        #expect(BinomialTest.log10UpperTail(successes: 0, trials: 0) == 0)
        #expect(ProvenanceScore.formatP(-1600.3076504190747) == "4.9e-1601")
        #expect(ProvenanceScore.formatP(log10(0.0284)) == "0.0284")
    }
}

@Suite struct WeightedSignTestTests {
    /// P(S ≥ s) by counting: the number of coin outcomes with each total weight, over 2^N.
    static func bruteForce(_ counts: [Int], _ s: Int) -> Double {
        var ways: [Double] = [1]
        for (i, n) in counts.enumerated() {
            for _ in 0..<n {
                var next = [Double](repeating: 0, count: ways.count + i + 1)
                for (t, c) in ways.enumerated() {
                    next[t] += c
                    next[t + i + 1] += c
                }
                ways = next
            }
        }
        let total = ways.reduce(0, +)
        return ways.enumerated().filter { $0.offset >= s }.reduce(0) { $0 + $1.element } / total
    }

    @Test("with every weight 1 the weighted test is the exact binomial test")
    func equalWeightsAreTheBinomialTest() {
        for (k, n) in [(7, 10), (60, 100), (600, 1000), (5200, 10000), (9000, 10000), (3, 3), (0, 5), (30, 100)] {
            let w = WeightedSignTest.log10UpperTail(counts: [n], statistic: k)
            let b = BinomialTest.log10UpperTail(successes: k, trials: n)
            #expect(abs(w - b) < 1e-8 * max(1, abs(b)), "\(k)/\(n): \(w) vs \(b)")
        }
    }

    @Test("the weighted tail equals the count of coin outcomes, for every statistic")
    func smallCasesMatchEnumeration() {
        var rng = SeededRandom(seed: 5)
        for _ in 0..<40 {
            var counts = [Int](repeating: 0, count: 16)
            for _ in 0..<Int.random(in: 1...14, using: &rng) { counts[Int.random(in: 0..<16, using: &rng)] += 1 }
            let maxS = counts.enumerated().reduce(0) { $0 + ($1.offset + 1) * $1.element }
            for s in stride(from: 0, through: maxS + 1, by: max(1, maxS / 12)) {
                let exact = Self.bruteForce(counts, s)
                let tails = WeightedSignTest.logUpperTails(counts: counts, statistic: s)
                let got = exp(tails.atLeast)
                #expect(abs(got - exact) <= 1e-9 * exact + 1e-300, "\(counts) s=\(s): \(got) vs \(exact)")
                #expect(abs(exp(tails.above) - Self.bruteForce(counts, s + 1)) <= 1e-9 * exact + 1e-300)
            }
        }
    }

    @Test("large mixtures of weights agree with a direct convolution, far into the tail")
    func largeMixturesMatchConvolution() {
        let counts = [300, 120, 0, 40, 0, 0, 0, 25, 0, 0, 0, 0, 0, 0, 0, 10]
        let maxS = counts.enumerated().reduce(0) { $0 + ($1.offset + 1) * $1.element }
        for s in [maxS / 2 - 40, maxS / 2 + 30, maxS * 3 / 5, maxS * 3 / 4, maxS * 9 / 10, maxS - 3] {
            let exact = log10(Self.bruteForce(counts, s))
            let got = WeightedSignTest.log10UpperTail(counts: counts, statistic: s)
            #expect(abs(got - exact) < 1e-7 * max(1, abs(exact)), "s=\(s): \(got) vs \(exact)")
        }
    }
}

@Suite struct KeyTests {
    @Test func campaignKeysAreDerivedDeterministicallyAndDiffer() throws {
        let master = try FingerprintMasterKey(encoded: "  00112233445566778899aabbccddeeff\n")
        let a = master.campaignKey("c-1"), b = master.campaignKey("c-2")
        #expect(a == master.campaignKey("c-1"))
        #expect(a != b && a.id != b.id)
        #expect(a.id.hasPrefix("fpk-") && a.id.count == 20)
        #expect(a.campaign == "c-1")
        // A campaign key handed out in hex is the same key.
        let handed = try FingerprintKey(encoded: a.hex)
        #expect(handed.id == a.id)
        // Hex and text encodings are different keys; short keys are refused.
        #expect(try FingerprintMasterKey(encoded: "correct horse battery staple").id != master.id)
        #expect(throws: ProvenanceError.self) { try FingerprintMasterKey(encoded: "abcd") }
        #expect(throws: ProvenanceError.self) { try FingerprintMasterKey(encoded: "") }
    }

    @Test func theKeyIDRevealsNothingUsableAndIsStable() throws {
        // Pinned: a change here changes every published key id.
        let master = try FingerprintMasterKey(encoded: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
        #expect(master.campaignKey("campaign-1").id == TestKeys.key(1).id)
        #expect(!master.campaignKey("campaign-1").id.contains(master.campaignKey("campaign-1").hex.prefix(16)))
    }
}

@Suite struct ScoringTests {
    @Test func markedTextScoresAsMarkedOnlyUnderItsOwnKey() {
        let key = TestKeys.key(1)
        let marker = Fingerprinter(key: key)
        // Units the marker acts on all follow the key; the test also reads protected text (code, quotes),
        // which the marker leaves alone, so there some units follow it only by chance.
        var marked = ProvenanceScorer(scoresProtected: false)
        var scorer = ProvenanceScorer()
        for text in SampleTexts.all + [syntheticText(sentences: 200, seed: 3)] {
            scorer.add(marker.mark(text))
            marked.add(marker.mark(text))
        }
        let acted = marked.score(key: key)
        #expect(acted.units > 150)
        #expect(acted.green == acted.units)
        let own = scorer.score(key: key)
        #expect(own.units >= acted.units)
        #expect(own.log10PValue < -45)
        #expect(own.verdict == "strong evidence of the mark")
        let other = scorer.score(key: TestKeys.key(2))
        #expect(other.log10PValue > -3, "another key: \(other.pValueText)")
        #expect(other.units == own.units)
    }

    @Test func promptsExcludeTheirClassesFromTheTest() {
        var scorer = ProvenanceScorer()
        scorer.add("It is a good idea.\nYou don't need it.", prompt: FingerprintPrompt("don't"))
        #expect(scorer.excludedByPrompt == 1)
        #expect(scorer.occurrences == 1)
    }

    @Test func repeatedUnitsCountOnceAndMixedOnesAreTies() {
        var scorer = ProvenanceScorer()
        for _ in 0..<50 { scorer.add("Well it is a test.") }
        scorer.add("Well it's a test.")
        #expect(scorer.occurrences == 51)
        #expect(scorer.distinctUnits == 1)
        let s = scorer.score(key: TestKeys.key(1))
        #expect(s.units == 0 && s.ties == 1)
        var first = ProvenanceScorer(vote: .first)
        for _ in 0..<50 { first.add("Well it is a test.") }
        first.add("Well it's a test.")
        #expect(first.score(key: TestKeys.key(1)).units == 1)
    }

    /// The null: text independent of the key gives p-values that are uniform (or, from the discreteness
    /// of the binomial, conservative) over random keys.
    @Test func pValuesOfCleanTextAreCalibratedOverRandomKeys() {
        var scorer = ProvenanceScorer()
        scorer.add(syntheticText(sentences: 2_000, seed: 11))
        for text in SampleTexts.all { scorer.add(text) }
        let keys = 400
        var reported: [Double] = [], allUnits: [Double] = [], markedForm: [Double] = [], randomized: [Double] = []
        var rng = SeededRandom(seed: 99)
        for i in 0..<keys {
            let master = try! FingerprintMasterKey(bytes: (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ i &* 13 &+ i >> 8) })
            let s = scorer.score(key: master.campaignKey("null-\(i)"))
            reported.append(s.pValue)
            let above = pow(10, s.weighted.log10PValueAbove)
            randomized.append(above + Double.random(in: 0..<1, using: &rng) * (pow(10, s.weighted.log10PValue) - above))
            allUnits.append(pow(10, s.log10AllUnitsPValue))
            markedForm.append(pow(10, s.log10MarkedFormPValue))
        }
        let s0 = scorer.score(key: TestKeys.key(0))
        #expect(s0.units > 600 && s0.markedUnits > 150, "\(s0.units) units, \(s0.markedUnits) marked-form units")
        // Rejections at alpha = 0.05 and 0.01 within 3 standard errors of alpha (and never far above).
        for (name, p) in [("reported", reported), ("all units", allUnits), ("marked form", markedForm)] {
            for alpha in [0.05, 0.01] {
                let rate = Double(p.filter { $0 <= alpha }.count) / Double(keys)
                let se = (alpha * (1 - alpha) / Double(keys)).squareRoot()
                #expect(rate <= alpha + 3 * se, "\(name): FPR at \(alpha): \(rate)")
            }
        }
        // Each test's p-values are uniform: Kolmogorov–Smirnov distance below the 0.1% critical value.
        for (name, p) in [("all units", allUnits), ("marked form", markedForm), ("weighted, randomized", randomized)] {
            let sorted = p.sorted()
            var d = 0.0
            for (i, x) in sorted.enumerated() {
                d = max(d, abs(Double(i + 1) / Double(keys) - x), abs(x - Double(i) / Double(keys)))
            }
            #expect(d < 1.95 / Double(keys).squareRoot(), "\(name): KS distance \(d)")
        }
    }

    @Test func theStatementNamesTheKeyTheFiguresAndTheLimits() {
        var scorer = ProvenanceScorer()
        let key = TestKeys.key(4)
        scorer.add(Fingerprinter(key: key).mark(syntheticText(sentences: 300, seed: 5)))
        let s = scorer.score(key: key)
        #expect(s.statement.contains(key.id))
        #expect(s.statement.contains("campaign campaign-4"))
        #expect(s.statement.contains("p = \(s.pValueText)"))
        #expect(s.statement.contains("does not say who produced them"))
        let json = String(decoding: s.json(), as: UTF8.self)
        for field in ["\"p_value\":", "\"units\":", "\"green_share_ci95\":[", "\"key_id\":\"\(key.id)\"", "\"statement\":"] {
            #expect(json.contains(field), "\(field)")
        }
    }
}
