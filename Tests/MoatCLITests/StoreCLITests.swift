import Foundation
import Testing

@Suite struct StoreCLITests {
    @Test func keysCreateListRevoke() throws {
        let dir = try MoatBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }

        let created = try MoatBinary.run(["keys", "create", "--account", "acct-1", "--org", "org-1", "--json"], currentDirectory: dir)
        #expect(created.status == 0, "\(created.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])
        let id = try #require(json["id"] as? String)
        let secret = try #require(json["secret"] as? String)
        #expect(id.hasPrefix("key_"))
        #expect(secret.hasPrefix("moat-sk-"))
        #expect(json["account"] as? String == "acct-1")
        #expect(json["org"] as? String == "org-1")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("moat.sqlite").path))

        let text = try MoatBinary.run(["keys", "create", "--account", "acct-2", "--store", "moat.sqlite"], currentDirectory: dir)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("moat-sk-"))

        let list = try MoatBinary.run(["keys", "list"], currentDirectory: dir)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains(id))
        #expect(list.stdout.contains("acct-2"))
        #expect(!list.stdout.contains("moat-sk-"))
        #expect(!list.stdout.contains(secret))

        let listJSON = try MoatBinary.run(["keys", "list", "--account", "acct-1", "--json"], currentDirectory: dir)
        #expect(listJSON.status == 0, "\(listJSON.stderr)")
        let keys = try #require(try JSONSerialization.jsonObject(with: Data(listJSON.stdout.utf8)) as? [[String: Any]])
        #expect(keys.count == 1)
        #expect(keys.first?["id"] as? String == id)
        #expect(keys.first?["active"] as? Bool == true)
        #expect(!listJSON.stdout.contains("moat-sk-"))

        let revoke = try MoatBinary.run(["keys", "revoke", id], currentDirectory: dir)
        #expect(revoke.status == 0, "\(revoke.stderr)")
        let after = try MoatBinary.run(["keys", "list", "--account", "acct-1"], currentDirectory: dir)
        #expect(after.stdout.contains("revoked"))

        let unknown = try MoatBinary.run(["keys", "revoke", "key_doesnotexist"], currentDirectory: dir)
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("key_doesnotexist"))
        #expect(!unknown.stderr.contains("Fatal"))
    }

    @Test func accountsImport() throws {
        let dir = try MoatBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("accounts.jsonl")
        try """
            {"account_id":"acct-1","org_id":"org-1","verification":"email","program":"standard"}
            {"account_id":"acct-2","created_at":"2026-04-01T00:00:00Z"}

            """.write(to: file, atomically: true, encoding: .utf8)
        let ok = try MoatBinary.run(["accounts", "import", "accounts.jsonl", "--store", "s.sqlite"], currentDirectory: dir)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("2"))

        let bad = dir.appendingPathComponent("bad.jsonl")
        try "{\"account_id\":\"acct-3\"}\n{\"account_id\":3}\n".write(to: bad, atomically: true, encoding: .utf8)
        let failed = try MoatBinary.run(["accounts", "import", "bad.jsonl", "--store", "s.sqlite"], currentDirectory: dir)
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("bad.jsonl:2"))
        #expect(failed.stderr.contains("account_id"))
        #expect(failed.stderr.split(separator: "\n").count == 1)
    }

    @Test func exportOfEmptyStore() throws {
        let dir = try MoatBinary.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try MoatBinary.run(["keys", "create", "--account", "a", "--json"], currentDirectory: dir).status == 0)

        let export = try MoatBinary.run(["export"], currentDirectory: dir)
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.isEmpty)

        let toFile = try MoatBinary.run(["export", "--since", "2026-04-22T08:00:00Z", "--out", "log.jsonl"], currentDirectory: dir)
        #expect(toFile.status == 0, "\(toFile.stderr)")
        #expect(try String(contentsOf: dir.appendingPathComponent("log.jsonl"), encoding: .utf8).isEmpty)

        let badSince = try MoatBinary.run(["export", "--since", "yesterday"], currentDirectory: dir)
        #expect(badSince.status != 0)
        #expect(badSince.stderr.contains("RFC 3339"))

        let missing = try MoatBinary.run(["export", "--store", "nope.sqlite"], currentDirectory: dir)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("nope.sqlite"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("nope.sqlite").path))
    }
}
