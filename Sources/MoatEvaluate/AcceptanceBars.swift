/// The acceptance bars a detector must clear, in one place.
public struct AcceptanceBars: Sendable, Equatable {
    public var minAccountRecall: Double
    public var maxBenignFalsePositiveRate: Double
    public var maxLeakage: Double
    public var minCompleteness: Double
    public var minPurity: Double
    public var maxTimeToDetectHours: Double

    public init(minAccountRecall: Double = 0.99, maxBenignFalsePositiveRate: Double = 0.0001,
                maxLeakage: Double = 0.05, minCompleteness: Double = 0.95, minPurity: Double = 0.95,
                maxTimeToDetectHours: Double = 24) {
        self.minAccountRecall = minAccountRecall
        self.maxBenignFalsePositiveRate = maxBenignFalsePositiveRate
        self.maxLeakage = maxLeakage
        self.minCompleteness = minCompleteness
        self.minPurity = minPurity
        self.maxTimeToDetectHours = maxTimeToDetectHours
    }

    public static let standard = AcceptanceBars()

    /// One bar and whether the evaluation clears it.
    public struct Result: Sendable, Equatable {
        public var bar: String
        public var passed: Bool
        /// The measured value (the worst campaign's for per-campaign bars), or why it is not measured.
        public var detail: String
    }

    /// Checks every bar. A ratio with nothing to measure (no campaign accounts, no benign accounts, no
    /// campaign exchanges, no campaigns) passes; a figure that could not be measured because the exchange
    /// log was not read fails, and so does a campaign never detected.
    public func check(_ e: Evaluation) -> [Result] {
        var results: [Result] = []
        let o = e.overall
        let noLog = o.exchanges == nil

        if let r = o.accountRecall {
            results.append(Result(bar: "account recall >= \(fmt(minAccountRecall))", passed: r >= minAccountRecall,
                                  detail: fmt(r, 4)))
        } else {
            results.append(Result(bar: "account recall >= \(fmt(minAccountRecall))", passed: true,
                                  detail: "n/a (no campaign accounts)"))
        }

        let fprBar = "benign false-positive rate <= \(fmt(maxBenignFalsePositiveRate))"
        if let r = o.benignFalsePositiveRate {
            results.append(Result(bar: fprBar, passed: r <= maxBenignFalsePositiveRate, detail: fmt(r, 6)))
        } else {
            results.append(Result(bar: fprBar, passed: true, detail: "n/a (no benign accounts)"))
        }

        let leakBar = "leakage <= \(fmt(maxLeakage))"
        if let r = o.leakage {
            results.append(Result(bar: leakBar, passed: r <= maxLeakage, detail: fmt(r, 4)))
        } else if noLog {
            results.append(Result(bar: leakBar, passed: false, detail: "not measured (no exchange log)"))
        } else {
            results.append(Result(bar: leakBar, passed: true, detail: "n/a (no campaign exchanges)"))
        }

        results.append(worst("completeness >= \(fmt(minCompleteness)) per campaign", e.campaigns,
                             value: { $0.completeness }, passes: { $0 >= minCompleteness }, lowerIsWorse: true))
        results.append(worst("purity >= \(fmt(minPurity)) per campaign", e.campaigns,
                             value: { $0.purity }, passes: { $0 >= minPurity }, lowerIsWorse: true))

        let ttdBar = "time to detect <= \(fmt(maxTimeToDetectHours)) h per campaign"
        if e.campaigns.isEmpty {
            results.append(Result(bar: ttdBar, passed: true, detail: "n/a (no campaigns)"))
        } else if noLog {
            results.append(Result(bar: ttdBar, passed: false, detail: "not measured (no exchange log)"))
        } else if let never = e.campaigns.first(where: { $0.timeToDetectHours == nil }) {
            let count = e.campaigns.count(where: { $0.timeToDetectHours == nil })
            results.append(Result(bar: ttdBar, passed: false,
                                  detail: "never for \(count) campaign(s), e.g. \(never.campaign)"))
        } else {
            results.append(worst(ttdBar, e.campaigns, value: { $0.timeToDetectHours ?? .infinity },
                                 passes: { $0 <= maxTimeToDetectHours }, lowerIsWorse: false, digits: 2))
        }
        return results
    }

    private func worst(_ bar: String, _ campaigns: [Evaluation.CampaignResult],
                       value: (Evaluation.CampaignResult) -> Double, passes: (Double) -> Bool,
                       lowerIsWorse: Bool, digits: Int = 4) -> Result {
        guard var w = campaigns.first else { return Result(bar: bar, passed: true, detail: "n/a (no campaigns)") }
        for c in campaigns.dropFirst() {
            let v = value(c), wv = value(w)
            if lowerIsWorse ? v < wv : v > wv { w = c }
        }
        let failing = campaigns.count(where: { !passes(value($0)) })
        var detail = "worst \(fmt(value(w), digits)) (\(w.campaign))"
        if failing > 0 { detail += ", \(failing) of \(campaigns.count) campaigns fail" }
        return Result(bar: bar, passed: failing == 0, detail: detail)
    }
}
