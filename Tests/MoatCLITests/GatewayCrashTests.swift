import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nothing already answered is lost: the real `moat serve` process, under concurrent load from both APIs
/// (streaming and not), is killed with SIGKILL; every exchange whose answer a client received in full
/// must be in `moat export` of its store afterwards.
///
/// The gateway promises this by committing an exchange to the log before it sends the last bytes of a
/// stream (or a non-streamed body at all), so a client that saw `data: [DONE]` or `message_stop` saw a
/// committed exchange.
@Suite("moat serve killed under load")
struct GatewayCrashTests {
    static let workers = 8
    /// Complete answers to wait for before the kill.
    static let killAfter = 150
    /// Most requests one worker sends (bounds the load if the kill never comes).
    static let perWorkerLimit = 200

    @Test("SIGKILL under load loses no acknowledged exchange", .timeLimit(.minutes(1)))
    func sigkillLosesNoAcknowledgedExchange() async throws {
        // Blocking sockets and process waits: on a thread of its own, not the cooperative pool.
        let outcome = try await Self.onThread { try Self.crashRun() }
        let d = outcome.diagnostics

        #expect(outcome.servingAtKill, "moat serve was not running when it was to be killed\n\(d)")
        #expect(outcome.completedBeforeKill >= Self.killAfter, "only \(outcome.completedBeforeKill) complete answers before the kill\n\(d)")
        #expect(outcome.killedBySignal, "moat serve did not die of SIGKILL\n\(d)")
        #expect(outcome.inFlightAtKill > 0, "no request was in flight at the kill\n\(d)")
        #expect(outcome.exportStatus == 0, "moat export failed\n\(d)")
        let missing = outcome.completed.filter { !outcome.exported.contains($0) }
        #expect(missing.isEmpty,
                "\(missing.count) of \(outcome.completed.count) acknowledged exchanges are not in the log, e.g. \(missing.prefix(3))\n\(d)")
        #expect(outcome.exported.count >= outcome.completed.count, "\(d)")
    }

    struct Outcome: Sendable {
        var completed: [String] = []
        var completedBeforeKill = 0
        var inFlightAtKill = 0
        var servingAtKill = false
        var killedBySignal = false
        var exportStatus: Int32 = -1
        var exported: Set<String> = []
        var diagnostics = ""
    }

    /// The whole run, blocking: servers up, load, SIGKILL, export. Processes are stopped on every path.
    static func crashRun() throws -> Outcome {
        let dir = try MoatBinary.temporaryDirectory()
        let processes = Processes()
        defer {
            processes.stopAll()
            try? FileManager.default.removeItem(at: dir)
        }
        let store = dir.appendingPathComponent("moat.sqlite").path

        let created = try MoatBinary.run(["keys", "create", "--account", "acct-crash", "--store", store, "--json"])
        guard created.status == 0,
              let json = try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any],
              let secret = json["secret"] as? String else {
            throw RawHTTP.Failure(description: "moat keys create failed: \(created.stderr)")
        }

        // Servers on free ports; a port taken between picking and binding gets another try.
        var gateway: Spawned?
        var proxyPort = 0
        var startupLog = ""
        for attempt in 1...3 {
            let ports = try RawHTTP.freePorts(3)
            let upstream = try processes.spawn(["mock-upstream", "--host", "127.0.0.1", "--port", "\(ports[0])", "--log-level", "warning"],
                                               log: dir.appendingPathComponent("upstream-\(attempt).log"))
            let config = dir.appendingPathComponent("moat-\(attempt).yaml")
            try """
                listen: {host: 127.0.0.1, port: \(ports[1])}
                admin: {host: 127.0.0.1, port: \(ports[2]), token: crash-test-admin}
                store: "\(store)"
                upstreams:
                  openai: {url: "http://127.0.0.1:\(ports[0])"}
                  anthropic: {url: "http://127.0.0.1:\(ports[0])"}
                forward_headers: [x-mock-latency-ms]
                limits:
                  default_tier: open
                  tiers:
                    open: {account: {requests_per_minute: 1000000}}
                    throttled: {account: {requests_per_minute: 1000000}}
                policy: {campaign: allow, suspicious: allow}

                """.write(to: config, atomically: true, encoding: .utf8)
            let serve = try processes.spawn(["serve", "--config", config.path, "--log-level", "warning"],
                                            log: dir.appendingPathComponent("serve-\(attempt).log"))
            if waitHealthy(port: ports[0], upstream), waitHealthy(port: ports[1], serve), waitHealthy(port: ports[2], serve) {
                gateway = serve
                proxyPort = ports[1]
                break
            }
            startupLog += "attempt \(attempt):\n\(upstream.logText())\n\(serve.logText())\n"
            serve.stop()
            upstream.stop()
        }
        guard let gateway else { throw RawHTTP.Failure(description: "moat serve did not start:\n\(startupLog)") }
        let port = proxyPort

        // Load: each worker sends requests one after another, cycling through the four kinds.
        let tally = Tally()
        let done = DispatchGroup()
        for w in 0..<workers {
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                for i in 0..<perWorkerLimit {
                    if tally.stopped { break }
                    let kind = RequestKind.allCases[(w + i) % RequestKind.allCases.count]
                    let prompt = "crash-test w\(w) n\(i) \(UUID().uuidString.prefix(8)): what is a moat for?"
                    tally.begin()
                    let reply = try? RawHTTP.send(port: port, path: kind.path, headers: kind.headers(secret: secret),
                                                  body: kind.body(prompt: prompt), timeout: 10)
                    tally.end(prompt: prompt, complete: reply.map(kind.isComplete) ?? false)
                }
            }
            thread.start()
        }

        let deadline = Date().addingTimeInterval(30)
        while tally.completedCount < killAfter, Date() < deadline, gateway.isRunning {
            usleep(1_000)
        }
        var outcome = Outcome()
        outcome.servingAtKill = gateway.isRunning
        outcome.inFlightAtKill = tally.inFlight
        outcome.completedBeforeKill = tally.completedCount
        kill(gateway.pid, SIGKILL)
        tally.stop()
        if done.wait(timeout: .now() + 25) == .timedOut {
            throw RawHTTP.Failure(description: "the load workers did not finish after the kill")
        }
        outcome.killedBySignal = gateway.waitForExit(seconds: 10) && gateway.terminatedBySignal(SIGKILL)
        outcome.completed = tally.completedPrompts

        let export = try MoatBinary.run(["export", "--store", store])
        outcome.exportStatus = export.status
        for line in export.stdout.split(separator: "\n") {
            if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
               let prompt = object["prompt"] as? String {
                outcome.exported.insert(prompt)
            }
        }
        outcome.diagnostics = """
            complete answers: \(outcome.completed.count) (\(outcome.completedBeforeKill) before the kill), \
            in flight at the kill: \(outcome.inFlightAtKill), failed or cut off: \(tally.failedCount), \
            exported: \(outcome.exported.count)
            moat export: \(export.stderr)
            moat serve log: \(gateway.logText().suffix(2_000))
            """
        return outcome
    }

    /// The four kinds of request, both APIs, streaming and not.
    enum RequestKind: CaseIterable {
        case openAI, openAIStream, anthropic, anthropicStream

        var path: String { self == .openAI || self == .openAIStream ? "/v1/chat/completions" : "/v1/messages" }
        var stream: Bool { self == .openAIStream || self == .anthropicStream }

        func headers(secret: String) -> [(String, String)] {
            // A little upstream latency keeps requests in flight at every moment.
            var h: [(String, String)] = [("Content-Type", "application/json"), ("x-mock-latency-ms", "3")]
            if path == "/v1/messages" {
                h += [("x-api-key", secret), ("anthropic-version", "2023-06-01")]
            } else {
                h.append(("Authorization", "Bearer \(secret)"))
            }
            return h
        }

        func body(prompt: String) -> [UInt8] {
            let object: [String: Any] = [
                "model": path == "/v1/messages" ? "claude-mock" : "gpt-mock",
                "max_tokens": 48,
                "stream": stream,
                "messages": [["role": "user", "content": prompt]],
            ]
            return Array((try? JSONSerialization.data(withJSONObject: object)) ?? Data())
        }

        /// The client got the whole answer: 200 and, for a stream, its final event; otherwise the full body.
        func isComplete(_ reply: RawHTTP.Reply) -> Bool {
            guard reply.status == 200 else { return false }
            switch self {
            case .openAIStream: return reply.text.contains("data: [DONE]")
            case .anthropicStream: return reply.text.contains("event: message_stop")
            case .openAI, .anthropic:
                guard reply.complete,
                      let object = try? JSONSerialization.jsonObject(with: Data(reply.body)) as? [String: Any] else { return false }
                return object["usage"] != nil
            }
        }
    }

    /// Results shared by the workers.
    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var prompts: [String] = []
        private var failed = 0
        private var flying = 0
        private var halted = false

        func begin() { lock.withLock { flying += 1 } }
        func end(prompt: String, complete: Bool) {
            lock.withLock {
                flying -= 1
                if complete { prompts.append(prompt) } else { failed += 1 }
            }
        }
        func stop() { lock.withLock { halted = true } }
        var stopped: Bool { lock.withLock { halted } }
        var inFlight: Int { lock.withLock { flying } }
        var completedCount: Int { lock.withLock { prompts.count } }
        var completedPrompts: [String] { lock.withLock { prompts } }
        var failedCount: Int { lock.withLock { failed } }
    }

    /// A long-running `moat` subcommand with its output in a log file.
    final class Spawned: @unchecked Sendable {
        let process: Process
        let log: URL

        init(_ arguments: [String], log: URL) throws {
            self.log = log
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process = Process()
            process.executableURL = try MoatBinary.url()
            process.arguments = arguments
            process.standardOutput = handle
            process.standardError = handle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            try handle.close()
        }

        var pid: Int32 { process.processIdentifier }
        var isRunning: Bool { process.isRunning }

        func waitForExit(seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning, Date() < deadline { usleep(10_000) }
            return !process.isRunning
        }

        func terminatedBySignal(_ signal: Int32) -> Bool {
            !process.isRunning && process.terminationReason == .uncaughtSignal && process.terminationStatus == signal
        }

        /// SIGTERM, then SIGKILL if it lingers; waits for the exit.
        func stop() {
            guard process.isRunning else { return }
            kill(pid, SIGTERM)
            if !waitForExit(seconds: 5) {
                kill(pid, SIGKILL)
                _ = waitForExit(seconds: 5)
            }
        }

        func logText() -> String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }
    }

    /// Every process the test started, to stop on every path.
    final class Processes: @unchecked Sendable {
        private let lock = NSLock()
        private var all: [Spawned] = []

        func spawn(_ arguments: [String], log: URL) throws -> Spawned {
            let p = try Spawned(arguments, log: log)
            lock.withLock { all.append(p) }
            return p
        }

        func stopAll() {
            for p in lock.withLock({ all }) { p.stop() }
        }
    }

    /// Polls GET /health until 200, while `process` runs; at most 20 s.
    static func waitHealthy(port: Int, _ process: Spawned) -> Bool {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, process.isRunning {
            if let reply = try? RawHTTP.send(port: port, method: "GET", path: "/health", timeout: 2), reply.status == 200 {
                return true
            }
            usleep(50_000)
        }
        return false
    }

    /// Runs blocking work on a thread of its own and awaits its result.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
