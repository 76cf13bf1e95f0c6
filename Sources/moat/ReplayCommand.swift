import ArgumentParser
import AsyncHTTPClient
import Foundation
import MoatCore
import NIOCore

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay an exchange log through a running `moat serve`, in the log's own event time.",
        discussion: """
            Sends each exchange of EXCHANGES as a real API request (OpenAI or Anthropic, by its endpoint) with \
            the account's key (created through the admin API), its user agent, TLS fingerprint, client address \
            and enrichment headers, and its timestamp in the gateway's `event_time_header`. Counts what the \
            gateway served and refused, per campaign when --labels is given, and writes the gateway's live \
            detection report. The gateway must be in replay mode (`replay: {event_time_header: x-moat-event-time}`) \
            and trust this client as a proxy (`trusted_proxies: [127.0.0.1/32]`), with tls_fingerprint_header \
            x-ja4, asn_header x-client-asn, asn_org_header x-client-asn-org and country_header x-client-country \
            (see scripts/e2e-gateway.sh).
            """
    )

    @Argument(help: "Exchange log (contract JSON Lines).")
    var exchanges: String

    @Option(help: "Gateway proxy URL.")
    var gateway = "http://127.0.0.1:8080"

    @Option(help: "Gateway admin URL.")
    var admin = "http://127.0.0.1:8081"

    @Option(help: "Admin token.")
    var adminToken: String

    @Option(help: "Requests in flight (default 32; 1 with --lockstep).")
    var concurrency: Int?

    @Flag(help: ArgumentHelp("Wait after every exchange until the gateway's detection has taken it in (POST /admin/detection/sync), so that verdicts, hence what is served, do not depend on how busy the machine is.",
                             discussion: "One request at a time; the gateway needs `replay: {lockstep: true}` and an embedded store."))
    var lockstep = false

    var inFlightLimit: Int { concurrency ?? (lockstep ? 1 : 32) }

    func validate() throws {
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if lockstep, let concurrency, concurrency != 1 {
            throw ValidationError("--lockstep sends one exchange at a time: drop --concurrency or set it to 1")
        }
        if skip < 0 { throw ValidationError("--skip must not be negative") }
        if let limit, limit < 0 { throw ValidationError("--limit must not be negative") }
    }

    @Option(help: "Ground truth, to count served and refused exchanges per campaign.")
    var labels: String?

    @Option(help: "Write the gateway's live report here.")
    var out: String?

    @Option(help: "Stop after this many exchanges.")
    var limit: Int?

    @Option(help: "Skip this many exchanges first (resume a replay that stopped after --limit).")
    var skip = 0

    func run() async throws {
        let campaignOf = try labels.map { path throws(ContractError) in
            Dictionary(try readLabels(path: path).map { ($0.accountID, $0.campaign) }, uniquingKeysWith: { a, _ in a })
        } ?? [:]
        let reader = try ExchangeReader(path: exchanges)
        let client = HTTPClient(eventLoopGroupProvider: .singleton,
                                configuration: .init(connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: inFlightLimit)))
        let keys = KeyBook(admin: admin, token: adminToken, client: client)
        var tally = Tally()
        let bar = ProgressBar(label: "replay")
        let started = Date()
        var sent = 0
        try await withThrowingTaskGroup(of: (String, Int).self) { group in
            var inFlight = 0
            var skipped = 0
            while let e = try reader.next() {
                if skipped < skip {
                    skipped += 1
                    continue
                }
                if let limit, sent >= limit { break }
                if inFlight >= inFlightLimit, let (account, status) = try await group.next() {
                    inFlight -= 1
                    tally.add(account: account, status: status, campaign: campaignOf[account])
                    if lockstep { try await Self.sync(admin: admin, token: adminToken, client: client) }
                }
                let key = try await keys.secret(for: e.accountID, org: e.orgID)
                group.addTask { (e.accountID, try await Self.send(e, key: key, to: gateway, client: client)) }
                inFlight += 1
                sent += 1
                if sent % 2_000 == 0 {
                    bar.update(fraction: 0, detail: "\(Console.count(sent)) sent  \(Int(Double(sent) / Date().timeIntervalSince(started))) req/s")
                }
            }
            for try await (account, status) in group { tally.add(account: account, status: status, campaign: campaignOf[account]) }
        }
        if lockstep { try await Self.sync(admin: admin, token: adminToken, client: client) }
        bar.finish()
        let seconds = Date().timeIntervalSince(started)
        var request = HTTPClientRequest(url: admin + "/admin/report")
        request.headers.add(name: "authorization", value: "Bearer \(adminToken)")
        let response = try await client.execute(request, timeout: .seconds(120))
        let report = try await response.body.collect(upTo: 1 << 30)
        if let out { try Data(buffer: report).write(to: URL(fileURLWithPath: out)) }
        try await client.shutdown()
        print(String(format: "replayed %d exchanges in %.1f s (%.0f req/s)", sent, seconds, Double(sent) / seconds))
        print("group                  served    refused(403)  other   refused share")
        for (group, counts) in tally.byGroup.sorted(by: { $0.key < $1.key }) {
            let total = counts.served + counts.blocked + counts.other
            print(group.padding(toLength: 20, withPad: " ", startingAt: 0) + Console.count(counts.served).leftPad(10)
                  + Console.count(counts.blocked).leftPad(15) + Console.count(counts.other).leftPad(8)
                  + String(format: "%14.4f", Double(counts.blocked) / Double(max(total, 1))))
        }
        print("benign accounts refused at least once: \(tally.benignBlockedAccounts.count)")
    }

    /// Waits until the gateway's detection has taken in every exchange it logged (retrying while it resumes).
    static func sync(admin: String, token: String, client: HTTPClient) async throws {
        for _ in 0..<6_000 {
            var request = HTTPClientRequest(url: admin + "/admin/detection/sync")
            request.method = .POST
            request.headers.add(name: "authorization", value: "Bearer \(token)")
            let response = try await client.execute(request, timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 1 << 16)
            switch response.status.code {
            case 200..<300: return
            case 503: try await Task.sleep(for: .milliseconds(50))
            default:
                throw ValidationFailure(message: "--lockstep: the gateway refused POST /admin/detection/sync: HTTP \(response.status.code) "
                                        + String(buffer: body).prefix(300))
            }
        }
        throw ValidationFailure(message: "--lockstep: the gateway's detection was still resuming after 5 minutes")
    }

    static func send(_ e: Exchange, key: String, to gateway: String, client: HTTPClient) async throws -> Int {
        let anthropic = e.endpoint == "messages"
        var request = HTTPClientRequest(url: gateway + (anthropic ? "/v1/messages" : "/v1/chat/completions"))
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: anthropic ? "x-api-key" : "authorization", value: anthropic ? key : "Bearer \(key)")
        request.headers.add(name: "x-moat-event-time", value: e.ts.rfc3339)
        if let ua = e.client.userAgent { request.headers.add(name: "user-agent", value: ua) }
        if let tls = e.client.tlsFingerprint { request.headers.add(name: "x-ja4", value: tls) }
        if let ip = e.client.ip { request.headers.add(name: "x-forwarded-for", value: ip) }
        if let asn = e.client.asn { request.headers.add(name: "x-client-asn", value: String(asn)) }
        if let org = e.client.asnOrg { request.headers.add(name: "x-client-asn-org", value: org) }
        if let c = e.client.country { request.headers.add(name: "x-client-country", value: c) }
        var messages: [[String: Any]] = []
        if !anthropic, let system = e.systemPrompt { messages.append(["role": "system", "content": system]) }
        for _ in 0..<min(e.turn ?? 0, 20) {
            messages.append(["role": "user", "content": "(earlier turn)"])
            messages.append(["role": "assistant", "content": "(earlier answer)"])
        }
        messages.append(["role": "user", "content": e.prompt ?? "(no prompt text)"])
        var body: [String: Any] = ["model": e.model, "messages": messages, "max_tokens": min(e.maxTokens ?? 256, 256)]
        if let t = e.temperature { body["temperature"] = t }
        if let tools = e.tools, tools > 0 {
            body["tools"] = (0..<tools).map { i -> [String: Any] in
                anthropic ? ["name": "tool_\(i)", "input_schema": ["type": "object"]]
                    : ["type": "function", "function": ["name": "tool_\(i)", "parameters": ["type": "object"]]]
            }
        }
        if e.thinkingRequested == true {
            if anthropic { body["thinking"] = ["type": "enabled", "budget_tokens": 1024] } else { body["reasoning_effort"] = "medium" }
        }
        if anthropic, let system = e.systemPrompt { body["system"] = system }
        request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        let response = try await client.execute(request, timeout: .seconds(60))
        _ = try await response.body.collect(upTo: 16 << 20)
        return Int(response.status.code)
    }
}

