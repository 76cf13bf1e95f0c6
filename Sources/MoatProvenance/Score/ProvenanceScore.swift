#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MoatCore

/// The weighted sign test's result (see `ProvenanceScorer`): units per weight, the statistic, its exact
/// p-value. Reported beside the test, for analysis; not part of the reported p-value.
public struct WeightedResult: Sendable, Equatable {
    /// `weightCounts[w - 1]`: scored units of weight w.
    public var weightCounts: [Int]
    /// Total weight of the units that follow the key.
    public var statistic: Int
    /// Units that follow the key.
    public var green: Int
    /// log10 P(S ≥ statistic) under the null.
    public var log10PValue: Double
    /// log10 P(S > statistic) (with `log10PValue`, a randomized p-value for calibration checks).
    public var log10PValueAbove: Double

    public init(weightCounts: [Int], statistic: Int, green: Int, log10PValue: Double, log10PValueAbove: Double) {
        self.weightCounts = weightCounts
        self.statistic = statistic
        self.green = green
        self.log10PValue = log10PValue
        self.log10PValueAbove = log10PValueAbove
    }

    public var units: Int { weightCounts.reduce(0, +) }
    /// Total weight of all scored units (the statistic's largest value).
    public var maxStatistic: Int { weightCounts.enumerated().reduce(0) { $0 + ($1.offset + 1) * $1.element } }
    /// Share of the total weight that follows the key (0.5 expected without the mark).
    public var weightShare: Double { maxStatistic > 0 ? Double(statistic) / Double(maxStatistic) : 0 }
}

/// The result of a test: how many distinct units, how many follow the key, the exact p-value.
public struct ProvenanceScore: Sendable, Equatable {
    public var keyID: String
    public var campaign: String?
    public var scheme: String
    public var vote: String
    public var texts: Int
    /// Unit occurrences met (outside protected text and frozen classes).
    public var occurrences: Int
    /// Unit occurrences excluded because the prompt contains their class.
    public var excludedByPrompt: Int
    /// Distinct units met in both forms (not scored).
    public var ties: Int
    /// Distinct units scored.
    public var units: Int
    /// Scored units whose form is the key's.
    public var green: Int
    /// Units in the marked-form test: classes with a rare form, where the text uses that form.
    public var markedUnits: Int
    /// Marked-form units where the key chose the rare form.
    public var markedGreen: Int
    /// The weighted sign test (reported beside the two tests, not part of the p-value).
    public var weighted: WeightedResult

    public init(keyID: String, campaign: String?, scheme: String, vote: String, texts: Int, occurrences: Int,
                excludedByPrompt: Int, ties: Int, units: Int, green: Int, markedUnits: Int, markedGreen: Int,
                weighted: WeightedResult) {
        self.keyID = keyID
        self.campaign = campaign
        self.scheme = scheme
        self.vote = vote
        self.texts = texts
        self.occurrences = occurrences
        self.excludedByPrompt = excludedByPrompt
        self.ties = ties
        self.units = units
        self.green = green
        self.markedUnits = markedUnits
        self.markedGreen = markedGreen
        self.weighted = weighted
    }

    /// Share of scored units that follow the key (0.5 expected without the mark).
    public var greenShare: Double { units > 0 ? Double(green) / Double(units) : 0 }

    /// log10 of the all-units test's exact one-sided binomial p-value P(X ≥ green | units, 1/2).
    public var log10AllUnitsPValue: Double { BinomialTest.log10UpperTail(successes: green, trials: units) }

    /// log10 of the marked-form test's exact p-value P(X ≥ markedGreen | markedUnits, 1/2).
    public var log10MarkedFormPValue: Double { BinomialTest.log10UpperTail(successes: markedGreen, trials: markedUnits) }

    /// log10 of the reported p-value: twice the smaller of the two tests' (Bonferroni), at most 1.
    public var log10PValue: Double {
        min(0, min(log10AllUnitsPValue, log10MarkedFormPValue) + 0.30102999566398120)
    }

