import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real `moat serve` and `moat export`, as an outside prober uses them: streamed answers read up to
/// their last words and then abandoned are all in the exported log, while the gateway runs; streams the
/// gateway itself ends at shutdown are in it too, as `cancelled`.
@Suite("moat serve: hung-up streams and shutdown, through the binary")
struct GatewayProbeTests {
    /// A running mock upstream and `moat serve` (with `extra` options), a key, and the store.
    struct Servers {
        let dir: URL
        let processes: GatewayCrashTests.Processes
        let gateway: GatewayCrashTests.Spawned
        let port: Int
        let store: String
        let secret: String
    }

    static func start(serveArguments: [String] = []) throws -> Servers {
        let dir = try MoatBinary.temporaryDirectory()
        let processes = GatewayCrashTests.Processes()
        let store = dir.appendingPathComponent("moat.sqlite").path
        let created = try MoatBinary.run(["keys", "create", "--account", "acct-probe", "--store", store, "--json"])
        guard created.status == 0, let json = try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any],
              let secret = json["secret"] as? String else {
            throw RawHTTP.Failure(description: "moat keys create failed: \(created.stderr)")
        }
        for attempt in 1...3 {
            let ports = try RawHTTP.freePorts(3)
            let upstream = try processes.spawn(["mock-upstream", "--port", "\(ports[0])", "--log-level", "warning"],
                                               log: dir.appendingPathComponent("upstream-\(attempt).log"))
            let config = dir.appendingPathComponent("moat-\(attempt).yaml")
            try """
                listen: {host: 127.0.0.1, port: \(ports[1])}
                admin: {host: 127.0.0.1, port: \(ports[2]), token: probe-admin}
                store: "\(store)"
                upstreams:
                  openai: {url: "http://127.0.0.1:\(ports[0])"}
                  anthropic: {url: "http://127.0.0.1:\(ports[0])"}
                forward_headers: [x-mock-chunk-delay-ms, x-mock-words]

                """.write(to: config, atomically: true, encoding: .utf8)
            let serve = try processes.spawn(["serve", "--config", config.path, "--log-level", "warning"] + serveArguments,
                                            log: dir.appendingPathComponent("serve-\(attempt).log"))
            if GatewayCrashTests.waitHealthy(port: ports[0], upstream), GatewayCrashTests.waitHealthy(port: ports[1], serve) {
                return Servers(dir: dir, processes: processes, gateway: serve, port: ports[1], store: store, secret: secret)
            }
            serve.stop()
            upstream.stop()
        }
        processes.stopAll()
        throw RawHTTP.Failure(description: "moat serve did not start")
    }

    static func request(_ api: String, prompt: String, secret: String) -> (path: String, headers: [(String, String)], body: [UInt8]) {
        let openAI = api == "openai"
        var headers: [(String, String)] = [("Content-Type", "application/json"), ("x-mock-chunk-delay-ms", "10"), ("x-mock-words", "60")]
        headers += openAI ? [("Authorization", "Bearer \(secret)")] : [("x-api-key", secret), ("anthropic-version", "2023-06-01")]
        let body = #"{"model":"m","max_tokens":200,"stream":true,"messages":[{"role":"user","content":"\#(prompt)"}]}"#
        return (openAI ? "/v1/chat/completions" : "/v1/messages", headers, Array(body.utf8))
    }

    /// `moat export`'s output.
    static func export(_ store: String) throws -> String {
        let export = try MoatBinary.run(["export", "--store", store])
        guard export.status == 0 else { throw RawHTTP.Failure(description: "moat export: \(export.stderr)") }
        return export.stdout
    }

    static func objects(_ jsonl: String) -> [[String: Any]] {
        jsonl.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test("streams read to their last words and abandoned are all in moat export", .timeLimit(.minutes(1)))
    func abandonedStreamsAreExported() async throws {
        let result = try await GatewayCrashTests.onThread { () throws -> ([String], String) in
            let s = try Self.start()
            defer {
                s.processes.stopAll()
                try? FileManager.default.removeItem(at: s.dir)
            }
            var prompts: [String] = []
            for (i, api) in ["openai", "anthropic", "openai", "anthropic"].enumerated() {
                let prompt = "probe \(i) \(UUID().uuidString.prefix(8))"
                let r = Self.request(api, prompt: prompt, secret: s.secret)
                let reply = try RawHTTP.read(port: s.port, path: r.path, headers: r.headers, body: r.body) { reply in
                    // Up to the last words: the answer's end is there, its terminal event not yet.
                    api == "openai" ? reply.text.contains(#""finish_reason":"stop""#) || reply.text.contains(#""finish_reason":"length""#)
                        : reply.text.contains("event: message_delta")
                }
                guard reply.status == 200 else { throw RawHTTP.Failure(description: "status \(reply.status)") }
                prompts.append(prompt)
            }
            // Exported while the gateway still runs, as soon as every abandoned stream is there (the close is
            // seen within moments; up to 10 s is allowed for a machine that stalls the gateway).
            let deadline = Date().addingTimeInterval(10)
            var exported = try Self.export(s.store)
            while Date() < deadline, !prompts.allSatisfy(exported.contains) {
                usleep(100_000)
                exported = try Self.export(s.store)
            }
            return (prompts, exported)
        }
        let prompts = result.0
        let exported = Self.objects(result.1)
        let logged = Set(exported.compactMap { $0["prompt"] as? String })
        for p in prompts { #expect(logged.contains(p), "\(p) is not in moat export") }
        for e in exported where prompts.contains(e["prompt"] as? String ?? "") {
            #expect((e["output_tokens"] as? Int ?? 0) > 0)
            #expect(e["outcome"] == nil || e["outcome"] as? String == "client_closed")
        }
    }

    @Test("streams still running when the shutdown grace ends are exported as cancelled", .timeLimit(.minutes(1)))
    func shutdownCancelsAndLogs() async throws {
        let result = try await GatewayCrashTests.onThread { () throws -> (String, String, Bool) in
            let s = try Self.start(serveArguments: ["--shutdown-grace", "0.5"])
            defer {
                s.processes.stopAll()
                try? FileManager.default.removeItem(at: s.dir)
            }
            let prompt = "shutdown \(UUID().uuidString.prefix(8))"
            var r = Self.request("anthropic", prompt: prompt, secret: s.secret)
            r.headers = r.headers.map { $0.0 == "x-mock-chunk-delay-ms" ? ($0.0, "300") : $0 }
            let pid = s.gateway.pid
            var signalled = false
            let reply = try RawHTTP.read(port: s.port, path: r.path, headers: r.headers, body: r.body) { reply in
                if !signalled, reply.text.contains("content_block_delta") {
                    signalled = true
                    kill(pid, SIGTERM)
                }
                return false  // keep reading: the gateway ends the stream
            }
            guard reply.status == 200 else { throw RawHTTP.Failure(description: "status \(reply.status)") }
            let exited = s.gateway.waitForExit(seconds: 15)
            return (prompt, try Self.export(s.store), exited && !reply.text.contains("message_stop"))
        }
        let (prompt, cutShort) = (result.0, result.2)
        let exported = Self.objects(result.1)
        #expect(cutShort, "the gateway stopped, and the stream was cut short")
        let e = try #require(exported.first { $0["prompt"] as? String == prompt })
        #expect(e["outcome"] as? String == "cancelled")
    }
}
