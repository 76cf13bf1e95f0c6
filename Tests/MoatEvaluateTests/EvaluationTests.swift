import Foundation
import MoatCore
import Testing

@testable import MoatEvaluate

// Hand-made cases. Times are hours after T0 = 2026-04-22T00:00:00Z.

private let t0 = Timestamp(rfc3339: "2026-04-22T00:00:00Z")!

private func at(_ hours: Double) -> Timestamp { t0.adding(seconds: hours * 3600) }

private func verdict(_ account: String, _ hours: Double, campaign: String? = nil, verdict: String? = nil,
                     score: Double = 0.9, reasons: [String] = ["why"]) -> Report.AccountVerdict {
    Report.AccountVerdict(accountID: account, verdict: verdict ?? (campaign == nil ? "suspicious" : "campaign"),
                          score: score, campaign: campaign, flaggedAt: at(hours).rfc3339, reasons: reasons)
}

private func reported(_ id: String, _ accounts: [String]) -> Report.Campaign {
    Report.Campaign(id: id, accounts: accounts, exchanges: 0, firstSeen: t0.rfc3339, lastSeen: t0.rfc3339,
                    detectedAt: t0.rfc3339, confidence: 1, capabilities: [:])
}

private func report(campaigns: [Report.Campaign] = [], accounts: [Report.AccountVerdict] = [],
                    summaryAccounts: Int = 0) -> Report {
    Report(summary: Report.Summary(accounts: summaryAccounts, campaigns: campaigns.count,
                                   flaggedAccounts: accounts.count),
           campaigns: campaigns, accounts: accounts)
}

private func labels(_ pairs: [(String, String)]) -> [CampaignLabel] {
    pairs.map { CampaignLabel(accountID: $0.0, campaign: $0.1) }
}

/// (account, hours) pairs as the exchange sequence the evaluator reads.
private func log(_ pairs: [(String, Double)]) -> [(account: String, ts: Timestamp)] {
    pairs.map { (account: $0.0, ts: at($0.1)) }
}

// MARK: - Normal case

/// camp-a: a1 a2 a3 a4; camp-b: b1 b2; benign u1..u6 (u3 listed as `clear`).
/// Reported: R1 = {a1, a2, a3, u1}, R2 = {b1}; u2 suspicious. a4, b2 never flagged.
private let normalLabels = labels([("a1", "camp-a"), ("a2", "camp-a"), ("a3", "camp-a"), ("a4", "camp-a"),
                                   ("b1", "camp-b"), ("b2", "camp-b")])
private let normalReport = report(
    campaigns: [reported("R1", ["a1", "a2", "a3", "u1"]), reported("R2", ["b1"])],
    accounts: [
        verdict("a1", 10, campaign: "R1"), verdict("a2", 12, campaign: "R1"), verdict("a3", 20, campaign: "R1"),
        verdict("u1", 5, campaign: "R1", reasons: ["shares a TLS fingerprint", "template prompts"]),
        verdict("b1", 30, campaign: "R2"),
        verdict("u2", 8, score: 0.7, reasons: ["extraction-like prompts"]),
        verdict("u3", 1, verdict: "clear"),
    ])
private let normalLog = log([
    ("a1", 0), ("a1", 5), ("a1", 10), ("a1", 11),  // 4 exchanges, 2 before 10 h (10 h itself is not leaked)
    ("a2", 13), ("a2", 1),  // out of order; 1 before 12 h
    ("a3", 2), ("a3", 3),  // both before 20 h
    ("a4", 4),  // never flagged: leaked
    ("b1", 25), ("b1", 31),  // 1 before 30 h
    ("b2", 26),  // never flagged
    ("u1", 1), ("u2", 2), ("u3", 3), ("u4", 4), ("u5", 5), ("u6", 6), ("u6", 7),
])

