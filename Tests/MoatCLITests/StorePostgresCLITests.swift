import Foundation
import MoatTestServers
import Testing

/// `moat keys`, `moat accounts import` and `moat export` on a real PostgreSQL store (that the test starts) say
/// the same as on an SQLite store: the same commands, the same transcript but for key ids, secrets, times
/// and the store's name.
@Suite("moat keys, accounts and export on PostgreSQL", .enabled(if: PostgresServer.shouldRun, "PostgreSQL's server is not installed"))
struct StorePostgresCLITests {
    @Test("moat keys create, list, revoke, moat accounts import and moat export print the same on PostgreSQL as on SQLite")
    func sameTranscriptOnEitherStore() throws {
        let dir = try MoatBinary.temporaryDirectory()
        let pg = try PostgresServer()
        defer {
            pg.stop()
            try? FileManager.default.removeItem(at: dir)
        }
        let good = dir.appendingPathComponent("accounts.jsonl")
        try """
            {"account_id":"acct-1","org_id":"org-1","verification":"email","program":"standard"}
            {"account_id":"acct-2","created_at":"2026-04-01T00:00:00Z"}

            """.write(to: good, atomically: true, encoding: .utf8)
        let bad = dir.appendingPathComponent("bad.jsonl")
        try "{\"account_id\":\"acct-3\"}\n{\"account_id\":3}\n".write(to: bad, atomically: true, encoding: .utf8)

        let sqlite = try Self.transcript(store: dir.appendingPathComponent("s.sqlite").path, good: good, bad: bad)
        let postgres = try Self.transcript(store: pg.url, good: good, bad: bad)
        #expect(postgres.lines.count == sqlite.lines.count)
        for (p, s) in zip(postgres.lines, sqlite.lines) {
            #expect(p == s)
        }
        // Keys created on PostgreSQL are there, and only their digests.
        #expect(try pg.sql("SELECT count(*) FROM api_keys").trimmingCharacters(in: .whitespacesAndNewlines) == "2")
        #expect(try pg.sql("SELECT count(*) FROM api_keys WHERE secret_sha256 LIKE 'moat-sk-%'").trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        #expect(try pg.sql("SELECT count(*) FROM accounts").trimmingCharacters(in: .whitespacesAndNewlines) == "2")
    }

    struct Transcript {
        var lines: [String] = []
    }

    /// Runs the same commands on `store`; each command's status, standard output and standard error, with key
    /// ids, secrets, times and the store's name replaced by placeholders.
    static func transcript(store: String, good: URL, bad: URL) throws -> Transcript {
        var t = Transcript()
        var ids: [String] = []
        var secrets: [String] = []
        func normal(_ text: String) -> String {
            var s = text
            for (i, id) in ids.enumerated() { s = s.replacingOccurrences(of: id, with: "KEY\(i + 1)") }
            for secret in secrets { s = s.replacingOccurrences(of: secret, with: "SECRET") }
            s = s.replacingOccurrences(of: store, with: "STORE")
            return s.replacingOccurrences(of: #"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"#, with: "TIME", options: .regularExpression)
        }
        func run(_ arguments: [String]) throws -> MoatBinary.Output {
            let out = try MoatBinary.run(arguments + ["--store", store])
            // Ids and secrets of new keys, learnt from what was printed.
            for match in out.stdout.matches(of: #/key_[A-Za-z0-9]+/#) where !ids.contains(String(match.output)) { ids.append(String(match.output)) }
            for match in out.stdout.matches(of: #/moat-sk-[A-Za-z0-9]+/#) where !secrets.contains(String(match.output)) { secrets.append(String(match.output)) }
            t.lines.append(normal("$ moat \(arguments.joined(separator: " ")) -> \(out.status == 0 ? "0" : "failed")"))
            t.lines += normal(out.stdout).split(separator: "\n").map { "  " + $0 }
            // The log lines of the first open of a PostgreSQL store (its migrations) are not output.
            t.lines += normal(out.stderr).split(separator: "\n").filter { !$0.contains(" notice moat.store.postgres") }.map { "  ! " + $0 }
            return out
        }
        _ = try run(["keys", "create", "--account", "acct-1", "--org", "org-1", "--json"])
        _ = try run(["keys", "create", "--account", "acct-2", "--name", "ci"])
        _ = try run(["keys", "list"])
        _ = try run(["keys", "list", "--account", "acct-1", "--json"])
        _ = try run(["keys", "revoke", ids.first ?? "key_none"])
        _ = try run(["keys", "list", "--account", "acct-1"])
        _ = try run(["keys", "revoke", "key_doesnotexist"])
        _ = try run(["accounts", "import", good.path])
        _ = try run(["accounts", "import", bad.path])
        _ = try run(["export"])
        _ = try run(["export", "--since", "2026-04-22T08:00:00Z"])
        _ = try run(["export", "--since", "yesterday"])
        return t
    }
}
