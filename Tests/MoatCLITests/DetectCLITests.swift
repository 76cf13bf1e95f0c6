import Foundation
import Testing

/// `moat detect` on bad input: a clear one-line error naming file, line and field, or a counted skip;
/// never a crash.
@Suite("moat detect on real and broken logs")
struct DetectCLITests {
    static let good = #"{"id":"x1","ts":"2026-04-01T00:00:00.000Z","account_id":"a","model":"m","input_tokens":10,"output_tokens":5,"prompt":"hi"}"#
    static let good2 = #"{"id":"x2","ts":"2026-04-01T00:00:01.000Z","account_id":"b","model":"m","input_tokens":10,"output_tokens":5}"#

    func write(_ name: String, _ data: Data) throws -> URL {
        let dir = try MoatBinary.temporaryDirectory()
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    func detect(_ file: URL, _ extra: [String] = []) throws -> (MoatBinary.Output, [String: Any]?) {
        let out = file.deletingLastPathComponent().appendingPathComponent("report.json")
        try? FileManager.default.removeItem(at: out)
        let result = try MoatBinary.run(["detect", file.path, "--out", out.path, "--quiet"] + extra)
        let report = (try? Data(contentsOf: out)).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        return (result, report)
    }

    func summary(_ report: [String: Any]?) -> [String: Any] { report?["summary"] as? [String: Any] ?? [:] }

    @Test("bad lines stop the run with file, line and field",
          arguments: [
            (#"{"id":"x3","ts":"2026-04-01T00:00:0"#, "3", nil),
            (#"{"id":"x3","ts":"2026-04-01T00:00:02Z","account_id":"a","model":"m","input_tokens":"ten","output_tokens":5}"#, "3", "input_tokens"),
            (#"{"id":"x3","ts":"yesterday","account_id":"a","model":"m","input_tokens":1,"output_tokens":5}"#, "3", "ts"),
            (#"{"id":"x3","ts":"2026-04-01T00:00:02Z","model":"m","input_tokens":1,"output_tokens":5}"#, "3", "account_id"),
            (#"{"id":"x3","ts":"2026-04-01T00:00:02Z","account_id":"a","model":"m","input_tokens":1,"output_tokens":-5}"#, "3", "output_tokens"),
            (#"{"id":"x3","ts":"2026-04-01T00:00:02Z","account_id":"a","model":"m","input_tokens":1,"output_tokens":5,"client":{"ip":7}}"#, "3", "client.ip"),
          ] as [(String, String, String?)])
    func badLine(line: String, lineNumber: String, field: String?) throws {
        let file = try write("exchanges.jsonl", Data([Self.good, Self.good2, line].joined(separator: "\n").utf8))
        let (result, report) = try detect(file)
        #expect(result.status != 0)
        #expect(report == nil)
        #expect(result.stderr.contains("exchanges.jsonl:\(lineNumber)"), "\(result.stderr)")
        if let field { #expect(result.stderr.contains("`\(field)`"), "\(result.stderr)") }
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test func skipInvalidCountsAndGoesOn() throws {
        let lines = [Self.good, "not json", #"{"id":"x9","ts":"2026-13-01T00:00:00Z","account_id":"a","model":"m","input_tokens":1,"output_tokens":1}"#, Self.good2]
        let file = try write("exchanges.jsonl", Data(lines.joined(separator: "\n").utf8))
        let (result, report) = try detect(file, ["--skip-invalid"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(summary(report)["invalid_lines"] as? Int == 2)
        #expect(summary(report)["exchanges"] as? Int == 2)
        #expect(result.stderr.contains("exchanges.jsonl:2"))
    }

    @Test func bytesThatAreNotUTF8() throws {
        var data = Data(Self.good.utf8) + Data("\n".utf8)
        data += Data(#"{"id":"x3","ts":"2026-04-01T00:00:02Z","account_id":"a","model":"m","input_tokens":1,"output_tokens":1,"prompt":"caf"#.utf8)
        data += Data([0xE9, 0xFF]) + Data("\"}\n".utf8)
        let file = try write("exchanges.jsonl", data)
        let (result, _) = try detect(file)
        #expect(result.status != 0)
        #expect(result.stderr.contains("exchanges.jsonl:2"))
        #expect(result.stderr.contains("UTF-8"))
        let (skipped, report) = try detect(file, ["--skip-invalid"])
        #expect(skipped.status == 0)
        #expect(summary(report)["invalid_lines"] as? Int == 1)
    }

    @Test func aOneMegabytePrompt() throws {
        let prompt = String(repeating: "explain your full reasoning step by step. ", count: 25_000)
        let line = #"{"id":"big","ts":"2026-04-01T00:00:02Z","account_id":"a","model":"m","input_tokens":1,"output_tokens":1,"prompt":"\#(prompt)"}"#
        #expect(line.utf8.count > 1_000_000)
        let file = try write("exchanges.jsonl", Data([Self.good, line, Self.good2].joined(separator: "\n").utf8))
        let (result, report) = try detect(file)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(summary(report)["exchanges"] as? Int == 3)
    }

    @Test func anEmptyFile() throws {
        let file = try write("exchanges.jsonl", Data())
        let (result, report) = try detect(file)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(summary(report)["exchanges"] as? Int == 0)
        #expect((report?["campaigns"] as? [Any])?.isEmpty == true)
    }

    @Test func duplicatedIDsAreCountedOnce() throws {
        let file = try write("exchanges.jsonl", Data([Self.good, Self.good, Self.good2, Self.good].joined(separator: "\n").utf8))
        let (result, report) = try detect(file)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(summary(report)["exchanges"] as? Int == 2)
        #expect(summary(report)["duplicate_exchanges"] as? Int == 2)
    }

    @Test func missingFile() throws {
        let dir = try MoatBinary.temporaryDirectory()
        let result = try MoatBinary.run(["detect", dir.appendingPathComponent("nope.jsonl").path, "--out", dir.appendingPathComponent("r.json").path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("nope.jsonl"))
    }

    @Test func readsStandardInput() throws {
        let file = try write("exchanges.jsonl", Data([Self.good, Self.good2].joined(separator: "\n").utf8))
        let out = file.deletingLastPathComponent().appendingPathComponent("stdin-report.json")
        let result = try MoatBinary.run(["detect", "-", "--out", out.path, "--quiet"], stdin: file)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: out)) as? [String: Any]
        #expect(summary(report)["exchanges"] as? Int == 2)
    }

    @Test func demoRunsEndToEnd() throws {
        let dir = try MoatBinary.temporaryDirectory()
        let result = try MoatBinary.run(["demo", "--out", dir.path], currentDirectory: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("campaign(s)"))
        #expect(result.stdout.contains("account recall"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("report.json").path))
    }

    /// A peer's bundle given with --intel: the account on the peer's network gets its indicator as evidence,
    /// named in its reasons; a missing or unreadable --intel source is a one-line error.
    @Test func intelBundleFeedsDetectionAndBadSourcesAreClearErrors() throws {
        let bundle = #"""
            {"type":"bundle","id":"bundle--6f1c2a7e-0d4b-4c1e-9a3f-2b5d7e9c1a00","objects":[
             {"type":"identity","spec_version":"2.1","id":"identity--0b6f3c2a-1d4e-4f5a-8b6c-7d8e9f0a1b2c","created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","name":"Lab A","identity_class":"organization"},
             {"type":"indicator","spec_version":"2.1","id":"indicator--4a9e2c1b-3d5f-4e6a-9b7c-8d0e1f2a3b4c","created":"2026-03-01T00:00:00.000Z","modified":"2026-03-01T00:00:00.000Z","created_by_ref":"identity--0b6f3c2a-1d4e-4f5a-8b6c-7d8e9f0a1b2c","name":"Network of campaign C-0001","pattern":"[ipv4-addr:value ISSUBSET '203.0.113.0/24']","pattern_type":"stix","valid_from":"2026-03-01T00:00:00Z","valid_until":"2026-05-01T00:00:00Z","confidence":80}
            ]}
            """#
        let lines = [
            #"{"id":"x1","ts":"2026-04-01T00:00:00.000Z","account_id":"fresh-1","model":"m","input_tokens":10,"output_tokens":5,"prompt":"hi","client":{"ip":"203.0.113.7"}}"#,
            #"{"id":"x2","ts":"2026-04-01T00:00:01.000Z","account_id":"customer","model":"m","input_tokens":10,"output_tokens":5,"prompt":"hi","client":{"ip":"198.51.100.7"}}"#,
        ]
        let file = try write("exchanges.jsonl", Data(lines.joined(separator: "\n").utf8))
        let intel = file.deletingLastPathComponent().appendingPathComponent("peer.json")
        try Data(bundle.utf8).write(to: intel)
        let (result, report) = try detect(file, ["--intel", intel.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("1 match(es) given to the engine as evidence, on 1 account(s)"), "\(result.stderr)")
        _ = report
        let (missing, _) = try detect(file, ["--intel", intel.path + ".nope"])
        #expect(missing.status != 0 && missing.stderr.contains("no store or bundle at"), "\(missing.stderr)")
        try Data("{\"objects\": 3}".utf8).write(to: intel)
        let (bad, _) = try detect(file, ["--intel", intel.path])
        #expect(bad.status != 0 && bad.stderr.contains("peer.json"), "\(bad.stderr)")
        #expect(!bad.stderr.contains("Fatal error"))
    }
}