    /// The p-value (0 only when it is below about 1e-308; `log10PValue` still has it).
    public var pValue: Double { pow(10, log10PValue) }

    /// 95% Clopper–Pearson interval of the share that follows the key.
    public var interval95: (low: Double, high: Double) { BinomialTest.clopperPearson(successes: green, trials: units) }

    /// The z-score of the share against 1/2 (for tables; the p-value is exact, not from z).
    public var z: Double { units > 0 ? (Double(green) - Double(units) / 2) / (Double(units).squareRoot() / 2) : 0 }

    /// The p-value as text: `3.2e-41`, `0.47`, or `1e-512` from its logarithm.
    public var pValueText: String { Self.formatP(log10PValue) }

    static func formatP(_ log10p: Double) -> String {
        if log10p >= -3 { return fixed(pow(10, log10p), digits: 4) }
        var exponent = log10p.rounded(.down)
        var mantissa = pow(10, log10p - exponent)
        if mantissa >= 9.95 { mantissa /= 10; exponent += 1 }
        return fixed(mantissa, digits: 1) + "e" + String(Int(exponent))
    }

    static func fixed(_ v: Double, digits: Int) -> String {
        let scale = Int(pow(10, Double(digits)))
        let n = Int((abs(v) * Double(scale)).rounded())
        var s = (v < 0 && n > 0 ? "-" : "") + String(n / scale)
        if digits > 0 {
            var f = String(n % scale)
            while f.count < digits { f = "0" + f }
            s += "." + f
        }
        return s
    }

    static func percent(_ v: Double) -> String { fixed(v * 100, digits: 1) + "%" }

    /// How strong the evidence is, in words.
    public var verdict: String {
        let l = log10PValue
        if units == 0 { return "no units: nothing to test" }
        if l < -6 { return "strong evidence of the mark" }
        if l < -3 { return "evidence of the mark" }
        if l < -2 { return "weak evidence of the mark" }
        return "no evidence of the mark"
    }

    /// A plain statement for a report to legal or policy teams.
    public var statement: String {
        let keyName = "fingerprint key \(keyID)" + (campaign.map { " (campaign \($0))" } ?? "")
        guard units > 0 else {
            return "The \(texts) text(s) contain no word choice that the test can score against \(keyName), "
                + "so they give no evidence either way."
        }
        let (low, high) = interval95
        var s = "Moat's fingerprint marks answers by choosing, for each of a fixed set of interchangeable "
            + "wordings (such as \"do not\"/\"don't\" or \"for example\"/\"for instance\") and for each short "
            + "context, one wording picked by a keyed cryptographic hash (HMAC-SHA-256) with the campaign's "
            + "secret key. Text written without access to answers marked with that key matches the key's pick "
            + "in each distinct context like a fair coin, with probability one half. "
        s += "In the \(texts) text(s) tested, \(units) distinct choices were scored; \(green) of them "
            + "(\(Self.percent(greenShare)); 95% confidence interval \(Self.percent(low)) to \(Self.percent(high))) "
            + "match \(keyName). "
        s += "Of the \(markedUnits) distinct choices where the texts use the rarer wording, \(markedGreen) are where "
            + "the key put that wording. "
        s += "The probability of a result at least this strong by chance is p = \(pValueText): two exact one-sided "
            + "binomial tests fixed in advance, over all choices (p = \(Self.formatP(log10AllUnitsPValue))) and over the "
            + "choices in the rarer wording (p = \(Self.formatP(log10MarkedFormPValue))), each distinct choice counted once"
            + (excludedByPrompt > 0 ? ", choices that the prompts themselves contained excluded" : "")
            + "; the reported p is twice the smaller (Bonferroni). "
        switch verdict {
        case "strong evidence of the mark", "evidence of the mark":
            s += "This is \(verdict): the texts were produced with access to answers marked with this key, "
                + "directly or through a model trained on such answers. "
                + "The test does not say who produced them, nor rule out that they copied marked answers "
                + "some other way; it assumes the texts were not selected by looking at the key."
        case "weak evidence of the mark":
            s += "This is weak evidence only; more text from the same source would settle it."
        default:
            s += "The texts show no evidence of the mark. That does not prove they are unrelated: "
                + "too little text gives the test little power, and paraphrasing can remove the mark."
        }
        return s
    }

