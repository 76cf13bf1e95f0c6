import MoatCore
import Testing
@testable import MoatReport

@Suite("Streaming aggregation of the exchange log")
struct AggregationTests {
    @Test func leakageCountsOnlyExchangesBeforeEachAccountsFlag() throws {
        let (report, _, exchanges) = Fixture.scenario()
        let log = try Fixture.aggregate(report, exchanges)
        // atk-1 and atk-2 are flagged at hour 10: their exchanges at hours 0...9 leaked (10 each; atk-2's at +1 min
        // of hour 10 is after). atk-3 is flagged at hour 12: hours 0...11 → 12.
        #expect(log.accountStats["atk-1"]?.leakedExchanges == 10)
        #expect(log.accountStats["atk-2"]?.leakedExchanges == 10)
        #expect(log.accountStats["atk-3"]?.leakedExchanges == 12)
        #expect(log.accountStats["atk-1"]?.exchanges == 48)
        #expect(log.accountStats["atk-1"]?.leakedOutputTokens == 1_000)
        #expect(log.campaigns[0].leakedExchanges == 32)
        #expect(log.campaigns[0].exchanges == 144)
        #expect(log.campaigns[0].accountsSeen == 3)
        #expect(log.suspicious.exchanges == 1)
        #expect(log.unflagged.exchanges == 48)
        #expect(log.exchanges == 193)
        #expect(log.accounts == 9)
        #expect(log.accountStats["user-1"] == nil, "unflagged accounts are not kept one by one")
    }

    @Test func theExchangeAtExactlyFlaggedAtIsNotLeaked() throws {
        let at = Fixture.t0 + Fixture.hour
        let report = Report(summary: Report.Summary(), campaigns: [],
                            accounts: [Fixture.verdict("a", campaign: nil, flagged: at)])
        let log = try Fixture.aggregate(report, [Fixture.exchange("a", at: at - 1), Fixture.exchange("a", at: at), Fixture.exchange("a", at: at + 1)])
        #expect(log.accountStats["a"]?.leakedExchanges == 1)
    }

    @Test func hourlyCountsAndActiveAccountsSurviveAnOutOfOrderLog() throws {
        let (report, _, exchanges) = Fixture.scenario()
        let sorted = try Fixture.aggregate(report, exchanges)
        // Swap neighbours across hour boundaries, as a log merged from replicas would.
        var shuffled = exchanges
        for i in stride(from: 0, to: shuffled.count - 1, by: 2) { shuffled.swapAt(i, i + 1) }
        let merged = try Fixture.aggregate(report, shuffled.reversed())
        #expect(merged.campaigns[0].hourly == sorted.campaigns[0].hourly)
        #expect(merged.hourly == sorted.hourly)
        #expect(sorted.campaigns[0].activeAccounts.values.allSatisfy { $0 == 3 })
        #expect(sorted.campaigns[0].activeAccounts.count == 48)
        #expect(merged.models.first { $0.name == "m-new" }?.firstMs == sorted.models.first { $0.name == "m-new" }?.firstMs)
    }

    @Test func aModelsFirstAppearanceIsItsEarliestExchangeWhateverTheOrder() throws {
        let report = Report(summary: Report.Summary(), campaigns: [], accounts: [])
        let late = Fixture.exchange("x", at: Fixture.t0 + 50 * Fixture.hour, model: "new")
        let early = Fixture.exchange("y", at: Fixture.t0 + 30 * Fixture.hour, model: "new")
        let log = try Fixture.aggregate(report, [Fixture.exchange("z", at: Fixture.t0), late, early])
        #expect(log.models.map(\.name) == ["m-old", "new"])
        #expect(log.models[1].firstMs == Fixture.t0 + 30 * Fixture.hour)
        #expect(log.models[1].exchanges == 2)
    }

    @Test func modelsBeyondTheCapAreCountedAsOther() throws {
        var options = ReportOptions()
        options.maxModels = 2
        let report = Report(summary: Report.Summary(), campaigns: [], accounts: [])
        let log = try Fixture.aggregate(report, ["a", "b", "c", "d"].map { Fixture.exchange("x", at: Fixture.t0, model: $0) }, options: options)
        #expect(log.models.map(\.name) == ["a", "b"])
        #expect(log.otherModelExchanges == 2)
        #expect(log.modelHourly.values.first == [1, 1, 2])
    }

    @Test func gatewayStatusesAndCountermeasuresAreSortedIntoActions() throws {
        let (report, _, exchanges) = Fixture.scenario(gateway: true)
        let log = try Fixture.aggregate(report, exchanges)
        let e = log.campaigns[0].traffic.enforcement
        #expect(log.fromGateway)
        #expect(e.total == 144)
        // Refused from hour 11 on (37 hours × 3 accounts, less atk-1 at hour 11 +0 min which is exactly detected + 1 h: refused too).
        #expect(e.refused == 37 * 3)
        #expect(e.countermeasured == 3)
        #expect(e.served == 144 - 111 - 3)
        #expect(log.campaigns[0].traffic.statuses.counts["403"] == 111)
        #expect(log.campaigns[0].traffic.countermeasures.counts["withhold_reasoning"] == 3)
        #expect(log.accountStats["atk-1"]?.refused == 37)
        #expect(log.unflagged.enforcement.refused == 0)
    }