/// Keys for replayed accounts, created once each through the admin API.
actor KeyBook {
    let admin: String
    let token: String
    let client: HTTPClient
    var secrets: [String: String] = [:]

    init(admin: String, token: String, client: HTTPClient) {
        self.admin = admin
        self.token = token
        self.client = client
    }

    func secret(for account: String, org: String?) async throws -> String {
        if let s = secrets[account] { return s }
        var request = HTTPClientRequest(url: admin + "/admin/keys")
        request.method = .POST
        request.headers.add(name: "authorization", value: "Bearer \(token)")
        request.headers.add(name: "content-type", value: "application/json")
        var body: [String: String] = ["account": account]
        if let org { body["org"] = org }
        request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
        let response = try await client.execute(request, timeout: .seconds(30))
        let data = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok, let object = try JSONSerialization.jsonObject(with: Data(buffer: data)) as? [String: Any],
              let secret = object["secret"] as? String else {
            throw ValidationFailure(message: "admin API refused to create a key for \(account): HTTP \(response.status.code)")
        }
        secrets[account] = secret
        return secret
    }
}

struct Tally {
    struct Counts { var served = 0, blocked = 0, other = 0 }
    var byGroup: [String: Counts] = [:]
    var benignBlockedAccounts: Set<String> = []

    mutating func add(account: String, status: Int, campaign: String?) {
        let group = campaign ?? "benign"
        var c = byGroup[group] ?? Counts()
        switch status {
        case 200: c.served += 1
        case 403:
            c.blocked += 1
            if campaign == nil { benignBlockedAccounts.insert(account) }
        default: c.other += 1
        }
        byGroup[group] = c
    }
}
