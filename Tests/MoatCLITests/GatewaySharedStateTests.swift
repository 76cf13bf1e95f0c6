import Foundation
import MoatTestServers
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What replicas on one PostgreSQL store share beyond keys, limits and detection: operators' overrides and the
/// audit trail, campaigns, enforcement across a restart, and the exchange log as `moat export` writes it.
/// Real `moat serve` processes and a real PostgreSQL that each test starts (initdb on a temporary directory).
@Suite("moat serve replicas on PostgreSQL: shared overrides, audit, restart and export",
       .enabled(if: PostgresServer.shouldRun, "PostgreSQL's server is not installed"), .serialized)
struct GatewaySharedStateTests {
    typealias Spawned = GatewayCrashTests.Spawned
    typealias Processes = GatewayCrashTests.Processes

    /// Stated bound: an override set on one replica is enforced by another within this many seconds.
    static let overrideBound = 1.0

    @Test("an override set through replica A's admin API refuses the account on replica B within 1 s; B reads its audit entry; removed on B, A serves again",
          .timeLimit(.minutes(5)))
    func overrideOnOneReplicaEnforcedOnTheOther() async throws {
        let o = try await GatewayCrashTests.onThread { try Self.overrideRun() }
        let d = o.diagnostics
        print(String(format: "override: enforced on the other replica after %.3f s, removal after %.3f s", o.enforcedAfter, o.removedAfter))
        #expect(o.beforeOnB == 200, "the key did not work on B before the override\n\(d)")
        #expect(o.enforcedAfter <= Self.overrideBound, "B refused after \(o.enforcedAfter) s (bound \(Self.overrideBound) s)\n\(d)")
        #expect(o.afterOnB == 403, "B served the account A blocked: \(o.afterOnB)\n\(d)")
        #expect(o.overridesOnB == ["account:acct-x:block"], "overrides as B lists them: \(o.overridesOnB)\n\(d)")
        #expect(o.auditOnB.contains("override-block operator account:acct-x"), "B's audit trail: \(o.auditOnB)\n\(d)")
        #expect(o.removedAfter <= Self.overrideBound, "A still refused \(o.removedAfter) s after the override was removed on B\n\(d)")
        #expect(o.afterRemovalOnA == 200, "\(d)")
        // One trail: both entries, whichever replica wrote them, read the same from either.
        #expect(o.auditOnA == o.auditOnB && o.auditOnA.contains("override-removed operator account:acct-x"), "A: \(o.auditOnA)\nB: \(o.auditOnB)\n\(d)")
    }

