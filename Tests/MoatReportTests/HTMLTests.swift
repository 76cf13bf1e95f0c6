import MoatCore
import Testing
@testable import MoatReport

@Suite("The HTML campaign report")
struct HTMLTests {
    static let hostile = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>&amp;"

    @Test func hostileStringsFromTheLogAndReportNeverBecomeMarkup() throws {
        var (report, accounts, exchanges) = Fixture.scenario(gateway: true)
        let evil = Self.hostile
        // Every place where text from the inputs reaches the page.
        exchanges = exchanges.map { e in
            var e = e
            if e.accountID == "atk-1" {
                e.accountID = evil
                e.model = evil
                e.client.userAgent = evil
                e.client.asnOrg = evil
                e.client.country = evil
                e.client.ip = evil
                e.countermeasure = e.countermeasure.map { _ in evil }
            }
            return e
        }
        report.campaigns[0].id = evil
        report.campaigns[0].accounts[0] = evil
        report.campaigns[0].evidence = [evil]
        report.campaigns[0].operatorID = evil
        report.campaigns[0].relatedCampaigns = [evil]
        report.campaigns[0].capabilities[evil] = 0.01
        report.campaigns[0].indicators.promptTemplates = [evil]
        report.campaigns[0].indicators.requestShapes = [evil]
        report.campaigns[0].indicators.userAgents = [evil]
        report.accounts[0].accountID = evil
        report.accounts[0].reasons = [evil]
        report.accounts = report.accounts.map { var v = $0; if v.campaign == "C-0001" { v.campaign = evil }; return v }
        accounts[0].accountID = evil
        accounts[0].program = evil
        accounts[0].paymentFingerprint = evil
        accounts[0].emailDomain = evil

        let html = try Fixture.html(report, accounts, exchanges)
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("onerror=alert(1)>"))
        #expect(html.occurrences(of: "<script") == 1, "only the report's own script")
        #expect(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;amp;"))
        // The hostile account is really in the page (escaped), so the test looks where it should.
        #expect(html.occurrences(of: "&lt;script&gt;alert") >= 10)
    }

    @Test func controlCharactersAreReplaced() {
        var bytes: [UInt8] = []
        HTML.escape("a\u{0}b\u{1B}c\td", into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "a&#xFFFD;b&#xFFFD;c\td")
    }

    @Test func interpolatedTextIsEscapedButLiteralsAreMarkup() {
        let name = "<b>"
        let html: HTML = "<td title=\"\(name)\">\(name) \(42) \(1.25, decimals: 1)</td>"
        #expect(String(decoding: html.bytes, as: UTF8.self) == "<td title=\"&lt;b&gt;\">&lt;b&gt; 42 1.3</td>")
    }

    @Test func everyChartIsDrawnWithMarks() throws {
        let (report, accounts, exchanges) = Fixture.scenario(gateway: true)
        let html = try Fixture.html(report, accounts, exchanges)
        for kind in ["overview", "timeline", "signups", "models", "capabilities", "enforcement"] {
            #expect(html.contains("data-chart=\"\(kind)\""), "chart \(kind) missing")
        }
        // Every figure declares how many marks it drew, and none is empty.
        let declared = html.split(separator: "data-marks=\"").dropFirst().map { Int($0.prefix { $0.isNumber }) ?? -1 }
        #expect(declared.count == 6)
        #expect(declared.allSatisfy { $0 > 0 })
        #expect(html.occurrences(of: "class=\"mark\"") + html.occurrences(of: "class=\"mark ") == declared.reduce(0, +))
        #expect(html.occurrences(of: "<svg") == 6)
        #expect(html.occurrences(of: "<title id=") == 6, "every chart has a title for assistive technology")
        #expect(html.occurrences(of: "<desc id=") == 6)
    }

    @Test func theSummaryGivesWhatLeakedAndWhenEachCampaignWasDetected() throws {
        let (report, accounts, exchanges) = Fixture.scenario()
        let html = try Fixture.html(report, accounts, exchanges)
        #expect(html.contains("1 distillation campaign, 2026-04-20 to 2026-04-21"))
        #expect(html.contains("served 32 exchanges (22% of their traffic)"))
        #expect(html.contains("2026-04-20 10:00 UTC"))
        #expect(html.contains("<td class=\"n\">10 h</td>"), "time to detect")
        #expect(html.contains("3 accounts share one card."), "evidence sentences")
        #expect(html.contains("m-new first appears in the log at 2026-04-21 00:00 UTC"), "release inferred from the log")
        #expect(html.contains("100% of this campaign&#39;s exchanges used it"))
        #expect(html.contains("Suspicious accounts outside campaigns"))
        #expect(!html.contains("What the gateway did"), "no countermeasure section without gateway fields")
        #expect(!html.contains("data-chart=\"enforcement\""))
    }

    @Test func paymentClustersCountAccountsOutsideTheCampaign() throws {
        let (report, accounts, exchanges) = Fixture.scenario()
        let html = try Fixture.html(report, accounts, exchanges)
        // pm_shared: 3 campaign accounts and 1 other account.
        #expect(html.contains("<td class=\"v\">pm_shared</td><td class=\"n\">3</td><td class=\"n\">1</td>"))
    }

    @Test func theAccountsTableIsSortableAndLimited() throws {
        let (report, accounts, exchanges) = Fixture.scenario()
        var options = ReportOptions()
        options.maxAccountRows = 2
        let html = try Fixture.html(report, accounts, exchanges, options: options)
        #expect(html.contains("class=\"accounts sortable\""))
        #expect(html.contains("<th scope=\"col\" class=\"n\" data-type=\"number\"><button type=\"button\">Before flag</button></th>"))
        #expect(html.contains("The 2 with the most are listed"))
        // Most leaked first: atk-3 (12) before atk-1 and atk-2 (10 each).
        let first = html.split(separator: "<th scope=\"row\" class=\"v\">").dropFirst().map { String($0.prefix { $0 != "<" }) }
        #expect(Array(first.prefix(2)) == ["atk-3", "atk-1"])
    }

    @Test func contentSecurityPolicyAllowsExactlyTheReportsOwnStyleAndScript() throws {
        let (report, accounts, exchanges) = Fixture.scenario()
        let html = try Fixture.html(report, accounts, exchanges)
        func between(_ a: String, _ b: String) -> String {
            guard let start = html.firstRange(of: a), let end = html[start.upperBound...].firstRange(of: b) else { return "" }
            return String(html[start.upperBound..<end.lowerBound])
        }
        let style = between("<style>", "</style>")
        let script = between("<script>", "</script>")
        #expect(!style.isEmpty && !script.isEmpty)
        let csp = between("http-equiv=\"Content-Security-Policy\" content=\"", "\"").split(separator: "&#39;", omittingEmptySubsequences: false).joined(separator: "'")
        #expect(csp.contains("default-src 'none'"))
        #expect(csp.contains("style-src 'sha256-\(SHA256.base64(SHA256.hash(Array(style.utf8))))'"))
        #expect(csp.contains("script-src 'sha256-\(SHA256.base64(SHA256.hash(Array(script.utf8))))'"))
        #expect(!html.contains("http://") && !html.contains("https://"), "nothing refers to the network")
        #expect(!html.contains(" style=\""), "inline style attributes would be blocked by the policy")
    }

    @Test func sha256MatchesTheStandardVectors() {
        #expect(SHA256.base64(SHA256.hash(Array("abc".utf8))) == "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=")
        #expect(SHA256.base64(SHA256.hash([])) == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        let hex: String = SHA256.hash(long).map { (b: UInt8) -> String in
            let h = String(b, radix: 16)
            return h.count == 1 ? "0" + h : h
        }.joined()
        #expect(hex == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func aReportWithoutCampaignsStillRenders() throws {
        let report = Report(summary: Report.Summary(exchanges: 1, accounts: 1), campaigns: [], accounts: [])
        let html = try Fixture.html(report, [], [Fixture.exchange("u", at: Fixture.t0)])
        #expect(html.contains("No distillation campaign found"))
        #expect(html.contains("found no campaign"))
        #expect(html.hasSuffix("</html>\n"))
    }

    @Test func anEmptyLogIsSaidPlainly() throws {
        let (report, accounts, _) = Fixture.scenario()
        let html = try Fixture.html(report, accounts, [])
        #expect(html.contains("The exchange log given holds no exchange"))
        #expect(!html.contains("data-chart=\"timeline\""))
    }

    @Test func newContractFieldsAreShownWhenPresent() throws {
        var (report, accounts, exchanges) = Fixture.scenario()
        report.campaigns[0].operatorID = "OP-0007"
        report.campaigns[0].relatedCampaigns = ["C-0000"]
        report.campaigns[0].indicators.systemPromptFamilies = ["sf-1a2b"]
        report.campaigns[0].indicators.promptFamilies = ["pf-3c4d"]
        report.campaigns[0].indicators.requestShapes = ["max_tokens=8192 temperature=0 tools=0 thinking=1 stream=1"]
        let html = try Fixture.html(report, accounts, exchanges)
        for text in ["OP-0007", "C-0000", "sf-1a2b", "pf-3c4d", "max_tokens=8192 temperature=0"] {
            #expect(html.contains(text), "\(text) missing")
        }
    }

    @Test func longValuesAreCut() throws {
        var (report, accounts, exchanges) = Fixture.scenario()
        let long = String(repeating: "A", count: 10_000)
        exchanges = exchanges.map { var e = $0; e.client.userAgent = long; return e }
        report.campaigns[0].evidence = [long]
        let html = try Fixture.html(report, accounts, exchanges)
        #expect(!html.contains(String(repeating: "A", count: 1_001)))
        #expect(html.contains(String(repeating: "A", count: 119) + "…"))
    }

    @Test("numbers are written for people", arguments: [(0, "0"), (999, "999"), (1_000, "1,000"), (1_234_567, "1,234,567"), (-12_345, "-12,345")])
    func counts(n: Int, text: String) {
        #expect(Format.count(n) == text)
    }

    @Test func sharesAndDurations() {
        #expect(Format.percent(1, of: 3) == "33%")
        #expect(Format.percent(0.034) == "3.4%")
        #expect(Format.percent(0.0004) == "0.04%")
        #expect(Format.percent(0.00001) == "< 0.01%")
        #expect(Format.percent(1, of: 0) == "–")
        #expect(Format.duration(45 * 60_000) == "45 min")
        #expect(Format.duration(12 * Timestamp.hour + 12 * 60_000) == "12.2 h")
        #expect(Format.duration(84 * Timestamp.hour) == "3.5 days")
        #expect(HTML.number(-0.25, decimals: 2) == "-0.25")
        #expect(HTML.number(3.0, decimals: 1) == "3")
    }

    @Test func timeAxesWidenTheirBucketsForLongWindows() {
        let day = Timestamp.day
        #expect(TimeAxis.fitting(firstMs: 0, lastMs: 2 * day, maxBuckets: 400).bucketMs == Timestamp.hour)
        let long = TimeAxis.fitting(firstMs: 0, lastMs: 44 * day, maxBuckets: 400)
        #expect(long.bucketMs == 3 * Timestamp.hour)
        #expect(long.count <= 400)
        #expect(long.bucket(44 * day) == long.count - 1)
        #expect(NiceScale.ticks(max: 87).max == 100)
        #expect(NiceScale.ticks(max: 3, integer: true) == (3, 1))
    }
}