    /// The result as one JSON object.
    public func json() -> [UInt8] {
        var j = JSONBuffer(capacity: 2048)
        j.beginObject()
        j.key("key_id"); j.string(keyID)
        j.field("campaign", campaign)
        j.key("scheme"); j.string(scheme)
        j.key("test"); j.string("one-sided exact binomial, p0 = 0.5, distinct (class, context) units; p_value = min(1, 2 min(all units, marked form))")
        j.key("vote"); j.string(vote)
        j.key("texts"); j.int(texts)
        j.key("occurrences"); j.int(occurrences)
        j.key("excluded_by_prompt"); j.int(excludedByPrompt)
        j.key("ties"); j.int(ties)
        j.key("units"); j.int(units)
        j.key("green"); j.int(green)
        j.key("green_share"); j.double(greenShare)
        let (low, high) = interval95
        j.key("green_share_ci95"); j.beginArray(); j.double(low); j.double(high); j.endArray()
        j.key("p_value"); j.double(pValue)
        j.key("log10_p_value"); j.double(log10PValue.isFinite ? log10PValue : -1e308)
        j.key("all_units_p_value"); j.double(pow(10, log10AllUnitsPValue))
        j.key("marked_form_units"); j.int(markedUnits)
        j.key("marked_form_green"); j.int(markedGreen)
        j.key("marked_form_p_value"); j.double(pow(10, log10MarkedFormPValue))
        j.key("weighted_units"); j.int(weighted.units)
        j.key("weighted_green"); j.int(weighted.green)
        j.key("weighted_statistic"); j.int(weighted.statistic)
        j.key("weighted_max"); j.int(weighted.maxStatistic)
        j.key("weight_counts"); j.beginArray(); for c in weighted.weightCounts { j.int(c) }; j.endArray()
        j.key("weighted_p_value"); j.double(pow(10, weighted.log10PValue))
        j.key("weighted_p_value_above"); j.double(pow(10, weighted.log10PValueAbove))
        j.key("z"); j.double(z)
        j.key("verdict"); j.string(verdict)
        j.key("statement"); j.string(statement)
        j.endObject()
        return j.bytes
    }

    /// The result for people.
    public var table: String {
        let (low, high) = interval95
        var lines: [String] = []
        lines.append("key id:             \(keyID)" + (campaign.map { "  (campaign \($0))" } ?? ""))
        lines.append("scheme:             \(scheme), vote \(vote)")
        lines.append("texts:              \(texts)")
        lines.append("unit occurrences:   \(occurrences)" + (excludedByPrompt > 0 ? "  (+\(excludedByPrompt) excluded: class in the prompt)" : ""))
        lines.append("units scored:       \(units)  (distinct class and context; \(ties) met in both forms, not scored)")
        lines.append("follow the key:     \(green)  (\(Self.percent(greenShare)); 95% CI \(Self.percent(low))–\(Self.percent(high)); 50% without the mark)  p = \(Self.formatP(log10AllUnitsPValue))")
        lines.append("rarer wording used: \(markedUnits) units, \(markedGreen) where the key put it  p = \(Self.formatP(log10MarkedFormPValue))")
        lines.append("p-value:            \(pValueText)  (twice the smaller of the two exact one-sided binomial tests)")
        lines.append("weighted test:      \(weighted.units) units, weight \(weighted.statistic) of \(weighted.maxStatistic) follows the key  "
            + "p = \(Self.formatP(weighted.log10PValue))  (for analysis only)")
        lines.append("verdict:            \(verdict)")
        lines.append("")
        lines.append(statement)
        return lines.joined(separator: "\n")
    }
}