    @Test("a replica that blocked accounts is SIGKILLed and restarted: it refuses them from its first request on; the other replica reads detection's audit entries and campaigns, and follows a campaign choice",
          .timeLimit(.minutes(15)))
    func restartedReplicaRefusesBlockedAccountsAtOnce() async throws {
        let o = try await GatewayCrashTests.onThread { try Self.restartRun() }
        let d = o.diagnostics
        print(String(format: "restart on PostgreSQL: %d accounts blocked at the kill, %d probed right after the restart (healthy %.2f s after the spawn): %d refused",
                     o.blockedAtKill.count, o.probes.count, o.restartSeconds, o.probes.values.filter { $0 == 403 }.count))
        #expect(!o.blockedAtKill.isEmpty, "no account was blocked before the kill: the test proves nothing\n\(d)")
        #expect(o.killedBySignal, "\(d)")
        #expect(!o.probes.isEmpty && o.probes.allSatisfy { $0.value == 403 },
                "accounts blocked before the kill were not refused right after the restart: \(o.probes.filter { $0.value != 403 })\n\(d)")
        #expect(o.standbyRole == "standby", "\(d)")
        #expect(o.detectionAuditOnStandby.isSuperset(of: o.blockedAtKill),
                "blocked accounts without detection's audit entry on the standby: \(Set(o.blockedAtKill).subtracting(o.detectionAuditOnStandby).sorted().prefix(10))\n\(d)")
        #expect(o.campaignsOnStandby > 0, "the standby lists no campaign\n\(d)")
        // "Fingerprint and keep serving", chosen on the leader for a blocked account's campaign: the standby serves
        // that account (fingerprinted) within 1 s; the choice removed on the standby, the leader refuses it again.
        print(String(format: "campaign choice %@ made on the leader: a blocked member served by the standby after %.3f s; removed on the standby: refused by the leader after %.3f s",
                     o.choiceCampaign ?? "-", o.choiceServedAfter, o.choiceRemovedAfter))
        #expect(o.choiceCampaign != nil, "no blocked account in a campaign\n\(d)")
        #expect(o.choiceBefore == 403, "the member was not refused by the standby before the choice: \(o.choiceBefore)\n\(d)")
        #expect(o.choiceServedAfter <= Self.overrideBound, "the standby served the chosen campaign after \(o.choiceServedAfter) s\n\(d)")
        #expect(o.choiceRemovedAfter <= Self.overrideBound, "the leader refused again after \(o.choiceRemovedAfter) s\n\(d)")
    }

    @Test("moat export on a PostgreSQL store writes the combined log byte for byte as moat export on the replica's SQLite store, --since too",
          .timeLimit(.minutes(5)))
    func exportFromPostgresMatchesSQLite() async throws {
        let o = try await GatewayCrashTests.onThread { try Self.exportRun() }
        let d = o.diagnostics
        print("export: \(o.lines) lines, \(o.bytes) bytes from each store; since \(o.since): \(o.sinceLines) lines")
        #expect(o.lines > 100, "\(d)")
        #expect(o.identical, "moat export differs between the stores\n\(d)")
        #expect(o.sinceLines > 0 && o.sinceLines < o.lines && o.sinceIdentical, "\(d)")
    }

    // MARK: - Runs

    struct OverrideOutcome: Sendable {
        var beforeOnB = 0
        var afterOnB = 0
        var enforcedAfter = Double.infinity
        var overridesOnB: [String] = []
        var auditOnA: [String] = []
        var auditOnB: [String] = []
        var removedAfter = Double.infinity
        var afterRemovalOnA = 0
        var diagnostics = ""
    }

    static func send(_ port: Int, _ secret: String) -> Int {
        (try? RawHTTP.send(port: port, path: "/v1/messages", headers: [("x-api-key", secret), ("Content-Type", "application/json")],
                           body: Array(#"{"model":"m","max_tokens":8,"messages":[{"role":"user","content":"how deep is a moat?"}]}"#.utf8),
                           timeout: 10).status) ?? 0
    }

    /// An admin route's JSON array.
    static func list(_ admin: Int, _ path: String) -> [[String: Any]] {
        guard let reply = try? GatewayRestartTests.admin(admin, "GET", path),
              let array = try? JSONSerialization.jsonObject(with: Data(reply.body)) as? [[String: Any]] else { return [] }
        return array
    }

    /// "action actor subject" of each audit entry, newest first.
    static func audit(_ admin: Int, subject: String? = nil, limit: Int = 50) -> [String] {
        list(admin, "/admin/audit?limit=\(limit)" + (subject.map { "&subject=\($0)" } ?? "")).map {
            "\($0["action"] as? String ?? "?") \($0["actor"] as? String ?? "?") \($0["subject"] as? String ?? "?")"
        }
    }

    /// A temporary directory, a process set and a PostgreSQL server for one run, removed and stopped after it.
    static func withStore<T>(_ body: (URL, Processes, PostgresServer) throws -> T) throws -> T {
        let dir = try MoatBinary.temporaryDirectory()
        let processes = Processes()
        let pg = try PostgresServer()
        defer {
            processes.stopAll()
            pg.stop()
            try? FileManager.default.removeItem(at: dir)
        }
        return try body(dir, processes, pg)
    }

    /// Simulates `smoke` (built-in corpus) into `dir/sim` and imports its accounts into the store.
    static func simulateAndImport(seed: Int, days: Int, dir: URL, store: String) throws -> URL {
        let sim = dir.appendingPathComponent("sim")
        _ = try GatewayRestartTests.run(["simulate", "--scenario", "smoke", "--seed", "\(seed)", "--days", "\(days)", "--builtin-corpus",
                                         "--out", sim.path])
        _ = try GatewayRestartTests.run(["accounts", "import", sim.appendingPathComponent("accounts.jsonl").path, "--store", store])
        return sim
    }

    static func overrideRun() throws -> OverrideOutcome { try withStore(overrideRun) }

    static func overrideRun(dir: URL, processes: Processes, pg: PostgresServer) throws -> OverrideOutcome {
        let created = try GatewayRestartTests.run(["keys", "create", "--account", "acct-x", "--store", pg.url, "--json"])
        guard let object = try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any],
              let secret = object["secret"] as? String else { throw RawHTTP.Failure(description: "no key: \(created.stdout)") }
        let mock = try GatewayRestartTests.mock(dir: dir, processes: processes)
        let a = try GatewayReplicaTests.replica(store: pg.url, mock: mock, dir: dir, name: "replica-a", processes: processes)
        let b = try GatewayReplicaTests.replica(store: pg.url, mock: mock, dir: dir, name: "replica-b", processes: processes)
        var o = OverrideOutcome()
        o.beforeOnB = send(b.proxy, secret)

        let set = try GatewayRestartTests.admin(a.admin, "POST", "/admin/overrides",
                                                body: #"{"scope":"account","subject":"acct-x","action":"block","reason":"seen on replica a"}"#)
        guard set.status == 200 else { throw RawHTTP.Failure(description: "override on A: \(set.status) \(set.text)") }
        o.enforcedAfter = GatewayFailoverTests.waitFor(10) { send(b.proxy, secret) == 403 } ?? .infinity
        o.afterOnB = send(b.proxy, secret)
        o.overridesOnB = list(b.admin, "/admin/overrides").map {
            "\($0["scope"] as? String ?? "?"):\($0["subject"] as? String ?? "?"):\($0["action"] as? String ?? "?")"
        }

        let removed = try GatewayRestartTests.admin(b.admin, "DELETE", "/admin/overrides/account/acct-x")
        guard removed.status == 204 else { throw RawHTTP.Failure(description: "removal on B: \(removed.status) \(removed.text)") }
        o.removedAfter = GatewayFailoverTests.waitFor(10) { send(a.proxy, secret) == 200 } ?? .infinity
        o.afterRemovalOnA = send(a.proxy, secret)
        o.auditOnA = audit(a.admin, subject: "account:acct-x")
        o.auditOnB = audit(b.admin, subject: "account:acct-x")
        o.diagnostics = "replica a:\n\(a.0.logText().suffix(2_000))\nreplica b:\n\(b.0.logText().suffix(2_000))"
        return o
    }

    struct RestartOutcome: Sendable {
        var blockedAtKill: [String] = []
        var killedBySignal = false
        var probes: [String: Int] = [:]
        var restartSeconds = 0.0
        var standbyRole = ""
        var detectionAuditOnStandby: Set<String> = []
        var campaignsOnStandby = 0
        var choiceCampaign: String?
        var choiceBefore = 0
        var choiceServedAfter = Double.infinity
        var choiceRemovedAfter = Double.infinity
        var diagnostics = ""
    }

    /// The environment variable the replicas of the restart test read their fingerprint master key from.
    static let fingerprintKeyEnv = "MOAT_SHARED_STATE_TEST_FINGERPRINT_KEY"

    /// A key for `account` made through `admin`, and what a request with it gets from `proxy` (event time given).
    static func probe(admin: Int, proxy: Int, account: String) throws -> Int {
        let created = try GatewayRestartTests.admin(admin, "POST", "/admin/keys", body: #"{"account":"\#(account)"}"#)
        guard let object = try? JSONSerialization.jsonObject(with: Data(created.body)) as? [String: Any],
              let secret = object["secret"] as? String else { return -1 }
        return probe(proxy: proxy, secret: secret)
    }

    static func probe(proxy: Int, secret: String) -> Int {
        (try? RawHTTP.send(port: proxy, path: "/v1/messages",
                           headers: [("x-api-key", secret), ("Content-Type", "application/json"), ("x-moat-event-time", "2026-01-01T00:00:00Z")],
                           body: Array(#"{"model":"m","max_tokens":8,"messages":[{"role":"user","content":"probe"}]}"#.utf8), timeout: 10).status) ?? 0
    }

    static func restartRun() throws -> RestartOutcome { try withStore(restartRun) }

    static func restartRun(dir: URL, processes: Processes, pg: PostgresServer) throws -> RestartOutcome {
        let run = GatewayRestartTests.run
        let sim = try simulateAndImport(seed: 3, days: 2, dir: dir, store: pg.url)
        let exchanges = sim.appendingPathComponent("exchanges.jsonl").path
        let total = try String(contentsOfFile: exchanges, encoding: .utf8).split(separator: "\n").count
        let mock = try GatewayRestartTests.mock(dir: dir, processes: processes)
        var o = RestartOutcome()
        var notes = ["exchanges: \(total), replica a killed after \(total / 2)"]
        // A fingerprint master key of the test's own, in a variable no other test reads (the replicas inherit it).
        setenv(Self.fingerprintKeyEnv, String(repeating: "5eed", count: 16), 1)
        let fingerprint = "fingerprint: {key_env: \(Self.fingerprintKeyEnv)}\n"

        // Replica a leads detection; replica b stands by.
        let a = try GatewayReplicaTests.replica(store: pg.url, mock: mock, dir: dir, name: "replica-a", processes: processes, replay: true,
                                                extra: fingerprint)
        _ = GatewayFailoverTests.waitFor(5) { GatewayFailoverTests.detection(a.admin).role == "leader" }
        let b = try GatewayReplicaTests.replica(store: pg.url, mock: mock, dir: dir, name: "replica-b", processes: processes, replay: true,
                                                extra: fingerprint)
        let replayed = try run(["replay", exchanges, "--gateway", "http://127.0.0.1:\(a.proxy)", "--admin", "http://127.0.0.1:\(a.admin)",
                                "--admin-token", GatewayRestartTests.adminToken, "--concurrency", "1", "--limit", "\(total / 2)"])
        notes.append(replayed.stdout.split(separator: "\n").first.map(String.init) ?? "")
        let shipped = GatewayFailoverTests.settled(30) {
            Int((try? pg.sql("SELECT count(*) FROM exchange_log"))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1
        }
        _ = GatewayFailoverTests.waitFor(60) { GatewayFailoverTests.detection(a.admin).ingested >= shipped }
        o.blockedAtKill = GatewayFailoverTests.blocked(a.admin).sorted()
        // What the standby reads of the shared trail and campaigns (the leader publishes them every 100 ms).
        o.standbyRole = GatewayFailoverTests.detection(b.admin).role
        let wanted = Set(o.blockedAtKill)
        _ = GatewayFailoverTests.waitFor(10) {
            o.detectionAuditOnStandby = Set(list(b.admin, "/admin/audit?limit=10000").filter { $0["actor"] as? String == "detection" }
                .compactMap { ($0["subject"] as? String).map { String($0.dropFirst("account:".count)) } })
            return o.detectionAuditOnStandby.isSuperset(of: wanted)
        }
        o.campaignsOnStandby = list(b.admin, "/admin/campaigns").count

        // A campaign choice made on the leader is followed by the standby; removed on the standby, by the leader.
        let member = list(a.admin, "/admin/accounts").first { $0["action"] as? String == "block" && $0["campaign"] is String }
        if let member, let account = member["account"] as? String, let campaign = member["campaign"] as? String {
            o.choiceCampaign = campaign
            let created = try GatewayRestartTests.admin(b.admin, "POST", "/admin/keys", body: #"{"account":"\#(account)"}"#)
            let secret = (try? JSONSerialization.jsonObject(with: Data(created.body)) as? [String: Any])?["secret"] as? String ?? ""
            o.choiceBefore = probe(proxy: b.proxy, secret: secret)
            notes.append("campaign choice for \(campaign) (member \(account)): on b before \(o.choiceBefore)")
            let chosen = try GatewayRestartTests.admin(a.admin, "PUT", "/admin/campaign-choices/\(campaign)",
                                                       body: #"{"action":"fingerprint","expires_in_hours":1,"reason":"watch it"}"#)
            notes.append("choice on a: \(chosen.status) \(chosen.text.prefix(300))")
            o.choiceServedAfter = GatewayFailoverTests.waitFor(10) { probe(proxy: b.proxy, secret: secret) == 200 } ?? .infinity
            let removed = try GatewayRestartTests.admin(b.admin, "DELETE", "/admin/campaign-choices/\(campaign)")
            notes.append("choice removed on b: \(removed.status)")
            o.choiceRemovedAfter = GatewayFailoverTests.waitFor(10) { (try? probe(admin: a.admin, proxy: a.proxy, account: account)) == 403 } ?? .infinity
        }

        kill(a.0.pid, SIGKILL)
        o.killedBySignal = a.0.waitForExit(seconds: 10) && a.0.terminatedBySignal(SIGKILL)
        // Restarted on its own SQLite store and the shared one: the first requests it serves are the probes.
        let spawned = Date()
        let restarted = try GatewayReplicaTests.replica(store: pg.url, mock: mock, dir: dir, name: "replica-a", processes: processes,
                                                        replay: true, life: "-restarted", extra: fingerprint)
        o.restartSeconds = Date().timeIntervalSince(spawned)
        for account in o.blockedAtKill.prefix(12) {
            o.probes[account] = try probe(admin: restarted.admin, proxy: restarted.proxy, account: account)
        }
        o.diagnostics = notes.joined(separator: "\n") + "\nblocked at the kill: \(o.blockedAtKill.count)"
            + "\nrestarted replica:\n\(restarted.0.logText().suffix(2_000))\nreplica b:\n\(b.0.logText().suffix(1_500))"
        return o
    }

    struct ExportOutcome: Sendable {
        var lines = 0
        var bytes = 0
        var identical = false
        var since = ""
        var sinceLines = 0
        var sinceIdentical = false
        var diagnostics = ""
    }

    static func exportRun() throws -> ExportOutcome { try withStore(exportRun) }

    static func exportRun(dir: URL, processes: Processes, pg: PostgresServer) throws -> ExportOutcome {
        let run = GatewayRestartTests.run
        let sim = try simulateAndImport(seed: 2, days: 1, dir: dir, store: pg.url)
        let exchanges = sim.appendingPathComponent("exchanges.jsonl").path
        let mock = try GatewayRestartTests.mock(dir: dir, processes: processes)
        let a = try GatewayReplicaTests.replica(store: pg.url, mock: mock, dir: dir, name: "replica-a", processes: processes, replay: true)
        // Sent with up to 8 at once, so that the log is not in event-time order.
        _ = try run(["replay", exchanges, "--gateway", "http://127.0.0.1:\(a.proxy)", "--admin", "http://127.0.0.1:\(a.admin)",
                     "--admin-token", GatewayRestartTests.adminToken, "--concurrency", "8", "--limit", "600"])
        let local = dir.appendingPathComponent("replica-a.sqlite").path
        let logged = Int(try run(["export", "--store", local]).stdout.split(separator: "\n").count)
        _ = GatewayFailoverTests.waitFor(30) {
            Int((try? pg.sql("SELECT count(*) FROM exchange_log"))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1 >= logged
        }
        var o = ExportOutcome()
        let fromSQLite = try run(["export", "--store", local]).stdout
        let pgFile = dir.appendingPathComponent("pg.jsonl")
        _ = try run(["export", "--store", pg.url, "--out", pgFile.path])
        let fromPostgres = try String(contentsOf: pgFile, encoding: .utf8)
        o.lines = fromSQLite.split(separator: "\n").count
        o.bytes = fromSQLite.utf8.count
        o.identical = fromSQLite == fromPostgres && !fromSQLite.isEmpty
        // From the middle of the log on.
        let middle = fromSQLite.split(separator: "\n")[o.lines / 2]
        let object = try JSONSerialization.jsonObject(with: Data(middle.utf8)) as? [String: Any]
        o.since = object?["ts"] as? String ?? ""
        let sinceSQLite = try run(["export", "--store", local, "--since", o.since]).stdout
        let sincePostgres = try run(["export", "--store", pg.url, "--since", o.since]).stdout
        o.sinceLines = sinceSQLite.split(separator: "\n").count
        o.sinceIdentical = sinceSQLite == sincePostgres
        if !o.identical {
            let s = fromSQLite.split(separator: "\n"), p = fromPostgres.split(separator: "\n")
            let first = zip(s, p).enumerated().first { $0.element.0 != $0.element.1 }
            o.diagnostics = "sqlite \(s.count) lines, postgres \(p.count); first difference at line \(first?.offset ?? -1)"
        }
        return o
    }
}
