import MoatCore

/// Computes an `Evaluation` (contract section 6) from labels, a report and the exchange log, fed one
/// exchange at a time so a log of any size streams through in constant memory per account.
///
/// Memory: counters for every labelled or flagged account, plus the set of other account ids seen in the
/// log (needed to count distinct benign accounts). No exchange is kept.
///
/// ```swift
/// var builder = try EvaluationBuilder(labels: labels, report: report)
/// while let e = try reader.next() { builder.add(account: e.accountID, ts: e.ts) }
/// let evaluation = builder.finish()
/// ```
public struct EvaluationBuilder {
    /// Flagged = listed in `report.accounts` with a verdict other than this.
    public static let clearVerdict = "clear"

    private let hasExchangeLog: Bool
    private let report: Report

    // Tracked accounts: every labelled account and every flagged account, by index.
    private var index: [String: Int] = [:]
    private var ids: [String] = []
    private var campaignOf: [Int] = []  // index into campaignNames, -1 = benign
    private var flaggedAt: [Timestamp?] = []
    private var verdictEntry: [Int?] = []  // index into report.accounts of its (first) flagging entry
    private var total: [Int] = []
    private var leaked: [Int] = []
    private var firstTs: [Int64] = []

    private var campaignNames: [String] = []
    private var campaignMembers: [[Int]] = []

    /// Reported campaign id -> distinct tracked-or-not member ids.
    private var reportedMembers: [String: Set<String>] = [:]

    private var otherAccounts: Set<String> = []
    private var exchangeCount = 0

    /// - Parameters:
    ///   - hasExchangeLog: false when no exchange log will be fed; figures that need it become nil.
    ///   - labelsFile, reportFile: names used in errors.
    /// - Throws: `ContractError` for an account labelled with two campaigns, an unsupported report version
    ///   or a flagged account whose `flagged_at` is not RFC 3339.
    public init(labels: [CampaignLabel], report: Report, hasExchangeLog: Bool = true,
                labelsFile: String = "labels", reportFile: String = "report") throws(ContractError) {
        self.hasExchangeLog = hasExchangeLog
        self.report = report
        guard report.version == 1 else {
            throw ContractError(file: reportFile, field: "version",
                                message: "unsupported report version \(report.version) (this reader knows 1)")
        }

        var campaignIndex: [String: Int] = [:]
        for label in labels {
            if let i = index[label.accountID] {
                let existing = campaignNames[campaignOf[i]]
                guard existing == label.campaign else {
                    throw ContractError(file: labelsFile, field: "campaign",
                                        message: "account \(label.accountID) is labelled with two campaigns, "
                                            + "\(existing) and \(label.campaign)")
                }
                continue
            }
            let c: Int
            if let known = campaignIndex[label.campaign] {
                c = known
            } else {
                c = campaignNames.count
                campaignIndex[label.campaign] = c
                campaignNames.append(label.campaign)
                campaignMembers.append([])
            }
            let i = track(label.accountID, campaign: c)
            campaignMembers[c].append(i)
        }

        for (n, entry) in report.accounts.enumerated() where entry.verdict != Self.clearVerdict {
            guard let at = Timestamp(rfc3339: entry.flaggedAt) else {
                throw ContractError(file: reportFile, field: "accounts[\(n)].flagged_at",
                                    message: "not an RFC 3339 time: \"\(entry.flaggedAt)\" (account \(entry.accountID))")
            }
            let i = index[entry.accountID] ?? track(entry.accountID, campaign: -1)
            if let previous = flaggedAt[i], previous <= at { continue }
            flaggedAt[i] = at
            verdictEntry[i] = n
        }

        for campaign in report.campaigns {
            reportedMembers[campaign.id, default: []].formUnion(campaign.accounts)
        }
        for entry in report.accounts where entry.verdict != Self.clearVerdict {
            if let c = entry.campaign { reportedMembers[c, default: []].insert(entry.accountID) }
        }
    }

    private mutating func track(_ id: String, campaign: Int) -> Int {
        let i = ids.count
        index[id] = i
        ids.append(id)
        campaignOf.append(campaign)
        flaggedAt.append(nil)
        verdictEntry.append(nil)
        total.append(0)
        leaked.append(0)
        firstTs.append(Int64.max)
        return i
    }

    /// Counts one exchange of the log. Order does not matter.
    public mutating func add(account: String, ts: Timestamp) {
        exchangeCount += 1
        guard let i = index[account] else {
            otherAccounts.insert(account)
            return
        }
        total[i] += 1
        // Served before flagged_at: the exchange at exactly flagged_at is not leaked.
        if let at = flaggedAt[i] {
            if ts < at { leaked[i] += 1 }
        } else {
            leaked[i] += 1
        }
        if ts.milliseconds < firstTs[i] { firstTs[i] = ts.milliseconds }
    }

    public mutating func add(_ exchange: Exchange) {
        add(account: exchange.accountID, ts: exchange.ts)
    }