@Test func normalCaseOverall() throws {
    let e = try Evaluation.evaluate(labels: normalLabels, report: normalReport, exchanges: normalLog)
    let o = e.overall
    #expect(o.campaignAccounts == 6)
    #expect(o.benignAccounts == 6)
    #expect(o.accounts == 12)
    #expect(o.flaggedAccounts == 6)
    #expect(o.flaggedCampaignAccounts == 4)
    #expect(o.flaggedBenignAccounts == 2)
    #expect(o.accountRecall == 4.0 / 6.0)
    #expect(o.benignFalsePositiveRate == 2.0 / 6.0)
    #expect(o.accountPrecision == 4.0 / 6.0)
    #expect(o.campaignExchanges == 12)
    #expect(o.leakedExchanges == 8)
    #expect(o.leakage == 8.0 / 12.0)
    #expect(o.exchanges == 19)
    #expect(o.campaigns == 2)
    #expect(o.campaignsDetected == 2)
    #expect(o.reportedCampaigns == 2)
}

@Test func normalCasePerCampaign() throws {
    let e = try Evaluation.evaluate(labels: normalLabels, report: normalReport, exchanges: normalLog)
    #expect(e.campaigns.map(\.campaign) == ["camp-a", "camp-b"])
    let a = e.campaigns[0]
    #expect(a.accounts == 4)
    #expect(a.exchanges == 9)
    #expect(a.leakedExchanges == 6)
    #expect(a.leakage == 6.0 / 9.0)
    #expect(a.flagged == 3)
    #expect(a.recall == 0.75)
    #expect(a.matchedCampaign == "R1")
    #expect(a.matchedAccounts == 3)
    #expect(a.matchedCampaignSize == 4)
    #expect(a.completeness == 0.75)
    #expect(a.purity == 0.75)
    #expect(a.firstExchange == at(0).rfc3339)
    // ceil(4/2) = 2nd smallest flagged_at of {10, 12, 20} = 12 h after the first exchange at 0 h.
    #expect(a.halfFlaggedAt == at(12).rfc3339)
    #expect(a.timeToDetectHours == 12)

    let b = e.campaigns[1]
    #expect(b.accounts == 2)
    #expect(b.exchanges == 3)
    #expect(b.leakedExchanges == 2)
    #expect(b.leakage == 2.0 / 3.0)
    #expect(b.recall == 0.5)
    #expect(b.matchedCampaign == "R2")
    #expect(b.completeness == 0.5)
    #expect(b.purity == 1)
    #expect(b.firstExchange == at(25).rfc3339)
    // ceil(2/2) = 1st flagged_at = 30 h; first exchange 25 h.
    #expect(b.timeToDetectHours == 5)
}

@Test func normalCaseFalsePositives() throws {
    let e = try Evaluation.evaluate(labels: normalLabels, report: normalReport, exchanges: normalLog)
    #expect(e.falsePositives.map(\.accountID) == ["u1", "u2"])
    let u1 = e.falsePositives[0]
    #expect(u1.verdict == "campaign")
    #expect(u1.campaign == "R1")
    #expect(u1.reasons == ["shares a TLS fingerprint", "template prompts"])
    #expect(u1.exchanges == 1)
    #expect(u1.flaggedAt == at(5).rfc3339)
    let u2 = e.falsePositives[1]
    #expect(u2.verdict == "suspicious")
    #expect(u2.campaign == nil)
    #expect(u2.score == 0.7)

    let table = e.table()
    #expect(table.contains("extraction-like prompts"))
    #expect(table.contains("camp-a"))
}

@Test func streamingBuilderMatchesSequenceEvaluation() throws {
    var builder = try EvaluationBuilder(labels: normalLabels, report: normalReport)
    for e in normalLog.reversed() { builder.add(account: e.account, ts: e.ts) }
    let streamed = builder.finish()
    let direct = try Evaluation.evaluate(labels: normalLabels, report: normalReport, exchanges: normalLog)
    #expect(streamed == direct)
}

// MARK: - Edge cases

