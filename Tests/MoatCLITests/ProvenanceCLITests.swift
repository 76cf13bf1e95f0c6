import Foundation
import Testing

/// `moat provenance` through the built binary: mark, score, key, probe (against `moat mock-upstream`).
@Suite("moat provenance")
struct ProvenanceCLITests {
    static let master = "8f1c2b7a9d3e4f5061728394a5b6c7d8e9f00112233445566778899aabbccdd"

    static let answers = [
        "Sure! It is a good idea to organize your notes. For example, you don't need to rewrite them.",
        "Additionally, it is important to keep in mind that you will not finish everything today.",
        "Here is the code:\n\n```python\nprint(\"it is not\")  # do not touch\n```\n\nIt is short, and it isn't slow.",
        "I am sure that we are going to analyze the data. Moreover, it is a lot of work, and they are careful.",
        "{\"answer\": \"it is not changed\", \"n\": 3}",
    ]

    /// Runs moat with the master key in MOAT_TEST_FP_KEY.
    static func moat(_ arguments: [String], key: String = master, environment: [String: String] = [:]) throws -> MoatBinary.Output {
        try MoatBinary.run(arguments, environment: environment.merging(["MOAT_TEST_FP_KEY": key]) { a, _ in a })
    }

    static func jsonLines(_ records: [[String: String]]) throws -> String {
        try records.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
            .joined(separator: "\n") + "\n"
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func markedAnswersScoreAsMarkedAndCleanOnesDoNot() throws {
        let dir = try MoatBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Many answers: every sample under varied leading words, so there are enough units.
        var records: [[String: String]] = []
        for (i, lead) in ["Well", "So", "Now", "Then", "Also", "Yes", "Right", "OK", "Indeed", "Still"].enumerated() {
            for a in Self.answers { records.append(["text": "\(lead) \(i). " + a, "prompt": "question \(i)"]) }
        }
        let clean = dir.appendingPathComponent("clean.jsonl")
        try Self.jsonLines(records).write(to: clean, atomically: true, encoding: .utf8)
        let marked = dir.appendingPathComponent("marked.jsonl")

        let mark = try Self.moat(["provenance", "mark", "--key-env", "MOAT_TEST_FP_KEY", "--campaign", "c-7", clean.path, "--out", marked.path])
        #expect(mark.status == 0, "\(mark.stderr)")
        #expect(mark.stderr.contains("changed"))
        let markedLines = try String(contentsOf: marked, encoding: .utf8).split(separator: "\n")
        #expect(markedLines.count == records.count)
        // The JSON answer and the code block come back byte for byte.
        let texts = try markedLines.map { try Self.object(String($0))["text"] as? String ?? "" }
        #expect(texts.contains { $0.hasSuffix("{\"answer\": \"it is not changed\", \"n\": 3}") })
        #expect(texts.filter { $0.contains("```python\nprint(\"it is not\")  # do not touch\n```") }.count == 10)

        let own = try Self.moat(["provenance", "score", "--key-env", "MOAT_TEST_FP_KEY", "--campaign", "c-7", "--json", marked.path])
        #expect(own.status == 0, "\(own.stderr)")
        let o = try Self.object(own.stdout)
        let units = try #require(o["units"] as? Int)
        #expect(units >= 20)
        #expect(try #require(o["p_value"] as? Double) < 1e-6)
        let ci = try #require(o["green_share_ci95"] as? [Double])
        #expect(ci.count == 2 && ci[0] > 0.7)
        // The test also reads the code block, which the marker leaves alone; the units it acts on all follow the key.
        let acted = try Self.object(try Self.moat(["provenance", "score", "--key-env", "MOAT_TEST_FP_KEY", "--campaign", "c-7", "--json",
                                                   "--skip-protected", marked.path]).stdout)
        let actedUnits = try #require(acted["units"] as? Int)
        #expect(actedUnits >= 20 && acted["green"] as? Int == actedUnits)
        #expect((o["key_id"] as? String)?.hasPrefix("fpk-") == true)
        #expect((o["statement"] as? String)?.contains("strong evidence") == true)

        // Another campaign's key, and the clean texts under the right key: no evidence.
        let other = try Self.object(try Self.moat(["provenance", "score", "--key-env", "MOAT_TEST_FP_KEY", "--campaign", "c-8", "--json", marked.path]).stdout)
        #expect(try #require(other["p_value"] as? Double) > 0.001)
        let before = try Self.object(try Self.moat(["provenance", "score", "--key-env", "MOAT_TEST_FP_KEY", "--campaign", "c-7", "--json", clean.path]).stdout)
        #expect(try #require(before["p_value"] as? Double) > 0.001)

        // The table for people.
        let table = try Self.moat(["provenance", "score", "--key-env", "MOAT_TEST_FP_KEY", "--campaign", "c-7", marked.path])
        for line in ["units scored:", "follow the key:", "p-value:", "strong evidence of the mark"] {
            #expect(table.stdout.contains(line), "\(line)")
        }
    }

    @Test func anExpertWithTheCampaignKeyGetsTheSameResultAndPlainTextWorks() throws {
        let dir = try MoatBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = dir.appendingPathComponent("answer.txt")
        try Self.answers.joined(separator: "\n\n").write(to: plain, atomically: true, encoding: .utf8)
        let marked = dir.appendingPathComponent("marked.txt")
        let mark = try Self.moat(["provenance", "mark", "--key-env", "MOAT_TEST_FP_KEY", plain.path, "--out", marked.path])
        #expect(mark.status == 0, "\(mark.stderr)")

        let key = try Self.moat(["provenance", "key", "--key-env", "MOAT_TEST_FP_KEY", "--reveal"])
        #expect(key.stdout.contains("campaign: default"))
        let hex = try #require(key.stdout.split(separator: "\n").first { $0.hasPrefix("key:") }?.split(separator: " ").last)
        let viaMaster = try Self.object(try Self.moat(["provenance", "score", "--key-env", "MOAT_TEST_FP_KEY", "--json", marked.path]).stdout)
        let viaExpert = try Self.object(try Self.moat(["provenance", "score", "--campaign-key-env", "MOAT_TEST_FP_CAMPAIGN_KEY", "--json", marked.path],
                                                      environment: ["MOAT_TEST_FP_CAMPAIGN_KEY": String(hex)]).stdout)
        #expect(viaMaster["key_id"] as? String == viaExpert["key_id"] as? String)
        #expect(viaMaster["units"] as? Int == viaExpert["units"] as? Int)
        #expect(viaMaster["green"] as? Int == viaExpert["green"] as? Int)
    }

    @Test func badInputGetsAClearErrorNotACrash() throws {
        let dir = try MoatBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.jsonl")
        try "{\"text\": \"ok\"}\n{\"text\": 3}\n".write(to: file, atomically: true, encoding: .utf8)
        let bad = try Self.moat(["provenance", "score", "--key-env", "MOAT_TEST_FP_KEY", file.path])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("bad.jsonl:2: field `text`"), "\(bad.stderr)")

        let unset = try MoatBinary.run(["provenance", "score", "--key-env", "MOAT_TEST_FP_UNSET", file.path])
        #expect(unset.status == 1 && unset.stderr.contains("MOAT_TEST_FP_UNSET is not set"), "\(unset.stderr)")
        let short = try Self.moat(["provenance", "score", "--key-env", "MOAT_TEST_FP_KEY", file.path], key: "abcd")
        #expect(short.status == 1 && short.stderr.contains("at least 16 bytes"), "\(short.stderr)")
        let missing = try Self.moat(["provenance", "score", "--key-env", "MOAT_TEST_FP_KEY", dir.appendingPathComponent("none").path])
        #expect(missing.status == 1 && missing.stderr.contains("cannot read"), "\(missing.stderr)")
    }

