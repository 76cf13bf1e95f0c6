import Foundation

extension Evaluation {
    /// The evaluation as text for people: overall figures, one row per true campaign, then the false
    /// positives (at most `maxFalsePositives` rows, then a "... N more" line).
    public func table(maxFalsePositives: Int = 50) -> String {
        var out = ""
        let o = overall
        out += "Overall\n"
        var rows: [[String]] = []
        rows.append(["accounts", "\(o.accounts)", "\(o.campaignAccounts) campaign, \(o.benignAccounts) benign"])
        rows.append(["flagged accounts", "\(o.flaggedAccounts)",
                     "\(o.flaggedCampaignAccounts) campaign, \(o.flaggedBenignAccounts) benign"])
        rows.append(["account recall", fmt(o.accountRecall, 4), "\(o.flaggedCampaignAccounts)/\(o.campaignAccounts)"])
        rows.append(["benign false-positive rate", fmt(o.benignFalsePositiveRate, 6),
                     "\(o.flaggedBenignAccounts)/\(o.benignAccounts)"])
        rows.append(["account precision", fmt(o.accountPrecision, 4), "\(o.flaggedCampaignAccounts)/\(o.flaggedAccounts)"])
        if let leaked = o.leakedExchanges, let total = o.campaignExchanges {
            rows.append(["leakage", fmt(o.leakage, 4), "\(leaked)/\(total) campaign exchanges before flagged_at"])
        } else {
            rows.append(["leakage", "n/a", "no exchange log"])
        }
        if let exchanges = o.exchanges { rows.append(["exchanges", "\(exchanges)", ""]) }
        rows.append(["campaigns", "\(o.campaigns)",
                     "\(o.campaignsDetected) detected (half their accounts flagged), \(o.reportedCampaigns) reported"])
        out += layout(rows, rightAligned: [1], indent: "  ")

        out += "\nCampaigns\n"
        if campaigns.isEmpty {
            out += "  (none in the labels)\n"
        } else {
            var table: [[String]] = [["campaign", "accounts", "flagged", "recall", "exchanges", "leakage",
                                      "complete", "purity", "matched", "ttd (h)", "first exchange"]]
            for c in campaigns {
                table.append([
                    c.campaign, "\(c.accounts)", "\(c.flagged)", fmt(c.recall, 4),
                    c.exchanges.map { "\($0)" } ?? "n/a", fmt(c.leakage, 4),
                    fmt(c.completeness, 4), fmt(c.purity, 4),
                    c.matchedCampaign.map { "\($0) (\(c.matchedAccounts)/\(c.matchedCampaignSize ?? 0))" } ?? "-",
                    c.timeToDetectHours.map { fmt($0, 2) } ?? (c.halfFlaggedAt == nil ? "never" : "n/a"),
                    c.firstExchange ?? "-",
                ])
            }
            out += layout(table, rightAligned: [1, 2, 3, 4, 5, 6, 7, 9], indent: "  ")
        }

        out += "\nFalse positives (\(falsePositives.count))\n"
        if falsePositives.isEmpty {
            out += "  (none)\n"
        } else {
            var table: [[String]] = [["account", "verdict", "score", "campaign", "flagged at", "exchanges", "reasons"]]
            for fp in falsePositives.prefix(maxFalsePositives) {
                table.append([fp.accountID, fp.verdict, fmt(fp.score, 3), fp.campaign ?? "-", fp.flaggedAt,
                              fp.exchanges.map { "\($0)" } ?? "n/a", fp.reasons.joined(separator: "; ")])
            }
            out += layout(table, rightAligned: [2, 5], indent: "  ")
            if falsePositives.count > maxFalsePositives {
                out += "  ... \(falsePositives.count - maxFalsePositives) more (all are in --json)\n"
            }
        }
        return out
    }
}

extension Array where Element == AcceptanceBars.Result {
    /// `PASS  account recall >= 0.99  0.9950`, one line per bar.
    public var text: String {
        let rows = map { [$0.passed ? "PASS" : "FAIL", $0.bar, $0.detail] }
        return layout(rows, rightAligned: [], indent: "")
    }
}

/// Pads columns to a common width; the last column is never padded.
func layout(_ rows: [[String]], rightAligned: Set<Int>, indent: String) -> String {
    let columns = rows.map(\.count).max() ?? 0
    var widths = [Int](repeating: 0, count: columns)
    for row in rows {
        for (i, cell) in row.enumerated() { widths[i] = Swift.max(widths[i], cell.count) }
    }
    var out = ""
    for row in rows {
        var line = indent
        for (i, cell) in row.enumerated() {
            if i > 0 { line += "  " }
            let pad = String(repeating: " ", count: widths[i] - cell.count)
            if rightAligned.contains(i) {
                line += pad + cell
            } else if i == row.count - 1 {
                line += cell
            } else {
                line += cell + pad
            }
        }
        while line.hasSuffix(" ") { line.removeLast() }
        out += line + "\n"
    }
    return out
}

/// Fixed decimals; "n/a" for nil.
func fmt(_ value: Double?, _ digits: Int) -> String {
    guard let value else { return "n/a" }
    return String(format: "%.\(digits)f", value)
}

/// Shortest form of a threshold: `0.99`, `0.0005`, `24`.
func fmt(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return "\(Int(value))" }
    return "\(value)"
}