@Test func nothingFlagged() throws {
    let e = try Evaluation.evaluate(labels: normalLabels, report: report(), exchanges: normalLog)
    let o = e.overall
    #expect(o.flaggedAccounts == 0)
    #expect(o.accountRecall == 0)
    #expect(o.benignFalsePositiveRate == 0)
    #expect(o.accountPrecision == nil)
    #expect(o.leakage == 1)
    #expect(o.campaignsDetected == 0)
    #expect(o.reportedCampaigns == 0)
    for c in e.campaigns {
        #expect(c.completeness == 0)
        #expect(c.purity == 0)
        #expect(c.matchedCampaign == nil)
        #expect(c.timeToDetectHours == nil)
        #expect(c.halfFlaggedAt == nil)
        #expect(c.leakage == 1)
    }
    #expect(e.falsePositives.isEmpty)
    let table = e.table()
    #expect(table.contains("n/a"))
    #expect(table.contains("never"))

    let json = String(decoding: try JSONEncoder().encode(e), as: UTF8.self)
    #expect(json.contains("\"account_precision\":null"))
    #expect(json.contains("\"matched_campaign\":null"))
    #expect(json.contains("\"time_to_detect_hours\":null"))
}

@Test func everythingFlaggedAtFirstExchange() throws {
    let all = ["a1", "a2", "a3", "a4", "b1", "b2", "u1", "u2", "u3", "u4", "u5", "u6"]
    // Flag each account at its first exchange: nothing is served before flagged_at.
    var first: [String: Double] = [:]
    for (account, hours) in normalLog.map({ ($0.account, ($0.ts.seconds - t0.seconds) / 3600) }) {
        first[account] = min(first[account] ?? .infinity, hours)
    }
    let r = report(campaigns: [reported("R", all)],
                   accounts: all.map { verdict($0, first[$0]!, campaign: "R") })
    let e = try Evaluation.evaluate(labels: normalLabels, report: r, exchanges: normalLog)
    let o = e.overall
    #expect(o.flaggedAccounts == 12)
    #expect(o.accountRecall == 1)
    #expect(o.benignFalsePositiveRate == 1)
    #expect(o.accountPrecision == 0.5)
    #expect(o.leakage == 0)
    #expect(o.leakedExchanges == 0)
    #expect(e.campaigns[0].completeness == 1)
    #expect(e.campaigns[0].purity == 4.0 / 12.0)
    #expect(e.campaigns[1].purity == 2.0 / 12.0)
    // camp-a: first exchanges 0, 1, 2, 4 h; the 2nd smallest is 1 h.
    #expect(e.campaigns[0].timeToDetectHours == 1)
    // camp-b: b1 first at 25 h = the campaign's first exchange.
    #expect(e.campaigns[1].timeToDetectHours == 0)
    #expect(e.falsePositives.count == 6)
}

@Test func campaignNeverDetected() throws {
    let l = labels([("a1", "alpha"), ("a2", "alpha"), ("a3", "alpha"), ("z1", "zulu"), ("z2", "zulu")])
    let r = report(campaigns: [reported("R1", ["z1", "z2"])],
                   accounts: [verdict("a1", 3), verdict("z1", 2, campaign: "R1"), verdict("z2", 4, campaign: "R1")])
    let e = try Evaluation.evaluate(labels: l, report: r, exchanges: log([
        ("a1", 1), ("a1", 3), ("a2", 2), ("a3", 2), ("z1", 1), ("z1", 2), ("z2", 4), ("x", 0),
    ]))
    let alpha = e.campaigns[0]
    #expect(alpha.campaign == "alpha")
    #expect(alpha.flagged == 1)
    #expect(alpha.recall == 1.0 / 3.0)
    // 1 flagged < ceil(3/2) = 2: never detected.
    #expect(alpha.halfFlaggedAt == nil)
    #expect(alpha.timeToDetectHours == nil)
    // a1 is flagged as `suspicious` without a campaign: no reported campaign holds alpha's accounts.
    #expect(alpha.matchedCampaign == nil)
    #expect(alpha.completeness == 0)
    #expect(alpha.purity == 0)
    #expect(alpha.leakage == 3.0 / 4.0)
    let zulu = e.campaigns[1]
    #expect(zulu.timeToDetectHours == 1)
    #expect(zulu.completeness == 1)
    #expect(zulu.purity == 1)
    #expect(zulu.leakage == 1.0 / 3.0)
    #expect(e.overall.campaignsDetected == 1)
    #expect(e.overall.benignAccounts == 1)
    #expect(e.overall.accountPrecision == 1)

    let bars = AcceptanceBars.standard.check(e)
    #expect(bars.contains { !$0.passed && $0.bar.hasPrefix("time to detect") })
}

