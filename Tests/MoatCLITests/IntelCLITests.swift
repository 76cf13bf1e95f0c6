import Foundation
import Testing

/// `moat intel` through the built binary: a bundle from a simulated scenario, and clear errors on bad input.
@Suite("moat intel on the command line")
struct IntelCLITests {
    /// Simulates the smoke scenario and detects, once per test that needs it.
    static func scenario() throws -> URL {
        let dir = try MoatBinary.temporaryDirectory()
        let sim = try MoatBinary.run(["simulate", "--scenario", "smoke", "--seed", "3", "--out", dir.path, "--builtin-corpus"])
        #expect(sim.status == 0, "\(sim.stderr)")
        let detect = try MoatBinary.run(["detect", dir.appendingPathComponent("exchanges.jsonl").path, "--accounts",
                                         dir.appendingPathComponent("accounts.jsonl").path, "--out", dir.appendingPathComponent("report.json").path, "--quiet"])
        #expect(detect.status == 0, "\(detect.stderr)")
        return dir
    }

    static func lines(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    @Test func aBundleFromASimulatedScenarioIsMarkedAndHoldsNoRawIdentifier() throws {
        let dir = try Self.scenario()
        let out = dir.appendingPathComponent("bundle.json")
        let run = try MoatBinary.run(["intel", "export", "--report", dir.appendingPathComponent("report.json").path,
                                      "--exchanges", dir.appendingPathComponent("exchanges.jsonl").path,
                                      "--accounts", dir.appendingPathComponent("accounts.jsonl").path,
                                      "--tlp", "amber+strict", "--org", "CLI Lab", "--out", out.path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("written to"))
        #expect(run.stderr.contains("one-off key"), "without a configured key the operator is told")
        let text = try String(contentsOf: out, encoding: .utf8)
        let bundle = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let objects = try #require(bundle["objects"] as? [[String: Any]])
        let strict = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
        #expect(objects.contains { $0["type"] as? String == "campaign" })
        #expect(objects.contains { $0["relationship_type"] as? String == "uses" && $0["target_ref"] as? String == "attack-pattern--3f567912-629a-5e0b-ab0c-0102977c2d6c" })
        #expect(!objects.contains { $0["type"] as? String == "attack-pattern" }, "ATLAS as references by default")
        for o in objects where o["type"] as? String != "marking-definition" {
            #expect(o["object_marking_refs"] as? [String] == [strict], "\(o["id"] ?? "?")")
        }
        var raw = Set<String>()
        for a in try Self.lines(dir.appendingPathComponent("accounts.jsonl")) {
            for f in ["account_id", "payment_fingerprint", "email_domain", "org_id"] { if let v = a[f] as? String { raw.insert(v) } }
        }
        var ips = Set<String>()
        for e in try Self.lines(dir.appendingPathComponent("exchanges.jsonl")) {
            if let ip = (e["client"] as? [String: Any])?["ip"] as? String { ips.insert(ip) }
        }
        #expect(raw.count > 100 && ips.count > 100)
        let words = Self.words(text)
        #expect(words.contains("CLI Lab") || words.contains("Lab"), "the scan sees the bundle's words")
        let leaked = raw.union(ips).filter { words.contains($0) }
        #expect(leaked.isEmpty, "\(leaked.prefix(5))")
    }

    /// Every string value and every word of the bundle's text, trimmed of punctuation: an identifier that
    /// appears anywhere as a value or a word is in here.
    static func words(_ text: String) -> Set<String> {
        var out = Set<String>()
        let separators = CharacterSet(charactersIn: "\"'(),[]{} \n\t")
        for piece in text.components(separatedBy: separators) where !piece.isEmpty {
            out.insert(piece)
            out.insert(piece.trimmingCharacters(in: CharacterSet(charactersIn: ".;!?")))
        }
        return out
    }

    @Test func reExportingTheSameReportWritesTheSameBytes() throws {
        let dir = try Self.scenario()
        var outputs: [Data] = []
        for i in 0..<2 {
            let out = dir.appendingPathComponent("b\(i).json")
            let run = try MoatBinary.run(["intel", "export", "--report", dir.appendingPathComponent("report.json").path, "--tlp", "green",
                                          "--org", "CLI Lab", "--out", out.path],
                                         environment: ["MOAT_INTEL_KEY": String(repeating: "5a", count: 32), "MOAT_INTEL_KEY_ID": "k1"])
            #expect(run.status == 0, "\(run.stderr)")
            outputs.append(try Data(contentsOf: out))
        }
        #expect(outputs[0] == outputs[1])
    }

    @Test func anImportedBundleMatchesTheCampaignsAccountsWithTheGroupsKey() throws {
        let dir = try Self.scenario()
        let key = String(repeating: "3c", count: 32)
        let env = ["MOAT_INTEL_KEY": key, "MOAT_INTEL_KEY_ID": "cli-group", "CLI_GROUP_KEY": key]
        let bundle = dir.appendingPathComponent("bundle.json"), store = dir.appendingPathComponent("lab-b.sqlite")
        let report = dir.appendingPathComponent("report.json")
        let export = try MoatBinary.run(["intel", "export", "--report", report.path, "--tlp", "amber", "--org", "CLI Lab", "--out", bundle.path],
                                        environment: env)
        #expect(export.status == 0, "\(export.stderr)")
        let asOf = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any])?["summary"] as? [String: Any])["last_ts"] as! String
        let imported = try MoatBinary.run(["intel", "import", bundle.path, "--source", "cli test", "--store", store.path, "--as-of", asOf])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("new"))
        let config = dir.appendingPathComponent("intel.yaml")
        try Data("trust_groups: [{id: g, key_id: cli-group, key_env: CLI_GROUP_KEY}]\n".utf8).write(to: config)
        let match = try MoatBinary.run(["intel", "match", "--store", store.path, "--config", config.path, "--accounts",
                                        dir.appendingPathComponent("accounts.jsonl").path, "--as-of", asOf, "--json"], environment: env)
        #expect(match.status == 0, "\(match.stderr)")
        let matches = match.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let keyed = Set(matches.filter { $0["kind"] as? String == "keyed:account-id" }.compactMap { $0["account_id"] as? String })
        let campaigns = (try JSONSerialization.jsonObject(with: Data(contentsOf: report)) as? [String: Any])?["campaigns"] as? [[String: Any]] ?? []
        let members = Set(campaigns.flatMap { $0["accounts"] as? [String] ?? [] })
        #expect(!members.isEmpty)
        #expect(keyed == members, "sign-up data alone: every campaign account, and no other, by its keyed id")
        let noKey = try MoatBinary.run(["intel", "match", "--store", store.path, "--accounts", dir.appendingPathComponent("accounts.jsonl").path,
                                        "--as-of", asOf, "--json"])
        #expect(noKey.stderr.contains("no key for key id(s) cli-group"))
        #expect(!noKey.stdout.contains("keyed:account-id"))
    }

    @Test("bad input gets one clear line, never a crash",
          arguments: [
            (["--tlp", "purple"], "purple"),
            (["--tlp", "amber", "--raw-identifiers"], "--raw-identifiers needs --tlp red"),
            (["--tlp", "amber", "--report-missing"], "Unknown option"),
          ])
    func badOptions(extra: [String], message: String) throws {
        let dir = try MoatBinary.temporaryDirectory()
        let report = dir.appendingPathComponent("report.json")
        try Data(#"{"version":1,"summary":{"exchanges":0,"accounts":0,"invalid_lines":0,"campaigns":0,"flagged_accounts":0},"campaigns":[],"accounts":[]}"#.utf8).write(to: report)
        let run = try MoatBinary.run(["intel", "export", "--report", report.path, "--out", dir.appendingPathComponent("b.json").path] + extra)
        #expect(run.status != 0)
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(!run.stderr.contains("Fatal error"))
    }

    @Test func aReportThatIsNotOneIsNamed() throws {
        let dir = try MoatBinary.temporaryDirectory()
        let report = dir.appendingPathComponent("report.json")
        try Data(#"{"version":1,"campaigns":[]}"#.utf8).write(to: report)
        let run = try MoatBinary.run(["intel", "export", "--report", report.path, "--tlp", "clear", "--out", dir.appendingPathComponent("b.json").path])
        #expect(run.status != 0)
        #expect(run.stderr.contains("report.json") && run.stderr.contains("summary"), "\(run.stderr)")
        let missing = try MoatBinary.run(["intel", "export", "--report", dir.appendingPathComponent("nope.json").path, "--tlp", "clear", "--out", "-"])
        #expect(missing.status != 0 && missing.stderr.contains("nope.json"))
    }

    @Test func serveRefusesACollectionWiderThanItsTLPAllows() throws {
        let dir = try MoatBinary.temporaryDirectory()
        let config = dir.appendingPathComponent("intel.yaml")
        try Data("""
            trust_groups: [{id: g, members: [a, b]}]
            peers:
              - {id: a, auth: bearer, token: aaaaaaaaaaaaaaaaaaaa}
              - {id: b, auth: bearer, token: bbbbbbbbbbbbbbbbbbbb}
            collections:
              - {id: c1, title: too wide, read: [g], tlp_max: red}
            """.utf8).write(to: config)
        let run = try MoatBinary.run(["intel", "serve", "--config", config.path, "--port", "0"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("c1") && run.stderr.contains("TLP:RED") && run.stderr.contains("2 peers"), "\(run.stderr)")
    }

    @Test func keysAreFreshAndLongEnough() throws {
        let a = try MoatBinary.run(["intel", "key", "generate"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let b = try MoatBinary.run(["intel", "key", "generate"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(a.count == 64 && a.allSatisfy(\.isHexDigit))
        #expect(a != b)
    }
}
