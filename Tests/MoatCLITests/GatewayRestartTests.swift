import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Gateway state survives a restart, with real processes: `moat replay` of a simulated scenario through
/// `moat serve` (in front of `moat mock-upstream`), SIGKILL halfway, restart on the same store.
@Suite("moat serve killed and restarted", .serialized)
struct GatewayRestartTests {
    typealias Spawned = GatewayCrashTests.Spawned
    typealias Processes = GatewayCrashTests.Processes

    @Test("SIGKILL halfway through a replay: blocked accounts are refused right after the restart, and the final report equals the uninterrupted run's",
          .timeLimit(.minutes(20)))
    func killedReplayKeepsEnforcementAndReport() async throws {
        let outcome = try await GatewayCrashTests.onThread { try Self.replayRun() }
        let d = outcome.diagnostics
        #expect(outcome.killedBySignal, "moat serve did not die of SIGKILL\n\(d)")
        #expect(!outcome.blockedAtKill.isEmpty, "no account was blocked before the kill: the test proves nothing\n\(d)")
        #expect(outcome.probeStatuses.allSatisfy { $0.value == 403 },
                "accounts blocked before the kill were not refused right after the restart: \(outcome.probeStatuses.filter { $0.value != 403 })\n\(d)")
        #expect(outcome.restoredLogged, "the restarted gateway did not log that it restored enforcement\n\(d)")
        // The same campaigns with the same members, the same flagged accounts with the same flagged_at.
        #expect(outcome.interrupted.campaigns == outcome.uninterrupted.campaigns,
                "campaigns differ:\nkilled: \(outcome.interrupted.campaigns)\nuninterrupted: \(outcome.uninterrupted.campaigns)\n\(d)")
        let diff = Self.difference(outcome.interrupted.accounts, outcome.uninterrupted.accounts)
        #expect(diff.isEmpty, "flagged accounts differ (killed vs uninterrupted): \(diff.prefix(10))\n\(d)")
        // And the engine resumed exactly: the live report equals `moat detect` on what this gateway logged.
        let detectDiff = Self.difference(outcome.interrupted.accounts, outcome.detectOnLog.accounts)
        #expect(outcome.interrupted.campaigns == outcome.detectOnLog.campaigns, "\(d)")
        #expect(detectDiff.isEmpty, "live report vs moat detect on the gateway's log: \(detectDiff.prefix(10))\n\(d)")
    }

    @Test("SIGKILL and restart: per-minute and daily limits carry on where they were", .timeLimit(.minutes(3)))
    func limitsSurviveSigkill() async throws {
        let outcome = try await GatewayCrashTests.onThread { try Self.limitRun() }
        let d = outcome.diagnostics
        #expect(outcome.beforeKill == [200, 200, 200, 200, 200, 200], "\(d)")
        #expect(outcome.killedBySignal, "\(d)")
        // 10 requests a minute, refilled continuously (one every 6 s): over the three lives of the process no
        // more can be served than 10 plus what the elapsed time refilled. A fresh budget on a restart would
        // serve all 6 + 6 + 3 requests sent.
        let served = (outcome.beforeKill + outcome.afterFirstRestart + outcome.afterSecondRestart).filter { $0 == 200 }.count
        let refilled = Int(outcome.elapsedSeconds * 10 / 60)
        #expect(served >= 10, "the budget was not usable: \(served) served\n\(d)")
        #expect(served <= 10 + refilled, "\(served) served in \(outcome.elapsedSeconds) s across restarts: a restart gave a fresh budget\n\(d)")
        #expect(outcome.afterFirstRestart.contains(429), "\(d)")
        // A crash loop (killed again at once, restarted again) gives no fresh budget either.
        #expect(outcome.afterSecondRestart.contains(429), "\(d)")
        // The daily token cap of the other account: used up before the kill, still used up after.
        #expect(outcome.dailyBeforeKill.first == 200 && outcome.dailyBeforeKill.last == 429, "\(d)")
        #expect(outcome.dailyAfterRestart == 429, "\(d)")
    }

    // MARK: - The replay run

    /// A report reduced to what must not change: campaigns with their members, flagged accounts.
    struct Reduced: Sendable, Equatable {
        /// Campaign id → sorted member accounts.
        var campaigns: [String: [String]] = [:]
        /// Account → "verdict campaign flagged_at".
        var accounts: [String: String] = [:]
    }

    static func difference(_ a: [String: String], _ b: [String: String]) -> [String] {
        Set(a.keys).union(b.keys).sorted().compactMap { k in a[k] == b[k] ? nil : "\(k): \(a[k] ?? "-") vs \(b[k] ?? "-")" }
    }

    static func reduce(_ path: URL) throws -> Reduced {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: path)) as? [String: Any] ?? [:]
        var r = Reduced()
        for c in object["campaigns"] as? [[String: Any]] ?? [] {
            r.campaigns[c["id"] as? String ?? "?"] = (c["accounts"] as? [String] ?? []).sorted()
        }
        for a in object["accounts"] as? [[String: Any]] ?? [] {
            r.accounts[a["account_id"] as? String ?? "?"] =
                "\(a["verdict"] as? String ?? "?") \(a["campaign"] as? String ?? "-") \(a["flagged_at"] as? String ?? "?")"
        }
        return r
    }

    struct ReplayOutcome: Sendable {
        var uninterrupted = Reduced()
        var interrupted = Reduced()
        var detectOnLog = Reduced()
        var blockedAtKill: [String] = []
        var probeStatuses: [String: Int] = [:]
        var killedBySignal = false
        var restoredLogged = false
        var diagnostics = ""
    }

    static let adminToken = "restart-test-admin"

    static func config(store: String, mock: Int, proxy: Int, admin: Int, limits: String? = nil, replay: Bool = true) -> String {
        """
        listen: {host: 127.0.0.1, port: \(proxy)}
        admin: {host: 127.0.0.1, port: \(admin), token: \(adminToken)}
        store: "\(store)"
        upstreams:
          openai: {url: "http://127.0.0.1:\(mock)"}
          anthropic: {url: "http://127.0.0.1:\(mock)"}
        trusted_proxies: [127.0.0.1/32]
        tls_fingerprint_header: x-ja4
        asn_header: x-client-asn
        asn_org_header: x-client-asn-org
        country_header: x-client-country
        \(replay ? "replay: {event_time_header: x-moat-event-time, max_age_days: 3650, lockstep: true}" : "")
        detection_reorder_seconds: 120
        limits_save_ms: 200
        \(limits ?? """
        limits:
          default_tier: open
          tiers:
            open: {account: {requests_per_minute: 100000000, input_tokens_per_minute: 1000000000000, output_tokens_per_minute: 1000000000000}}
            throttled: {account: {requests_per_minute: 5}}
        """)
        policy: {campaign: block, suspicious: withhold_reasoning, takedown: true}

        """
    }

    /// Starts `moat serve` on `store` (free ports; retried if a port was taken meanwhile), with `extra` lines
    /// appended to its configuration.
    static func serve(store: String, mock: Int, dir: URL, name: String, processes: Processes,
                      limits: String? = nil, replay: Bool = true, extra: String = "") throws -> (Spawned, proxy: Int, admin: Int) {
        var logs = ""
        for attempt in 1...3 {
            let ports = try RawHTTP.freePorts(2)
            let config = dir.appendingPathComponent("\(name)-\(attempt).yaml")
            try (Self.config(store: store, mock: mock, proxy: ports[0], admin: ports[1], limits: limits, replay: replay) + extra)
                .write(to: config, atomically: true, encoding: .utf8)
            let serve = try processes.spawn(["serve", "--config", config.path, "--log-level", "notice"],
                                            log: dir.appendingPathComponent("\(name)-\(attempt).log"))
            if GatewayCrashTests.waitHealthy(port: ports[0], serve), GatewayCrashTests.waitHealthy(port: ports[1], serve) {
                return (serve, ports[0], ports[1])
            }
            logs += serve.logText()
            serve.stop()
        }
        throw RawHTTP.Failure(description: "moat serve did not start:\n\(logs)")
    }

    static func mock(dir: URL, processes: Processes) throws -> Int {
        for attempt in 1...3 {
            let port = try RawHTTP.freePorts(1)[0]
            let mock = try processes.spawn(["mock-upstream", "--host", "127.0.0.1", "--port", "\(port)", "--log-level", "error"],
                                           log: dir.appendingPathComponent("mock-\(attempt).log"))
            if GatewayCrashTests.waitHealthy(port: port, mock) { return port }
            mock.stop()
        }
        throw RawHTTP.Failure(description: "moat mock-upstream did not start")
    }

    static func run(_ arguments: [String]) throws -> MoatBinary.Output {
        let out = try MoatBinary.run(arguments)
        guard out.status == 0 else {
            throw RawHTTP.Failure(description: "moat \(arguments.prefix(2).joined(separator: " ")) failed (\(out.status)): \(out.stderr.suffix(2_000))")
        }
        return out
    }

    static func admin(_ port: Int, _ method: String, _ path: String, body: String? = nil) throws -> RawHTTP.Reply {
        var headers = [("Authorization", "Bearer \(adminToken)")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        return try RawHTTP.send(port: port, method: method, path: path, headers: headers, body: Array((body ?? "").utf8), timeout: 30)
    }

    static func replayRun() throws -> ReplayOutcome {
        let dir = try MoatBinary.temporaryDirectory()
        let processes = Processes()
        defer {
            processes.stopAll()
            try? FileManager.default.removeItem(at: dir)
        }
        let sim = dir.appendingPathComponent("sim")
        _ = try run(["simulate", "--scenario", "smoke", "--seed", "3", "--days", "2", "--builtin-corpus", "--out", sim.path])
        let exchanges = sim.appendingPathComponent("exchanges.jsonl").path
        let accounts = sim.appendingPathComponent("accounts.jsonl").path
        let total = try String(contentsOfFile: exchanges, encoding: .utf8).split(separator: "\n").count
        let half = total / 2
        let mock = try mock(dir: dir, processes: processes)
        var outcome = ReplayOutcome()
        var notes: [String] = ["exchanges: \(total), killed after \(half)"]

        func replay(_ serve: (Spawned, proxy: Int, admin: Int), _ extra: [String], out: URL? = nil) throws {
            let r = try run(["replay", exchanges, "--gateway", "http://127.0.0.1:\(serve.proxy)", "--admin", "http://127.0.0.1:\(serve.admin)",
                             "--admin-token", adminToken, "--lockstep"] + extra + (out.map { ["--out", $0.path] } ?? []))
            notes.append(r.stdout.split(separator: "\n").first.map(String.init) ?? "")
        }

        // The uninterrupted run.
        let storeA = dir.appendingPathComponent("a.sqlite").path
        _ = try run(["accounts", "import", accounts, "--store", storeA])
        let a = try serve(store: storeA, mock: mock, dir: dir, name: "serve-a", processes: processes)
        let reportA = dir.appendingPathComponent("report-a.json")
        try replay(a, [], out: reportA)
        a.0.stop()
        outcome.uninterrupted = try reduce(reportA)

        // The same replay, killed halfway.
        let storeB = dir.appendingPathComponent("b.sqlite").path
        _ = try run(["accounts", "import", accounts, "--store", storeB])
        let b1 = try serve(store: storeB, mock: mock, dir: dir, name: "serve-b1", processes: processes)
        try replay(b1, ["--limit", "\(half)"])
        // What the gateway enforces at the kill.
        let view = try admin(b1.admin, "GET", "/admin/accounts")
        let entries = (try? JSONSerialization.jsonObject(with: Data(view.body)) as? [[String: Any]]) ?? []
        outcome.blockedAtKill = entries.filter { $0["action"] as? String == "block" && $0["pendingReview"] as? Bool != true }
            .compactMap { $0["account"] as? String }
        kill(b1.0.pid, SIGKILL)
        outcome.killedBySignal = b1.0.waitForExit(seconds: 10) && b1.0.terminatedBySignal(SIGKILL)

        let b2 = try serve(store: storeB, mock: mock, dir: dir, name: "serve-b2", processes: processes)
        // Right after the restart: every account blocked before the kill is refused.
        for account in outcome.blockedAtKill.prefix(12) {
            let created = try admin(b2.admin, "POST", "/admin/keys", body: #"{"account":"\#(account)"}"#)
            guard let object = try? JSONSerialization.jsonObject(with: Data(created.body)) as? [String: Any],
                  let secret = object["secret"] as? String else {
                outcome.probeStatuses[account] = -1
                continue
            }
            let reply = try RawHTTP.send(port: b2.proxy, path: "/v1/messages",
                                         headers: [("x-api-key", secret), ("Content-Type", "application/json"), ("x-moat-event-time", "2026-01-01T00:00:00Z")],
                                         body: Array(#"{"model":"m","max_tokens":8,"messages":[{"role":"user","content":"probe"}]}"#.utf8), timeout: 10)
            outcome.probeStatuses[account] = reply.status
        }
        // Detection replays the log in the background meanwhile (enforcement did not wait for it); the rest of
        // the scenario is sent once it has caught up, as the uninterrupted run's detection had.
        let deadline = Date().addingTimeInterval(300)
        var health = ""
        while Date() < deadline {
            health = (try? admin(b2.admin, "GET", "/health").text) ?? ""
            if health.replacingOccurrences(of: " ", with: "").contains(#""resumed":true"#) { break }
            usleep(100_000)
        }
        notes.append("health after the restart: \(health.replacingOccurrences(of: "\n", with: " "))")
        let reportB = dir.appendingPathComponent("report-b.json")
        try replay(b2, ["--skip", "\(half)"], out: reportB)
        b2.0.stop()
        outcome.restoredLogged = b2.0.logText().contains("enforcement restored from the store")
        outcome.interrupted = try reduce(reportB)

        // `moat detect` on the log the killed-and-restarted gateway wrote.
        let logB = dir.appendingPathComponent("log-b.jsonl")
        let exported = try run(["export", "--store", storeB])
        try exported.stdout.write(to: logB, atomically: true, encoding: .utf8)
        let detectB = dir.appendingPathComponent("detect-b.json")
        _ = try run(["detect", logB.path, "--accounts", accounts, "--out", detectB.path, "--quiet"])
        outcome.detectOnLog = try reduce(detectB)

        let resumed = b2.0.logText().split(separator: "\n").filter { $0.contains("detection resumed") || $0.contains("restored") }
        outcome.diagnostics = (notes + resumed.map(String.init)).joined(separator: "\n")
            + "\nblocked at the kill: \(outcome.blockedAtKill.count)\nlog of the restarted gateway: \(b2.0.logText().suffix(1_500))"
        return outcome
    }

    // MARK: - The limits run

    struct LimitOutcome: Sendable {
        var beforeKill: [Int] = []
        var afterFirstRestart: [Int] = []
        var afterSecondRestart: [Int] = []
        var dailyBeforeKill: [Int] = []
        var dailyAfterRestart = 0
        var elapsedSeconds = 0.0
        var killedBySignal = false
        var diagnostics = ""
    }

    static func limitRun() throws -> LimitOutcome {
        let dir = try MoatBinary.temporaryDirectory()
        let processes = Processes()
        defer {
            processes.stopAll()
            try? FileManager.default.removeItem(at: dir)
        }
        let store = dir.appendingPathComponent("moat.sqlite").path
        func key(_ account: String) throws -> String {
            let created = try run(["keys", "create", "--account", account, "--store", store, "--json"])
            guard let object = try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any],
                  let secret = object["secret"] as? String else { throw RawHTTP.Failure(description: "no key") }
            return secret
        }
        let minuteKey = try key("acct-minute")
        let dailyKey = try key("acct-daily")
        let accountsFile = dir.appendingPathComponent("accounts.jsonl")
        try """
            {"account_id":"acct-minute","created_at":"2026-01-01T00:00:00Z"}
            {"account_id":"acct-daily","created_at":"2026-01-01T00:00:00Z","program":"research"}

            """.write(to: accountsFile, atomically: true, encoding: .utf8)
        _ = try run(["accounts", "import", accountsFile.path, "--store", store])
        let limits = """
            limits:
              default_tier: standard
              tiers:
                standard: {account: {requests_per_minute: 10}}
                capped: {account: {tokens_per_day: 150}}
                throttled: {account: {requests_per_minute: 1}}
              assign:
                - {program: research, tier: capped}
            """
        let mock = try mock(dir: dir, processes: processes)
        var outcome = LimitOutcome()
        func send(_ serve: (Spawned, proxy: Int, admin: Int), _ secret: String, maxTokens: Int = 16) throws -> Int {
            try RawHTTP.send(port: serve.proxy, path: "/v1/messages",
                             headers: [("x-api-key", secret), ("Content-Type", "application/json")],
                             body: Array(#"{"model":"m","max_tokens":\#(maxTokens),"messages":[{"role":"user","content":"how deep is a moat?"}]}"#.utf8),
                             timeout: 10).status
        }
        let first = try serve(store: store, mock: mock, dir: dir, name: "serve-1", processes: processes, limits: limits, replay: false)
        let started = Date()
        outcome.beforeKill = try (0..<6).map { _ in try send(first, minuteKey) }
        // Each request reserves 100 tokens (max_tokens) of the 150 a day and uses fewer: until the day is used up.
        for _ in 0..<30 {
            outcome.dailyBeforeKill.append(try send(first, dailyKey, maxTokens: 100))
            if outcome.dailyBeforeKill.last == 429 { break }
        }
        // Killed at once: the last requests may not have been saved yet; the log has them.
        kill(first.0.pid, SIGKILL)
        outcome.killedBySignal = first.0.waitForExit(seconds: 10) && first.0.terminatedBySignal(SIGKILL)
        let second = try serve(store: store, mock: mock, dir: dir, name: "serve-2", processes: processes, limits: limits, replay: false)
        outcome.afterFirstRestart = try (0..<6).map { _ in try send(second, minuteKey) }
        outcome.dailyAfterRestart = try send(second, dailyKey, maxTokens: 100)
        kill(second.0.pid, SIGKILL)
        _ = second.0.waitForExit(seconds: 10)
        let third = try serve(store: store, mock: mock, dir: dir, name: "serve-3", processes: processes, limits: limits, replay: false)
        outcome.afterSecondRestart = try (0..<3).map { _ in try send(third, minuteKey) }
        outcome.elapsedSeconds = Date().timeIntervalSince(started)
        third.0.stop()
        outcome.diagnostics = "daily before kill: \(outcome.dailyBeforeKill)\n" + [first, second, third].map { $0.0.logText().suffix(800) }.joined(separator: "\n---\n")
        return outcome
    }
}

@Suite("moat replay: options")
struct ReplayOptionTests {
    @Test("--lockstep with more than one request in flight is refused before anything is sent")
    func lockstepRefusesConcurrency() throws {
        let r = try MoatBinary.run(["replay", "/nonexistent.jsonl", "--admin-token", "t", "--lockstep", "--concurrency", "4"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--lockstep sends one exchange at a time"), "\(r.stderr)")
    }
}