@Test func twoCampaignsMergedIntoOneReportedCampaign() throws {
    let l = labels([("a1", "A"), ("a2", "A"), ("b1", "B"), ("b2", "B")])
    let r = report(campaigns: [reported("R", ["a1", "a2", "b1", "b2"])],
                   accounts: ["a1", "a2", "b1", "b2"].map { verdict($0, 1, campaign: "R") })
    let e = try Evaluation.evaluate(labels: l, report: r, exchanges: log([
        ("a1", 0), ("a2", 0.5), ("b1", 0), ("b2", 2), ("u", 0),
    ]))
    for c in e.campaigns {
        #expect(c.matchedCampaign == "R")
        #expect(c.completeness == 1)
        #expect(c.purity == 0.5)
        #expect(c.recall == 1)
    }
    #expect(e.overall.accountRecall == 1)
    #expect(e.overall.benignFalsePositiveRate == 0)
    #expect(e.overall.accountPrecision == 1)
    // a1 0 h leaked, a2 0.5 h leaked, b1 0 h leaked, b2 2 h not: 3 of 4.
    #expect(e.overall.leakage == 0.75)
    let bars = AcceptanceBars.standard.check(e)
    #expect(bars.first { $0.bar.hasPrefix("purity") }?.passed == false)
    #expect(bars.first { $0.bar.hasPrefix("completeness") }?.passed == true)
}

@Test func splitCampaignMatchesLargestShare() throws {
    let l = labels([("a1", "A"), ("a2", "A"), ("a3", "A")])
    let r = report(campaigns: [reported("R2", ["a3"]), reported("R1", ["a1", "a2", "u"])],
                   accounts: [verdict("a1", 1, campaign: "R1"), verdict("a2", 1, campaign: "R1"),
                              verdict("a3", 1, campaign: "R2"), verdict("u", 1, campaign: "R1")])
    let e = try Evaluation.evaluate(labels: l, report: r, exchanges: log([("a1", 0), ("u", 0)]))
    #expect(e.campaigns[0].matchedCampaign == "R1")
    #expect(e.campaigns[0].completeness == 2.0 / 3.0)
    #expect(e.campaigns[0].purity == 2.0 / 3.0)
}

@Test func flaggedAtExactlyAnExchangeIsNotLeaked() throws {
    let l = labels([("a", "A")])
    let r = report(accounts: [verdict("a", 2)])
    let e = try Evaluation.evaluate(labels: l, report: r, exchanges: log([("a", 1), ("a", 2), ("a", 3)]))
    #expect(e.overall.campaignExchanges == 3)
    #expect(e.overall.leakedExchanges == 1)
    #expect(e.overall.leakage == 1.0 / 3.0)
    #expect(e.campaigns[0].timeToDetectHours == 1)
}

@Test func reportedAccountNeverInTheLog() throws {
    let l = labels([("a", "A"), ("ghost-a", "A")])
    let r = report(campaigns: [reported("R", ["a", "ghost-a", "ghost-u"])],
                   accounts: [verdict("a", 1, campaign: "R"), verdict("ghost-a", 1, campaign: "R"),
                              verdict("ghost-u", 1, campaign: "R")])
    let e = try Evaluation.evaluate(labels: l, report: r, exchanges: log([("a", 0), ("a", 1), ("u", 0)]))
    // Benign: u (in the log) and ghost-u (flagged, never in the log).
    #expect(e.overall.benignAccounts == 2)
    #expect(e.overall.benignFalsePositiveRate == 0.5)
    #expect(e.overall.accountRecall == 1)
    #expect(e.overall.leakage == 0.5)
    #expect(e.falsePositives.map(\.accountID) == ["ghost-u"])
    #expect(e.falsePositives[0].exchanges == 0)
    #expect(e.campaigns[0].purity == 2.0 / 3.0)
}