    public func finish() -> Evaluation {
        // Overall account figures.
        let campaignAccounts = campaignOf.count(where: { $0 >= 0 })
        var flaggedCampaign = 0
        var flaggedBenign = 0
        for i in ids.indices where flaggedAt[i] != nil {
            if campaignOf[i] >= 0 { flaggedCampaign += 1 } else { flaggedBenign += 1 }
        }
        let benignAccounts: Int
        if hasExchangeLog {
            // Tracked benign accounts are exactly the flagged ones (seen in the log or not).
            benignAccounts = otherAccounts.count + flaggedBenign
        } else {
            benignAccounts = max(report.summary.accounts - campaignAccounts, flaggedBenign)
        }
        let flagged = flaggedCampaign + flaggedBenign

        var campaignExchanges = 0
        var leakedExchanges = 0
        for i in ids.indices where campaignOf[i] >= 0 {
            campaignExchanges += total[i]
            leakedExchanges += leaked[i]
        }

        // Which reported campaigns hold each tracked campaign account.
        var reportedOf: [String: [String]] = [:]
        for (id, members) in reportedMembers {
            for account in members where index[account].map({ campaignOf[$0] >= 0 }) ?? false {
                reportedOf[account, default: []].append(id)
            }
        }

        var results: [Evaluation.CampaignResult] = []
        for (c, name) in campaignNames.enumerated() {
            let members = campaignMembers[c]
            let n = members.count
            var exchanges = 0
            var leakedHere = 0
            var first = Int64.max
            var flaggedTimes: [Timestamp] = []
            var overlap: [String: Int] = [:]
            for i in members {
                exchanges += total[i]
                leakedHere += leaked[i]
                first = min(first, firstTs[i])
                if let at = flaggedAt[i] { flaggedTimes.append(at) }
                for r in reportedOf[ids[i]] ?? [] { overlap[r, default: 0] += 1 }
            }
            // Best match: largest overlap, then the smaller reported campaign (higher purity), then id.
            var match: (id: String, overlap: Int, size: Int)?
            for (r, o) in overlap {
                let size = reportedMembers[r]?.count ?? o
                if let m = match {
                    if o < m.overlap { continue }
                    if o == m.overlap && (size > m.size || (size == m.size && r > m.id)) { continue }
                }
                match = (r, o, size)
            }
            flaggedTimes.sort()
            let half = (n + 1) / 2
            let halfAt: Timestamp? = flaggedTimes.count >= half && half > 0 ? flaggedTimes[half - 1] : nil
            let firstExchange: Timestamp? = hasExchangeLog && first != Int64.max ? Timestamp(milliseconds: first) : nil
            var ttd: Double?
            if let halfAt, let firstExchange {
                ttd = Double(halfAt.milliseconds - firstExchange.milliseconds) / Double(Timestamp.hour)
            }
            results.append(Evaluation.CampaignResult(
                campaign: name,
                accounts: n,
                exchanges: hasExchangeLog ? exchanges : nil,
                leakedExchanges: hasExchangeLog ? leakedHere : nil,
                firstExchange: firstExchange?.rfc3339,
                flagged: flaggedTimes.count,
                recall: ratio(flaggedTimes.count, n) ?? 0,
                leakage: hasExchangeLog ? ratio(leakedHere, exchanges) : nil,
                completeness: match.map { Double($0.overlap) / Double(n) } ?? 0,
                purity: match.map { Double($0.overlap) / Double($0.size) } ?? 0,
                matchedCampaign: match?.id,
                matchedAccounts: match?.overlap ?? 0,
                matchedCampaignSize: match?.size,
                halfFlaggedAt: halfAt?.rfc3339,
                timeToDetectHours: ttd))
        }
        results.sort { $0.campaign < $1.campaign }

        var falsePositives: [Evaluation.FalsePositive] = []
        for i in ids.indices where campaignOf[i] < 0 {
            guard let n = verdictEntry[i] else { continue }
            let entry = report.accounts[n]
            falsePositives.append(Evaluation.FalsePositive(
                accountID: entry.accountID, verdict: entry.verdict, score: entry.score, campaign: entry.campaign,
                flaggedAt: entry.flaggedAt, reasons: entry.reasons, exchanges: hasExchangeLog ? total[i] : nil))
        }
        falsePositives.sort { $0.accountID < $1.accountID }

        let overall = Evaluation.Overall(
            accounts: campaignAccounts + benignAccounts,
            campaignAccounts: campaignAccounts,
            benignAccounts: benignAccounts,
            flaggedAccounts: flagged,
            flaggedCampaignAccounts: flaggedCampaign,
            flaggedBenignAccounts: flaggedBenign,
            accountRecall: ratio(flaggedCampaign, campaignAccounts),
            benignFalsePositiveRate: ratio(flaggedBenign, benignAccounts),
            accountPrecision: ratio(flaggedCampaign, flagged),
            leakage: hasExchangeLog ? ratio(leakedExchanges, campaignExchanges) : nil,
            campaignExchanges: hasExchangeLog ? campaignExchanges : nil,
            leakedExchanges: hasExchangeLog ? leakedExchanges : nil,
            exchanges: hasExchangeLog ? exchangeCount : nil,
            campaigns: results.count,
            campaignsDetected: results.count(where: { $0.halfFlaggedAt != nil }),
            reportedCampaigns: reportedMembers.count)
        return Evaluation(overall: overall, campaigns: results, falsePositives: falsePositives)
    }
}

@inline(__always) func ratio(_ numerator: Int, _ denominator: Int) -> Double? {
    denominator == 0 ? nil : Double(numerator) / Double(denominator)
}

extension Evaluation {
    /// Evaluates a report against labels and an in-memory sequence of (account, ts) pairs.
    public static func evaluate<S: Sequence>(labels: [CampaignLabel], report: Report, exchanges: S)
        throws(ContractError) -> Evaluation where S.Element == (account: String, ts: Timestamp) {
        var builder = try EvaluationBuilder(labels: labels, report: report)
        for e in exchanges { builder.add(account: e.account, ts: e.ts) }
        return builder.finish()
    }

    /// Evaluates without the exchange log: leakage, exchanges and time to detect are nil, and benign
    /// accounts come from the report's `summary.accounts`.
    public static func evaluate(labels: [CampaignLabel], report: Report) throws(ContractError) -> Evaluation {
        try EvaluationBuilder(labels: labels, report: report, hasExchangeLog: false).finish()
    }
}
