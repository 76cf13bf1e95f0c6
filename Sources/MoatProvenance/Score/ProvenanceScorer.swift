#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The test: do these texts follow a key's choices more often than chance?
///
/// Every choice point (unit) in the texts is a class of two equivalent forms met in a context. The key
/// fixes one form per (class, context) by HMAC-SHA-256. Text written without the key's marked answers
/// follows the key in each distinct (class, context) with probability exactly 1/2, independently: the
/// text does not depend on the key, and HMAC outputs for distinct inputs behave as independent fair
/// coins. So the number of distinct units that follow the key is Binomial(units, 1/2) under the null,
/// and the p-value is the exact upper tail.
///
/// De-duplication makes that true: a (class, context) met several times is one unit, scored once. Its
/// form is decided by the `vote` (default `unanimous`: a unit met in both forms is a tie and is left
/// out, like a zero difference in a sign test). Units whose class appears in the prompt that produced
/// the text are excluded (`FingerprintPrompt`). Which units count and what form each takes depend only
/// on the texts and prompts, never on the key, so the null distribution is exact for any texts.
///
/// Two such tests are fixed in advance. The all-units test scores every unit. The marked-form test
/// scores only units of classes whose second form is rare in ordinary model text (British spellings,
/// two spaces after a sentence, `for instance`, ...) and where the text uses that rare form: a model that
/// learned from marked answers uses a rare form mostly where the key put it, while ordinary usage of it
/// is a fair coin against the key. The marked-form test is much stronger on text from a student trained
/// on partly marked answers; the all-units test is stronger on the served answers themselves. The
/// p-value reported is twice the smaller of the two (Bonferroni), valid whichever one is smaller.
///
/// A third, the weighted sign test, is computed beside them for analysis (JSON `weighted_*`), not in
/// the reported p-value: every distinct unit scored once in the form it takes (a unit met in both forms
/// in the form rarer in the texts), weighing more the rarer that form is among its class's occurrences
/// in the texts (`weight(share:)`); its statistic is the total weight of the units that follow the key.
/// Forms and weights depend only on the texts, so its null law is that of Σ wᵢ·Bᵢ with fair coins Bᵢ,
/// whose tail `WeightedSignTest` computes exactly. Measured on students trained here, it was weaker
/// than the marked-form test (weights from the texts' own shares are noisy where the evidence is thin),
/// so the reported rule stayed as it was.
public struct ProvenanceScorer: Sendable {
    /// How a unit met more than once is scored.
    public enum Vote: String, Sendable, CaseIterable {
        /// Its first occurrence.
        case first
        /// The form it takes more often; equal counts are a tie.
        case majority
        /// The form it always takes; both forms seen is a tie.
        case unanimous
    }

    struct Entry: Sendable {
        var tag: UInt64
        var context: UInt64
        var classIndex: Int32
        var first: UInt8
        var counts: (UInt32, UInt32)
    }

    struct UnitKey: Hashable, Sendable {
        var tag: UInt64
        var context: UInt64
    }

    public let scheme: FingerprintScheme
    public var vote: Vote
    /// Score units in protected text too (code, quotes, brackets, markup lines; default). The marker never
    /// touches them, so in served answers they follow the key by chance and only dilute the test; a
    /// student trained on marked answers does not learn where protection starts and ends (its text opens
    /// quotes and brackets it never closes), and there they carry the mark. Either way the units depend
    /// on the texts alone, so the null is exact.
    public var scoresProtected: Bool
    private var entries: [Entry] = []
    private var index: [UnitKey: Int] = [:]
    /// Texts added.
    public private(set) var texts = 0
    /// Unit occurrences met outside protected text and outside frozen classes.
    public private(set) var occurrences = 0
    /// Unit occurrences left out because their class appears in the text's prompt.
    public private(set) var excludedByPrompt = 0

    public init(scheme: FingerprintScheme = .standard, vote: Vote = .unanimous, scoresProtected: Bool = true) {
        self.scheme = scheme
        self.vote = vote
        self.scoresProtected = scoresProtected
    }

    /// Adds one text and the prompt that produced it (`.none` when unknown).
    public mutating func add(_ text: String, prompt: FingerprintPrompt = .none) {
        var engine = FingerprintEngine(key: nil, frozen: prompt.frozen, contextWords: scheme.contextWords,
                                       observeProtected: scoresProtected)
        engine.feed(text.utf8)
        engine.finish()
        texts += 1
        let lexicon = engine.lexicon
        for o in engine.observations {
            if o.frozen {
                excludedByPrompt += 1
                continue
            }
            occurrences += 1
            let key = UnitKey(tag: lexicon.tag(of: Int(o.classIndex)), context: o.context)
            if let i = index[key] {
                if o.form == 0 { entries[i].counts.0 += 1 } else { entries[i].counts.1 += 1 }
            } else {
                index[key] = entries.count
                entries.append(Entry(tag: key.tag, context: key.context, classIndex: o.classIndex, first: o.form,
                                     counts: o.form == 0 ? (1, 0) : (0, 1)))
            }
        }
    }

    /// Distinct (class, context) units met so far.
    public var distinctUnits: Int { entries.count }