    @Test func campaignMembersMissingFromTheAccountsListAreFlaggedAtDetection() throws {
        let detected = Fixture.t0 + 2 * Fixture.hour
        let report = Report(summary: Report.Summary(), campaigns: [Fixture.campaign(accounts: ["a", "b"], detected: detected, first: Fixture.t0, last: detected)],
                            accounts: [Fixture.verdict("a", campaign: "C-0001", flagged: Fixture.t0)])
        let log = try Fixture.aggregate(report, (0..<4).map { Fixture.exchange("b", at: Fixture.t0 + Int64($0) * Fixture.hour) })
        #expect(log.accountStats["b"]?.leakedExchanges == 2)
        #expect(log.campaigns[0].exchanges == 4)
    }

    @Test func aReportTimeThatIsNotRFC3339IsAnErrorNamingTheField() throws {
        var report = Report(summary: Report.Summary(), campaigns: [], accounts: [Fixture.verdict("a", campaign: nil, flagged: Fixture.t0)])
        report.accounts[0].flaggedAt = "yesterday"
        #expect(throws: ContractError(file: "r.json", field: "accounts[0].flagged_at", message: "not an RFC 3339 time: yesterday")) {
            _ = try LogAggregator(report: report, reportFile: "r.json")
        }
    }

    @Test func infrastructureTalliesCountExchangesAndDistinctAccounts() throws {
        let (report, _, exchanges) = Fixture.scenario()
        let g = try Fixture.aggregate(report, exchanges).campaigns[0]
        let prefix = g.prefixes.row("203.0.113.0/24")
        #expect(prefix == ValueTally.Row(value: "203.0.113.0/24", exchanges: 144, accounts: 3))
        #expect(g.asns.row("64500")?.accounts == 3)
        #expect(g.asnNames["64500"] == "Example Hosting")
        #expect(g.clientStacks.row("bot/1.0 | t13d")?.exchanges == 144)
        #expect(g.countries.top(5).map(\.value) == ["NL"])
    }
}

@Suite("Bounded tallies")
struct TallyTests {
    @Test func valuesBeyondTheCapAreCountedAsOther() {
        var t = ValueTally(maxValues: 2, maxPairs: 100)
        for (v, a) in [("x", 1), ("y", 1), ("z", 2), ("x", 2), ("z", 3)] { t.add(v, account: Int32(a)) }
        #expect(t.rows.map(\.value) == ["x", "y"])
        #expect(t.otherExchanges == 2)
        #expect(t.valuesOverflowed)
        #expect(t.row("x")?.accounts == 2)
        #expect(t.exchanges == 5)
    }

    @Test func registeredIndicatorsAreItemisedEvenWhenTheTableIsFull() {
        var t = ValueTally(maxValues: 1, maxPairs: 100)
        t.register("indicator")
        t.add("noise", account: 1)
        t.add("indicator", account: 1)
        #expect(t.row("indicator")?.exchanges == 1)
        #expect(t.row("noise") == nil)
    }

    @Test func accountCountsBecomeLowerBoundsPastThePairCap() {
        var t = ValueTally(maxValues: 10, maxPairs: 2)
        for a in 0..<5 { t.add("v", account: Int32(a)) }
        #expect(t.row("v")?.accounts == 2)
        #expect(t.row("v")?.exchanges == 5)
        #expect(t.accountsAreLowerBounds)
    }

    @Test func topOrdersByAccountsThenExchanges() {
        var t = ValueTally(maxValues: 10, maxPairs: 100)
        for _ in 0..<5 { t.add("busy", account: 1) }
        t.add("wide", account: 1)
        t.add("wide", account: 2)
        t.add("missing", account: 3)
        t.add(nil, account: 3)
        #expect(t.top(2).map(\.value) == ["wide", "busy"])
        #expect(t.missing == 1)
    }

    @Test("network prefixes: /24 for IPv4, /48 for IPv6",
          arguments: [("203.0.113.77", "203.0.113.0/24"), ("2001:db8:abcd:12::1", "2001:db8:abcd::/48"),
                      ("2001:db8::1", "2001:db8:0::/48"), ("::1", "0:0:0::/48"), ("2001:0DB8:0000:0001::", "2001:db8:0::/48"),
                      ("fe80::1%eth0", "fe80:0:0::/48"), ("not-an-ip", "not-an-ip"), ("1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8:9"),
                      (":::", ":::")])
    func prefixes(ip: String, expected: String) {
        #expect(LogAggregator.prefix(ip) == expected)
    }
}
