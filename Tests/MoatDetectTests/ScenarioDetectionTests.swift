import Foundation
import MoatCore
import MoatDetect
import MoatEvaluate
import MoatSimulate
import Testing

@Suite("Detection on a simulated world")
struct ScenarioDetectionTests {
    let fixture = ScenarioFixture.shared

    @Test func findsTheCampaignsWithoutFlaggingCustomers() throws {
        let e = try fixture.evaluation(of: fixture.report)
        #expect((e.overall.accountRecall ?? 0) >= 0.95)
        #expect(e.overall.flaggedBenignAccounts <= 1, "false positives: \(e.falsePositives.map(\.accountID))")
        // Two simulated days leave the scheduled and low-and-slow campaigns little time: the bars of the
        // standard scenario (scripts/acceptance.sh) are stricter.
        #expect((e.overall.leakage ?? 1) <= 0.2)
        #expect(e.campaigns.count == 7)
        for c in e.campaigns {
            #expect(c.completeness >= 0.7, "\(c.campaign) completeness \(c.completeness)")
            #expect(c.purity >= 0.9, "\(c.campaign) purity \(c.purity)")
            #expect(c.timeToDetectHours != nil, "\(c.campaign) never detected")
        }
    }

    /// The campaign that came back after a takedown is reported as its own campaign, tied to the first by
    /// campaign memory: same operator, the first in `related_campaigns`, and a sentence saying why.
    @Test func returningCampaignIsTiedToTheFirstByMemory() throws {
        let byAccount = Dictionary(fixture.report.campaigns.flatMap { c in c.accounts.map { ($0, c) } }, uniquingKeysWith: { a, _ in a })
        let firstIDs = fixture.labels.filter { $0.campaign == "phoenix" }.map(\.accountID)
        let returnIDs = fixture.labels.filter { $0.campaign == "phoenix-return" }.map(\.accountID)
        let first = try #require(firstIDs.compactMap { byAccount[$0] }.first)
        let second = try #require(returnIDs.compactMap { byAccount[$0] }.first)
        #expect(first.id != second.id)
        #expect(second.operatorID == first.operatorID)
        #expect(second.relatedCampaigns == [first.id])
        #expect(second.evidence.contains { $0.contains("campaign memory") && $0.contains(first.id) })
    }

    @Test func campaignsCarryEvidenceIndicatorsAndCapabilityShares() throws {
        #expect(!fixture.report.campaigns.isEmpty)
        for c in fixture.report.campaigns {
            #expect(c.accounts.count >= 3)
            #expect(!c.evidence.isEmpty)
            let sum = c.capabilities.values.reduce(0, +)
            #expect(abs(sum - 1) < 0.01, "capability shares of \(c.id) sum to \(sum)")
            #expect(c.detectedAt >= c.firstSeen)
            let i = c.indicators
            #expect(!(i.ipPrefixes.isEmpty && i.paymentFingerprints.isEmpty && i.emailDomains.isEmpty))
        }
        let hydra = Set(fixture.labels.filter { $0.campaign == "hydra" }.map(\.accountID))
        let hydraCampaign = try #require(fixture.report.campaigns.max { a, b in
            Set(a.accounts).intersection(hydra).count < Set(b.accounts).intersection(hydra).count
        })
        #expect((hydraCampaign.capabilities["agentic"] ?? 0) > 0.9)
        #expect(!hydraCampaign.indicators.paymentFingerprints.isEmpty)
    }

    @Test func everyFlaggedAccountHasReasonsAndAFlagTime() throws {
        #expect(fixture.report.summary.flaggedAccounts == fixture.report.accounts.count)
        for a in fixture.report.accounts {
            #expect(!a.reasons.isEmpty)
            #expect(Timestamp(rfc3339: a.flaggedAt) != nil)
            #expect(a.verdict == "campaign" || a.verdict == "suspicious")
        }
    }

    /// Cutting the log at T and replaying must flag every account the full run flagged at or before T.
    @Test func verdictsUseOnlyThePast() throws {
        let lines = try fixture.lines()
        let reader = try ExchangeReader(path: fixture.exchangesPath, fields: .withoutText)
        var times: [Int64] = []
        while let e = try reader.next() { times.append(e.ts.milliseconds) }
        let sorted = times.sorted()
        for fraction in [0.3, 0.6] {
            let cut = sorted[Int(Double(sorted.count) * fraction)]
            let kept = zip(lines, times).filter { $0.1 <= cut }.map(\.0)
            let path = fixture.directory + "/cut-\(fraction).jsonl"
            try (kept.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            let cutReport = try Replay.run(try ExchangeReader(path: path), accounts: fixture.accounts)
            let cutFlags = Dictionary(uniqueKeysWithValues: cutReport.accounts.map { ($0.accountID, $0.flaggedAt) })
            let due = fixture.report.accounts.filter { Timestamp(rfc3339: $0.flaggedAt)!.milliseconds <= cut }
            #expect(!due.isEmpty)
            for a in due {
                #expect(cutFlags[a.accountID] == a.flaggedAt, "\(a.accountID) flagged at \(a.flaggedAt) in the full run")
            }
        }
    }

    @Test func incrementalVerdictsMatchTheReport() throws {
        var engine = DetectionEngine(accounts: fixture.accounts)
        let reader = try ExchangeReader(path: fixture.exchangesPath)
        var first: [String: VerdictChange] = [:]
        while let e = try reader.next() {
            for change in engine.ingest(e) where first[change.accountID] == nil { first[change.accountID] = change }
        }
        for change in engine.flush() where first[change.accountID] == nil { first[change.accountID] = change }
        let report = engine.report()
        #expect(report == fixture.report)
        #expect(Set(first.keys) == Set(report.accounts.map(\.accountID)))
        for a in report.accounts { #expect(first[a.accountID]?.at.rfc3339 == a.flaggedAt) }
    }

    @Test func replayIsDeterministicAndToleratesReordering() throws {
        var lines = try fixture.lines()
        // Swap neighbouring lines: a merged log from several replicas, a few seconds out of order.
        var i = 0
        while i + 1 < lines.count { lines.swapAt(i, i + 1); i += 7 }
        let path = fixture.directory + "/shuffled.jsonl"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let shuffled = try Replay.run(try ExchangeReader(path: path), accounts: fixture.accounts)
        #expect(Set(shuffled.accounts.map(\.accountID)) == Set(fixture.report.accounts.map(\.accountID)))
        #expect(shuffled.campaigns.map(\.accounts) == fixture.report.campaigns.map(\.accounts))
    }

    @Test func benignLookAlikesAloneRaiseNoCampaign() throws {
        let benign = try ScenarioFixture.make(seed: 5) { p in p.keepCampaigns([]) }
        #expect(benign.labels.isEmpty)
        #expect(benign.report.campaigns.isEmpty)
        #expect(benign.report.accounts.isEmpty, "flagged: \(benign.report.accounts.map(\.accountID))")
    }
}
