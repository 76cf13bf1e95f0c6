import Foundation
import Testing

/// `moat report`: the HTML campaign report from the built binary, and its errors.
@Suite("moat report")
struct ReportCLITests {
    static let log = [
        #"{"id":"e1","ts":"2026-04-01T00:00:00.000Z","account_id":"atk-1","model":"m","input_tokens":1,"output_tokens":7,"client":{"ip":"203.0.113.5","asn":64500,"user_agent":"bot/1"}}"#,
        #"{"id":"e2","ts":"2026-04-01T02:00:00.000Z","account_id":"atk-2","model":"m","input_tokens":1,"output_tokens":7,"client":{"ip":"203.0.113.6","asn":64500,"user_agent":"bot/1"}}"#,
        #"{"id":"e3","ts":"2026-04-01T03:00:00.000Z","account_id":"atk-1","model":"m2","input_tokens":1,"output_tokens":7,"status":403}"#,
        #"{"id":"e4","ts":"2026-04-01T04:00:00.000Z","account_id":"u","model":"m","input_tokens":1,"output_tokens":7}"#,
    ]

    static func report(flaggedAt: String = "2026-04-01T01:00:00.000Z") -> String {
        """
        {"version":1,"summary":{"exchanges":4,"accounts":3,"invalid_lines":0,"first_ts":"2026-04-01T00:00:00.000Z","last_ts":"2026-04-01T04:00:00.000Z","campaigns":1,"flagged_accounts":2},
         "campaigns":[{"id":"C-0042","accounts":["atk-1","atk-2"],"exchanges":3,"first_seen":"2026-04-01T00:00:00.000Z","last_seen":"2026-04-01T03:00:00.000Z","detected_at":"2026-04-01T01:00:00.000Z","confidence":0.8,
           "capabilities":{"coding":0.5,"agentic":0.5,"reasoning":0,"planning":0,"other":0},"operator":"OP-0001","related_campaigns":["C-0007"],
           "indicators":{"ip_prefixes":["203.0.113.0/24"],"asns":[64500],"user_agents":["bot/1"],"tls_fingerprints":[],"payment_fingerprints":[],"email_domains":[],"system_prompt_hashes":[],"prompt_templates":[],"request_shapes":["max_tokens=8192 thinking=1"]},
           "evidence":["2 accounts share one /24."]}],
         "accounts":[{"account_id":"atk-1","verdict":"campaign","score":0.9,"campaign":"C-0042","flagged_at":"\(flaggedAt)","reasons":["shares a /24"]},
                     {"account_id":"atk-2","verdict":"campaign","score":0.9,"campaign":"C-0042","flagged_at":"2026-04-01T01:00:00.000Z","reasons":["shares a /24"]}]}
        """
    }

    func files(report: String = ReportCLITests.report(), log: [String] = ReportCLITests.log) throws -> URL {
        let dir = try MoatBinary.temporaryDirectory()
        try Data(report.utf8).write(to: dir.appendingPathComponent("report.json"))
        try Data(log.joined(separator: "\n").utf8).write(to: dir.appendingPathComponent("exchanges.jsonl"))
        try Data(#"{"account_id":"atk-1","created_at":"2026-03-30T10:00:00Z","program":"startup","payment_fingerprint":"pm_1"}"#.utf8)
            .write(to: dir.appendingPathComponent("accounts.jsonl"))
        return dir
    }

    func report(_ dir: URL, _ extra: [String] = []) throws -> MoatBinary.Output {
        try MoatBinary.run(["report", "--report", dir.appendingPathComponent("report.json").path,
                            "--exchanges", dir.appendingPathComponent("exchanges.jsonl").path,
                            "--accounts", dir.appendingPathComponent("accounts.jsonl").path,
                            "--out", dir.appendingPathComponent("campaign.html").path] + extra)
    }

    @Test func writesOneSelfContainedHTMLFile() throws {
        let dir = try files()
        let result = try report(dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("campaign report written to"))
        let html = try String(contentsOf: dir.appendingPathComponent("campaign.html"), encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("Campaign C-0042"))
        #expect(html.contains("OP-0001") && html.contains("C-0007") && html.contains("max_tokens=8192 thinking=1"))
        // atk-1's exchange at 00:00 is before its flag at 01:00; atk-2's at 02:00 is after.
        #expect(html.contains("served 1 exchanges (33% of their traffic)"))
        #expect(html.contains("What the gateway did"), "a 403 in the log shows the gateway's actions")
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http"))
    }

    @Test func readsTheLogFromStandardInput() throws {
        let dir = try files()
        let result = try MoatBinary.run(["report", "--report", dir.appendingPathComponent("report.json").path,
                                         "--exchanges", "-", "--out", dir.appendingPathComponent("stdin.html").path],
                                        stdin: dir.appendingPathComponent("exchanges.jsonl"))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("4 exchanges read"))
    }

    @Test func aReportTimeThatIsNotRFC3339NamesTheField() throws {
        let dir = try files(report: Self.report(flaggedAt: "soon"))
        let result = try report(dir)
        #expect(result.status != 0)
        #expect(result.stderr.contains("report.json: field `accounts[0].flagged_at`: not an RFC 3339 time"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("campaign.html").path))
    }

    @Test func aBadLogLineNamesFileLineAndField() throws {
        var log = Self.log
        log[2] = #"{"id":"e3","ts":"2026-04-01T03:00:00.000Z","account_id":"atk-1","model":"m","input_tokens":"one","output_tokens":7}"#
        let dir = try files(log: log)
        let result = try report(dir)
        #expect(result.status != 0)
        #expect(result.stderr.contains("exchanges.jsonl:3: field `input_tokens`"), "\(result.stderr)")
        let skipped = try report(dir, ["--skip-invalid"])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stderr.contains("skipped: "))
    }

    @Test func aMissingReportIsAClearError() throws {
        let dir = try files()
        try FileManager.default.removeItem(at: dir.appendingPathComponent("report.json"))
        let result = try report(dir)
        #expect(result.status != 0)
        #expect(result.stderr.contains("report.json: no such file"), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test func pdfWithoutChromiumIsAClearErrorAndKeepsTheHTML() throws {
        let dir = try files()
        let result = try report(dir, ["--pdf", dir.appendingPathComponent("campaign.pdf").path,
                                      "--chromium", "/nonexistent/chromium"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("Chromium not found: /nonexistent/chromium is not an executable file"), "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("campaign.html").path))
    }

    @Test func demoWritesItsReportAndSaysWhere() throws {
        let dir = try MoatBinary.temporaryDirectory()
        let result = try MoatBinary.run(["demo"], currentDirectory: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let html = dir.appendingPathComponent("moat-demo-report.html")
        #expect(FileManager.default.fileExists(atPath: html.path))
        #expect(result.stdout.contains("moat-demo-report.html"))
        #expect(result.stdout.contains("open it in a browser"))
    }
}