    private func observed(_ e: Entry) -> UInt8? {
        switch vote {
        case .first: return e.first
        case .majority: return e.counts.0 > e.counts.1 ? 0 : (e.counts.1 > e.counts.0 ? 1 : nil)
        case .unanimous: return e.counts.1 == 0 ? 0 : (e.counts.0 == 0 ? 1 : nil)
        }
    }

    /// Weight levels of the weighted test: 1 ... `maxWeight`.
    public static let maxWeight = 16

    /// The weight of a unit whose scored form has `share` of its class's occurrences in the texts:
    /// round(2·log2(1/share)), from 1 to 16 (share 1/2 weighs 2, 1/4 weighs 4, 1/16 weighs 8). Where a
    /// student learned the key's choices from a share m of marked answers, writing a form that is rare
    /// in its output is strong evidence (the form is there mostly where the key put it), writing the
    /// common form weak evidence; log(1 + m/q) is the log-likelihood ratio of a unit in a form of natural
    /// share q, which for m near 0.2 is close to proportional to this weight. Fixed in advance, from that
    /// argument, not fitted to any text.
    public static func weight(share: Double) -> Int {
        guard share > 0 else { return maxWeight }
        return max(1, min(maxWeight, Int((2 * log2(1 / share)).rounded())))
    }

    /// The weighted test's units, independent of any key: for each distinct unit, the form scored (the one
    /// it takes; a unit met in both forms takes the form rarer in the texts, a tie when both are equally
    /// common) and its weight (from that form's share of its class's occurrences in the texts, add-one
    /// smoothed). Nil: a tie, not scored.
    func weightedUnits() -> [(form: UInt8, weight: Int)?] {
        var totals: [Int32: (Int, Int)] = [:]
        for e in entries {
            let t = totals[e.classIndex] ?? (0, 0)
            totals[e.classIndex] = (t.0 + Int(e.counts.0), t.1 + Int(e.counts.1))
        }
        return entries.map { e in
            let t = totals[e.classIndex]!
            let form: UInt8
            if e.counts.0 > 0 && e.counts.1 > 0 {
                guard t.0 != t.1 else { return nil }
                form = t.0 < t.1 ? 0 : 1
            } else {
                form = e.counts.0 > 0 ? 0 : 1
            }
            let share = (Double(form == 0 ? t.0 : t.1) + 1) / (Double(t.0 + t.1) + 2)
            return (form, Self.weight(share: share))
        }
    }

    /// The test against `key`.
    public func score(key: FingerprintKey) -> ProvenanceScore {
        let lexicon = VariantLexicon.shared
        let green = key.greenForms(entries.map { ($0.tag, $0.context) })
        var weightCounts = [Int](repeating: 0, count: Self.maxWeight)
        var statistic = 0, weightedGreen = 0
        for (u, g) in zip(weightedUnits(), green) {
            guard let u else { continue }
            weightCounts[u.weight - 1] += 1
            if u.form == g {
                statistic += u.weight
                weightedGreen += 1
            }
        }
        let tails = WeightedSignTest.logUpperTails(counts: weightCounts, statistic: statistic)
        let weighted = WeightedResult(weightCounts: weightCounts, statistic: statistic, green: weightedGreen,
                                      log10PValue: tails.atLeast / M_LN10, log10PValueAbove: tails.above / M_LN10)
        var units = 0, follows = 0, ties = 0, marked = 0, markedFollows = 0
        for (e, g) in zip(entries, green) {
            // The marked-form test: units of classes with a rare form, where that form appears.
            if let rare = lexicon.rareForm(of: Int(e.classIndex)), (rare == 0 ? e.counts.0 : e.counts.1) > 0 {
                marked += 1
                if g == rare { markedFollows += 1 }
            }
            guard let form = observed(e) else {
                ties += 1
                continue
            }
            units += 1
            if form == g { follows += 1 }
        }
        return ProvenanceScore(keyID: key.id, campaign: key.campaign, scheme: scheme.name, vote: vote.rawValue,
                               texts: texts, occurrences: occurrences, excludedByPrompt: excludedByPrompt,
                               ties: ties, units: units, green: follows, markedUnits: marked, markedGreen: markedFollows,
                               weighted: weighted)
    }

    /// Every distinct unit with its counts and the key's form, in the order first met (for an audit
    /// trail: anyone holding the key can check each line).
    public func unitRecords(key: FingerprintKey) -> [ScoredUnit] {
        let lexicon = VariantLexicon.shared
        let green = key.greenForms(entries.map { ($0.tag, $0.context) })
        return zip(entries, green).map { e, g in
            let forms = lexicon.forms(of: Int(e.classIndex))
            let form = observed(e)
            return ScoredUnit(variantClass: lexicon.name(of: Int(e.classIndex)), context: e.context,
                              forms: forms, counts: (Int(e.counts.0), Int(e.counts.1)),
                              observed: form.map(Int.init), keyForm: Int(g))
        }
    }
}

/// One distinct unit of a test.
public struct ScoredUnit: Sendable {
    /// The class, e.g. `do not/don't`.
    public var variantClass: String
    /// The hash of the unit's context.
    public var context: UInt64
    public var forms: (String, String)
    /// How often each form was met.
    public var counts: (Int, Int)
    /// The form scored (nil: a tie, not scored).
    public var observed: Int?
    /// The form the key chooses.
    public var keyForm: Int

    public var follows: Bool? { observed.map { $0 == keyForm } }
}