    @Test("probe asks the suspect through both APIs, saves the answers and scores them", .timeLimit(.minutes(1)))
    func probeAgainstTheMockUpstream() async throws {
        try await GatewayCrashTests.onThread { try Self.probeRun() }
    }

    static func probeRun() throws {
        let dir = try MoatBinary.temporaryDirectory()
        var upstream: GatewayCrashTests.Spawned?
        defer {
            upstream?.stop()
            try? FileManager.default.removeItem(at: dir)
        }
        var port = 0
        for attempt in 1...3 {
            port = try RawHTTP.freePorts(1)[0]
            let spawned = try GatewayCrashTests.Spawned(["mock-upstream", "--host", "127.0.0.1", "--port", "\(port)", "--log-level", "warning"],
                                                        log: dir.appendingPathComponent("upstream-\(attempt).log"))
            if GatewayCrashTests.waitHealthy(port: port, spawned) {
                upstream = spawned
                break
            }
            spawned.stop()
        }
        try #require(upstream != nil, "moat mock-upstream did not start")
        let prompts = dir.appendingPathComponent("prompts.txt")
        try (1...12).map { "Probe question number \($0): what is a moat for, and why?" }.joined(separator: "\n")
            .write(to: prompts, atomically: true, encoding: .utf8)

        for api in ["openai", "anthropic"] {
            let samples = dir.appendingPathComponent("samples-\(api).jsonl")
            let probe = try Self.moat(["provenance", "probe", "--suspect", "http://127.0.0.1:\(port)", "--api", api, "--model", "suspect-1",
                                       "--prompts", prompts.path, "--key-env", "MOAT_TEST_FP_KEY", "--campaign", "c-7",
                                       "--out", samples.path, "--samples", "2", "--json"])
            #expect(probe.status == 0, "\(api): \(probe.stderr)")
            let lines = try String(contentsOf: samples, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == 24, "\(api)")
            let first = try Self.object(String(lines[0]))
            #expect((first["prompt"] as? String)?.hasPrefix("Probe question") == true)
            #expect(((first["text"] as? String) ?? "").count > 20)
            #expect(first["model"] as? String == "suspect-1")
            // The probe's result is exactly `score` on the saved answers.
            let probed = try Self.object(probe.stdout)
            let scored = try Self.object(try Self.moat(["provenance", "score", "--key-env", "MOAT_TEST_FP_KEY", "--campaign", "c-7", "--json", samples.path]).stdout)
            for field in ["units", "green", "occurrences", "texts"] {
                #expect(probed[field] as? Int == scored[field] as? Int, "\(api) \(field)")
            }
            #expect(probed["texts"] as? Int == 24)
            #expect(try #require(probed["p_value"] as? Double) > 0.001, "the mock was never marked")
        }

        // Nothing listening: a clear failure.
        let dead = try RawHTTP.freePorts(1)[0]
        let failed = try Self.moat(["provenance", "probe", "--suspect", "http://127.0.0.1:\(dead)", "--api", "openai", "--model", "m",
                                    "--prompts", prompts.path, "--key-env", "MOAT_TEST_FP_KEY", "--out", dir.appendingPathComponent("x.jsonl").path,
                                    "--timeout", "2"])
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("every request failed"), "\(failed.stderr)")
    }
}