@Test func noCampaignsInTheLabels() throws {
    let r = report(accounts: [verdict("u1", 1)])
    let e = try Evaluation.evaluate(labels: [], report: r, exchanges: log([("u1", 0), ("u2", 0)]))
    #expect(e.campaigns.isEmpty)
    #expect(e.overall.campaignAccounts == 0)
    #expect(e.overall.accountRecall == nil)
    #expect(e.overall.accountPrecision == 0)
    #expect(e.overall.benignFalsePositiveRate == 0.5)
    #expect(e.overall.leakage == nil)
    #expect(e.overall.campaignExchanges == 0)
    #expect(e.table().contains("(none in the labels)"))
}

@Test func emptyEverything() throws {
    let e = try Evaluation.evaluate(labels: [], report: report(), exchanges: log([]))
    #expect(e.overall.accounts == 0)
    #expect(e.overall.accountRecall == nil)
    #expect(e.overall.benignFalsePositiveRate == nil)
    #expect(e.overall.accountPrecision == nil)
    #expect(e.overall.leakage == nil)
    #expect(AcceptanceBars.standard.check(e).allSatisfy { $0.passed })
    _ = e.table()
}

@Test func withoutExchangeLog() throws {
    let r = report(campaigns: [reported("R", ["a1"])], accounts: [verdict("a1", 1, campaign: "R"), verdict("u1", 1)],
                   summaryAccounts: 10)
    let e = try Evaluation.evaluate(labels: labels([("a1", "A"), ("a2", "A")]), report: r)
    #expect(e.overall.benignAccounts == 8)
    #expect(e.overall.benignFalsePositiveRate == 1.0 / 8.0)
    #expect(e.overall.leakage == nil)
    #expect(e.overall.exchanges == nil)
    #expect(e.campaigns[0].timeToDetectHours == nil)
    #expect(e.campaigns[0].halfFlaggedAt == at(1).rfc3339)
    #expect(e.campaigns[0].firstExchange == nil)
    let bars = AcceptanceBars.standard.check(e)
    #expect(bars.first { $0.bar.hasPrefix("leakage") }?.passed == false)
}

@Test func duplicateVerdictsKeepEarliestFlag() throws {
    let r = report(accounts: [verdict("a", 5), verdict("a", 2), verdict("a", 0, verdict: "clear")])
    let e = try Evaluation.evaluate(labels: labels([("a", "A"), ("a", "A")]), report: r,
                                    exchanges: log([("a", 1), ("a", 3)]))
    #expect(e.overall.campaignAccounts == 1)
    #expect(e.overall.flaggedAccounts == 1)
    #expect(e.overall.leakedExchanges == 1)
    #expect(e.campaigns[0].halfFlaggedAt == at(2).rfc3339)
}

// MARK: - Bars

@Test func perfectDetectionPassesAllBars() throws {
    let l = labels([("a1", "A"), ("a2", "A")])
    let r = report(campaigns: [reported("R", ["a1", "a2"])],
                   accounts: [verdict("a1", 0, campaign: "R"), verdict("a2", 0, campaign: "R")])
    let e = try Evaluation.evaluate(labels: l, report: r, exchanges: log([("a1", 0), ("a2", 0), ("u", 0)]))
    let bars = AcceptanceBars.standard.check(e)
    #expect(bars.count == 6)
    #expect(bars.allSatisfy { $0.passed })
    #expect(bars.text.contains("PASS"))
    #expect(!bars.text.contains("FAIL"))
}

@Test func barsThresholdsAreTheAgreedOnes() {
    let b = AcceptanceBars.standard
    #expect(b.minAccountRecall == 0.99)
    #expect(b.maxBenignFalsePositiveRate == 0.0001)
    #expect(b.maxLeakage == 0.05)
    #expect(b.minCompleteness == 0.95)
    #expect(b.minPurity == 0.95)
    #expect(b.maxTimeToDetectHours == 24)
}

// MARK: - Errors and JSON

