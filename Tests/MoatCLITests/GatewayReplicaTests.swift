import Foundation
import MoatTestServers
import Testing

/// Two `moat serve` replicas on one PostgreSQL store, behind nginx: real processes, a real PostgreSQL that the
/// test starts (initdb on a temporary directory), Debian's nginx. Under CI a missing server fails the tests.
@Suite("moat serve replicas on PostgreSQL behind nginx",
       .enabled(if: PostgresServer.shouldRun && NginxServer.shouldRun, "PostgreSQL's server or nginx is not installed"), .serialized)
struct GatewayReplicaTests {
    typealias Spawned = GatewayCrashTests.Spawned
    typealias Processes = GatewayCrashTests.Processes

    @Test("60 concurrent requests through nginx to 2 replicas against a limit of 10: exactly 10 served, 50 get 429")
    func exactLimitsAcrossReplicas() async throws {
        let outcome = try await GatewayCrashTests.onThread { try Self.limitRun() }
        #expect(outcome.statuses.count == 60, "\(outcome.diagnostics)")
        #expect(outcome.statuses.filter { $0 == 200 }.count == 10, "served \(outcome.histogram)\n\(outcome.diagnostics)")
        #expect(outcome.statuses.filter { $0 == 429 }.count == 50, "limited \(outcome.histogram)\n\(outcome.diagnostics)")
        // nginx spread the requests: both replicas answered some.
        #expect(outcome.perReplica.allSatisfy { $0 > 0 }, "per replica \(outcome.perReplica)\n\(outcome.diagnostics)")
        #expect(outcome.healthKinds == ["postgres", "postgres"], "\(outcome.diagnostics)")
    }

    struct LimitOutcome: Sendable {
        var statuses: [Int] = []
        var perReplica: [Int] = []
        var healthKinds: [String] = []
        var diagnostics = ""
        var histogram: [Int: Int] { statuses.reduce(into: [:]) { $0[$1, default: 0] += 1 } }
    }

    static let adminToken = GatewayRestartTests.adminToken

    /// Starts `moat serve` as a replica on the PostgreSQL store: `GatewayRestartTests.serve` with this replica's own
    /// SQLite store (its exchange log) and name; the same SQLite file again when restarted under the same name.
    static func replica(store: String, mock: Int, dir: URL, name: String, processes: Processes,
                        limits: String? = nil, replay: Bool = false, life: String = "", extra: String = "") throws -> (Spawned, proxy: Int, admin: Int) {
        try GatewayRestartTests.serve(store: store, mock: mock, dir: dir, name: name + life, processes: processes, limits: limits, replay: replay,
                                      extra: "local_store: \"\(dir.appendingPathComponent("\(name).sqlite").path)\"\nreplica_name: \(name)\n" + extra)
    }

    /// Sends `count` requests at once (a thread each) to `port`; returns their statuses (0: no answer).
    static func burst(port: Int, count: Int, secret: String) -> [Int] {
        final class Collected: @unchecked Sendable {
            let lock = NSLock()
            var statuses: [Int] = []
        }
        let collected = Collected()
        let group = DispatchGroup()
        let start = DispatchSemaphore(value: 0)
        for _ in 0..<count {
            group.enter()
            Thread {
                start.wait()
                let status = (try? RawHTTP.send(port: port, path: "/v1/messages",
                                                headers: [("x-api-key", secret), ("Content-Type", "application/json")],
                                                body: Array(#"{"model":"m","max_tokens":16,"messages":[{"role":"user","content":"how deep is a moat?"}]}"#.utf8),
                                                timeout: 20).status) ?? 0
                collected.lock.withLock { collected.statuses.append(status) }
                group.leave()
            }.start()
        }
        for _ in 0..<count { start.signal() }
        group.wait()
        return collected.lock.withLock { collected.statuses }
    }

    static func limitRun() throws -> LimitOutcome {
        let dir = try MoatBinary.temporaryDirectory()
        let processes = Processes()
        let pg = try PostgresServer()
        var nginx: NginxServer?
        defer {
            nginx?.stop()
            processes.stopAll()
            pg.stop()
            try? FileManager.default.removeItem(at: dir)
        }
        let created = try GatewayRestartTests.run(["keys", "create", "--account", "acct-limit", "--store", pg.url, "--json"])
        guard let object = try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any],
              let secret = object["secret"] as? String else { throw RawHTTP.Failure(description: "no key: \(created.stdout)") }
        let limits = """
            limits:
              default_tier: standard
              tiers:
                standard: {account: {requests_per_minute: 10}}
                throttled: {account: {requests_per_minute: 1}}
            """
        let mock = try GatewayRestartTests.mock(dir: dir, processes: processes)
        let a = try replica(store: pg.url, mock: mock, dir: dir, name: "replica-a", processes: processes, limits: limits)
        let b = try replica(store: pg.url, mock: mock, dir: dir, name: "replica-b", processes: processes, limits: limits)
        nginx = try NginxServer(upstreams: [a.proxy, b.proxy])
        var outcome = LimitOutcome()
        outcome.statuses = burst(port: nginx!.port, count: 60, secret: secret)
        for r in [a, b] {
            let health = try GatewayRestartTests.admin(r.admin, "GET", "/health")
            let object = try JSONSerialization.jsonObject(with: Data(health.body)) as? [String: Any]
            outcome.healthKinds.append(((object?["store"] as? [String: Any])?["kind"] as? String) ?? "?")
            let metrics = try RawHTTP.send(port: r.admin, method: "GET", path: "/metrics", headers: [("Authorization", "Bearer \(adminToken)")])
            let text = String(decoding: metrics.body, as: UTF8.self)
            outcome.perReplica.append(Self.requestsCounted(text))
        }
        outcome.diagnostics = "replica a:\n\(a.0.logText().suffix(3_000))\nreplica b:\n\(b.0.logText().suffix(3_000))"
        return outcome
    }

    /// The requests a replica answered, from its Prometheus metrics (`moat_requests_total` lines).
    static func requestsCounted(_ metrics: String) -> Int {
        metrics.split(separator: "\n").filter { $0.hasPrefix("moat_requests_total") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0) { $0 + Int($1) }
    }
}
