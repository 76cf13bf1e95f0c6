import Foundation
import Testing

/// `moat simulate` end to end, through the built binary.
@Suite struct SimulateCLITests {
    @Test func simulateWritesTheThreeFiles() throws {
        let dir = try MoatBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("sim")
        let result = try MoatBinary.run(["simulate", "--scenario", "smoke", "--seed", "3", "--out", out.path,
                                         "--builtin-corpus", "--days", "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        for file in ["exchanges.jsonl", "accounts.jsonl", "labels.jsonl"] {
            let path = out.appendingPathComponent(file).path
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
            #expect(size > 0, "\(file) is missing or empty")
        }
        #expect(result.stdout.contains("smoke"))
    }

    @Test func simulateJSONSummaryMatchesTheFiles() throws {
        let dir = try MoatBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try MoatBinary.run(["simulate", "--scenario", "smoke", "--seed", "3", "--out", dir.path,
                                         "--builtin-corpus", "--days", "1", "--scale", "0.5", "--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let summary = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "stdout: \(result.stdout)")
        let text = try String(contentsOf: dir.appendingPathComponent("exchanges.jsonl"), encoding: .utf8)
        let lines = text.split(separator: "\n").count
        #expect((summary["exchanges"] as? NSNumber)?.intValue == lines)
        let labels = try String(contentsOf: dir.appendingPathComponent("labels.jsonl"), encoding: .utf8)
        #expect((summary["campaign_accounts"] as? NSNumber)?.intValue == labels.split(separator: "\n").count)
        #expect(summary["days"] as? NSNumber == 1)
    }

    @Test func unknownScenarioFailsAndNamesIt() throws {
        let dir = try MoatBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("sim")
        let result = try MoatBinary.run(["simulate", "--scenario", "nope", "--out", out.path])
        #expect(result.status != 0)
        #expect((result.stderr + result.stdout).contains("nope"), "stderr: \(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("exchanges.jsonl").path))
    }
}