@Test func badFlaggedAtNamesTheField() {
    var bad = verdict("a", 1)
    bad.flaggedAt = "yesterday"
    let r = report(accounts: [verdict("b", 1), bad])
    #expect(throws: ContractError.self) {
        _ = try EvaluationBuilder(labels: [], report: r, reportFile: "r.json")
    }
    do {
        _ = try EvaluationBuilder(labels: [], report: r, reportFile: "r.json")
    } catch {
        #expect(error.file == "r.json")
        #expect(error.field == "accounts[1].flagged_at")
    }
}

@Test func conflictingLabelsAreAnError() {
    #expect(throws: ContractError.self) {
        _ = try EvaluationBuilder(labels: labels([("a", "A"), ("a", "B")]), report: report())
    }
}

@Test func unsupportedReportVersion() {
    var r = report()
    r.version = 2
    #expect(throws: ContractError.self) { _ = try EvaluationBuilder(labels: [], report: r) }
}

@Test func jsonRoundTripsWithSnakeCaseKeys() throws {
    let e = try Evaluation.evaluate(labels: normalLabels, report: normalReport, exchanges: normalLog)
    let data = try JSONEncoder().encode(e)
    let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let overall = try #require(object["overall"] as? [String: Any])
    for key in ["accounts", "campaign_accounts", "benign_accounts", "flagged_accounts", "account_recall",
                "benign_false_positive_rate", "account_precision", "leakage", "campaign_exchanges",
                "leaked_exchanges"] {
        #expect(overall[key] != nil, "missing overall.\(key)")
    }
    let campaigns = try #require(object["campaigns"] as? [[String: Any]])
    for key in ["campaign", "accounts", "exchanges", "first_exchange", "flagged", "recall", "leakage",
                "completeness", "purity", "matched_campaign", "time_to_detect_hours"] {
        #expect(campaigns[0][key] != nil, "missing campaigns[0].\(key)")
    }
    let fps = try #require(object["false_positives"] as? [[String: Any]])
    #expect(fps.count == 2)
    #expect(fps[0]["account_id"] as? String == "u1")
    #expect(try JSONDecoder().decode(Evaluation.self, from: data) == e)
}

@Test func decodingErrorsNameTheField() throws {
    let json = Data(#"{"version":1,"summary":{"exchanges":0,"accounts":0,"invalid_lines":0,"campaigns":0,"flagged_accounts":0},"campaigns":[],"accounts":[{"account_id":"a","verdict":"campaign","score":1,"reasons":[]}]}"#.utf8)
    do {
        _ = try JSONDecoder().decode(Report.self, from: json)
        Issue.record("expected a decoding error")
    } catch let error as DecodingError {
        let c = EvaluationFiles.contractError(error, file: "r.json")
        #expect(c.field == "accounts[0].flagged_at")
        #expect(c.description.hasPrefix("r.json"))
    }
}

@Test func falsePositiveTableIsCapped() throws {
    let accounts = (0..<60).map { verdict(String(format: "u%02d", $0), 1) }
    let e = try Evaluation.evaluate(labels: [], report: report(accounts: accounts), exchanges: log([]))
    #expect(e.falsePositives.count == 60)
    let table = e.table(maxFalsePositives: 50)
    #expect(table.contains("... 10 more"))
    #expect(table.contains("u49"))
    #expect(!table.contains("u50"))
}

@Test func defaultExchangesPathIsBesideTheLabels() {
    #expect(EvaluationFiles.defaultExchangesPath(forLabels: "/tmp/run/labels.jsonl") == "/tmp/run/exchanges.jsonl")
    #expect(EvaluationFiles.defaultExchangesPath(forLabels: "labels.jsonl") == "exchanges.jsonl")
}

@Test func jsonOutputIsDeterministicWithNulls() throws {
    let e = try Evaluation.evaluate(labels: normalLabels, report: report(), exchanges: normalLog)
    let first = String(decoding: try EvaluationFiles.json(e), as: UTF8.self)
    let second = String(decoding: try EvaluationFiles.json(e), as: UTF8.self)
    #expect(first == second)
    #expect(first.contains(#""account_precision" : null"#))
    #expect(first.contains(#""matched_campaign" : null"#))
}
