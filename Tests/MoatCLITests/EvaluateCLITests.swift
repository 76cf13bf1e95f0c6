import Foundation
import Testing

/// `moat evaluate` end to end: files in a temp dir, the built binary, JSON parsed back.
@Suite struct EvaluateCLITests {
    /// camp-a: a1 a2; benign u1 u2. a1 flagged at 10:00 (one exchange before), a2 never; u1 flagged.
    static let labels = """
        {"account_id": "a1", "campaign": "camp-a"}
        {"account_id": "a2", "campaign": "camp-a"}

        """
    static let exchanges = [
        ("e1", "2026-04-22T09:00:00Z", "a1"),
        ("e2", "2026-04-22T10:00:00Z", "a1"),  // exactly flagged_at: not leaked
        ("e3", "2026-04-22T11:00:00Z", "a1"),
        ("e4", "2026-04-22T08:00:00Z", "a2"),  // campaign's first exchange
        ("e5", "2026-04-22T09:30:00Z", "u1"),
        ("e6", "2026-04-22T09:45:00Z", "u2"),
    ].map { #"{"id":"\#($0.0)","ts":"\#($0.1)","account_id":"\#($0.2)","model":"m","input_tokens":1,"output_tokens":2}"# }
        .joined(separator: "\n") + "\n"
    static let report = """
        {"version": 1,
         "summary": {"exchanges": 6, "accounts": 4, "invalid_lines": 0, "first_ts": "2026-04-22T08:00:00Z",
                     "last_ts": "2026-04-22T11:00:00Z", "campaigns": 1, "flagged_accounts": 2},
         "campaigns": [{"id": "C-0001", "accounts": ["a1", "u1"], "exchanges": 4,
                        "first_seen": "2026-04-22T09:00:00Z", "last_seen": "2026-04-22T11:00:00Z",
                        "detected_at": "2026-04-22T10:00:00Z", "confidence": 0.8,
                        "capabilities": {"coding": 1.0, "agentic": 0.0, "reasoning": 0.0, "planning": 0.0, "other": 0.0},
                        "indicators": {"ip_prefixes": [], "asns": [], "user_agents": [], "tls_fingerprints": [],
                                       "payment_fingerprints": [], "email_domains": [], "system_prompt_hashes": [],
                                       "prompt_templates": []},
                        "evidence": ["same TLS fingerprint"]}],
         "accounts": [
           {"account_id": "a1", "verdict": "campaign", "score": 0.9, "campaign": "C-0001",
            "flagged_at": "2026-04-22T12:00:00+02:00", "reasons": ["templated prompts"]},
           {"account_id": "u1", "verdict": "campaign", "score": 0.6, "campaign": "C-0001",
            "flagged_at": "2026-04-22T09:30:00Z", "reasons": ["shares a TLS fingerprint with a1"]}
         ]}
        """

    func writeInputs(report: String = Self.report) throws -> URL {
        let dir = try MoatBinary.temporaryDirectory()
        try Self.labels.write(to: dir.appendingPathComponent("labels.jsonl"), atomically: true, encoding: .utf8)
        try Self.exchanges.write(to: dir.appendingPathComponent("exchanges.jsonl"), atomically: true, encoding: .utf8)
        try report.write(to: dir.appendingPathComponent("report.json"), atomically: true, encoding: .utf8)
        return dir
    }

    @Test func jsonFigures() throws {
        let dir = try writeInputs()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try MoatBinary.run([
            "evaluate", "--labels", dir.appendingPathComponent("labels.jsonl").path,
            "--report", dir.appendingPathComponent("report.json").path, "--json",
        ])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "stdout: \(result.stdout)")
        let overall = try #require(object["overall"] as? [String: Any])
        #expect(overall["campaign_accounts"] as? Int == 2)
        #expect(overall["benign_accounts"] as? Int == 2)
        #expect(overall["flagged_accounts"] as? Int == 2)
        #expect(overall["account_recall"] as? Double == 0.5)
        #expect(overall["benign_false_positive_rate"] as? Double == 0.5)
        #expect(overall["account_precision"] as? Double == 0.5)
        #expect(overall["campaign_exchanges"] as? Int == 4)
        #expect(overall["leaked_exchanges"] as? Int == 2)
        #expect(overall["leakage"] as? Double == 0.5)

        let campaigns = try #require(object["campaigns"] as? [[String: Any]])
        #expect(campaigns.count == 1)
        let a = campaigns[0]
        #expect(a["campaign"] as? String == "camp-a")
        #expect(a["matched_campaign"] as? String == "C-0001")
        #expect(a["completeness"] as? Double == 0.5)
        #expect(a["purity"] as? Double == 0.5)
        #expect(a["first_exchange"] as? String == "2026-04-22T08:00:00.000Z")
        // ceil(2/2) = 1 account flagged at 10:00, first exchange 08:00.
        #expect(a["time_to_detect_hours"] as? Double == 2)

        let fps = try #require(object["false_positives"] as? [[String: Any]])
        #expect(fps.count == 1)
        #expect(fps.first?["account_id"] as? String == "u1")
        #expect(fps.first?["reasons"] as? [String] == ["shares a TLS fingerprint with a1"])
    }

    @Test func tableAndBars() throws {
        let dir = try writeInputs()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try MoatBinary.run([
            "evaluate", "--labels", dir.appendingPathComponent("labels.jsonl").path,
            "--report", dir.appendingPathComponent("report.json").path, "--bars",
        ])
        #expect(result.status == 2, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("account recall"))
        #expect(result.stdout.contains("camp-a"))
        #expect(result.stdout.contains("shares a TLS fingerprint with a1"))
        #expect(result.stdout.contains("FAIL"))
    }

    @Test func malformedReportNamesTheFile() throws {
        let dir = try writeInputs(report: #"{"version": 1, "summary": "#)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try MoatBinary.run([
            "evaluate", "--labels", dir.appendingPathComponent("labels.jsonl").path,
            "--report", dir.appendingPathComponent("report.json").path, "--json",
        ])
        #expect(result.status != 0)
        #expect(result.stderr.contains("report.json"), "stderr: \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func badFlaggedAtNamesTheField() throws {
        let dir = try writeInputs(report: Self.report.replacingOccurrences(of: "2026-04-22T09:30:00Z\", \"reasons",
                                                                           with: "soon\", \"reasons"))
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try MoatBinary.run([
            "evaluate", "--labels", dir.appendingPathComponent("labels.jsonl").path,
            "--report", dir.appendingPathComponent("report.json").path,
        ])
        #expect(result.status != 0)
        #expect(result.stderr.contains("report.json"))
        #expect(result.stderr.contains("accounts[1].flagged_at"), "stderr: \(result.stderr)")
    }

    @Test func missingReportFile() throws {
        let dir = try writeInputs()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try MoatBinary.run([
            "evaluate", "--labels", dir.appendingPathComponent("labels.jsonl").path,
            "--report", dir.appendingPathComponent("nope.json").path,
        ])
        #expect(result.status != 0)
        #expect(result.stderr.contains("nope.json"))
    }
}
