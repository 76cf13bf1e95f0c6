import ArgumentParser
import AsyncHTTPClient
import Foundation
import MoatCore
import MoatProvenance
import NIOCore

struct ProvenanceProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Ask a suspect model through its API, save its answers, and test them for the mark.",
        discussion: """
            Sends each probe prompt (--samples times) to the suspect's OpenAI chat-completions or Anthropic \
            messages API, writes {"prompt", "text", "model"} per answer to --out (JSON Lines), then scores the \
            answers exactly as `moat provenance score --key-env VAR [--campaign ID] OUT` does (the probe \
            prompts are the prompts: units whose class they contain are excluded). Prompts: JSON Lines with a \
            `prompt` (or `text`) field, or plain text with one prompt per line. Failed requests are counted \
            and reported; the command fails only if no request succeeds.
            """
    )

    enum API: String, ExpressibleByArgument, CaseIterable {
        case openai, anthropic
    }

    @Option(help: ArgumentHelp("The suspect API's base URL (e.g. https://api.example.com or http://127.0.0.1:9100/v1).", valueName: "URL"))
    var suspect: String

    @Option(help: "Which API it speaks: openai or anthropic.")
    var api: API

    @Option(help: ArgumentHelp("The suspect model's name.", valueName: "M"))
    var model: String

    @Option(help: ArgumentHelp("Probe prompts: JSON Lines with `prompt`, or one prompt per line.", valueName: "FILE"))
    var prompts: String

    @OptionGroup var keyOptions: FingerprintKeyOptions

    @Option(help: ArgumentHelp("Where to save the answers (JSON Lines).", valueName: "samples.jsonl"))
    var out: String

    @Option(name: .customLong("api-key-env"), help: ArgumentHelp("Environment variable with the suspect API's key, if it needs one.", valueName: "VAR"))
    var apiKeyEnv: String?

    @Option(help: "Answers to ask for per prompt.")
    var samples = 1

    @Option(name: .customLong("max-tokens"), help: "max_tokens of each request.")
    var maxTokens = 512

    @Option(help: "Sampling temperature (default: the API's).")
    var temperature: Double?

    @Option(help: "Requests in flight.")
    var concurrency = 4

    @Option(help: "Seconds to wait for one answer.")
    var timeout = 120

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    func validate() throws {
        guard let url = URL(string: suspect), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw ValidationError("--suspect must be an http(s) URL")
        }
        if samples < 1 { throw ValidationError("--samples must be at least 1") }
        if maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
        if !(1...256).contains(concurrency) { throw ValidationError("--concurrency must be 1...256") }
        if timeout < 1 { throw ValidationError("--timeout must be at least 1") }
    }

    func run() async throws {
        let key = try keyOptions.key()
        let probePrompts = try Self.readPrompts(prompts)
        guard !probePrompts.isEmpty else { throw ValidationFailure(message: "\(prompts): no prompts") }
        var apiKey: String?
        if let apiKeyEnv {
            guard let value = ProcessInfo.processInfo.environment[apiKeyEnv], !value.isEmpty else {
                throw ValidationFailure(message: "environment variable \(apiKeyEnv) is not set")
            }
            apiKey = value
        }
        let sink: LineSink
        do {
            sink = try LineSink(path: out)
        } catch {
            throw ValidationFailure(message: error.description)
        }
        let client = ProbeClient(base: suspect, api: api, model: model, apiKey: apiKey, maxTokens: maxTokens,
                                 temperature: temperature, timeout: .seconds(Int64(timeout)))
        let jobs = probePrompts.flatMap { p in Array(repeating: p, count: samples) }
        let bar = ProgressBar(label: "probe")
        var answers: [(prompt: String, text: String)] = []
        var failures: [String: Int] = [:]
        try await withThrowingTaskGroup(of: (String, Result<String, ProbeClient.Failure>).self) { group in
            var next = 0
            var done = 0
            func record(_ prompt: String, _ result: Result<String, ProbeClient.Failure>) {
                done += 1
                switch result {
                case .success(let text):
                    answers.append((prompt, text))
                    var j = JSONBuffer(capacity: text.utf8.count + prompt.utf8.count + 64)
                    j.beginObject()
                    j.key("prompt"); j.string(prompt)
                    j.key("text"); j.string(text)
                    j.key("model"); j.string(model)
                    j.endObject()
                    j.newline()
                    sink.write(j.bytes)
                case .failure(let f):
                    failures[f.message, default: 0] += 1
                }
                bar.update(fraction: Double(done) / Double(jobs.count), detail: "\(done)/\(jobs.count) answers, \(failures.values.reduce(0, +)) failed")
            }
            while next < jobs.count || !group.isEmpty {
                while next < jobs.count && next - done < concurrency {
                    let prompt = jobs[next]
                    next += 1
                    group.addTask { (prompt, await client.ask(prompt)) }
                }
                if let (prompt, result) = try await group.next() { record(prompt, result) }
            }
        }
        bar.finish()
        sink.close()
        try await client.shutdown()
        let failed = failures.values.reduce(0, +)
        if failed > 0 {
            Console.error("moat provenance probe: \(failed) of \(jobs.count) request(s) failed:")
            for (message, n) in failures.sorted(by: { $0.value > $1.value }).prefix(5) { Console.error("  \(n)× \(message)") }
        }
        guard !answers.isEmpty else { throw ValidationFailure(message: "no answer from \(suspect): every request failed") }

        var scorer = ProvenanceScorer(scheme: keyOptions.scheme)
        for a in answers { scorer.add(a.text, prompt: FingerprintPrompt(a.prompt)) }
        let score = scorer.score(key: key)
        if json {
            print(String(decoding: score.json(), as: UTF8.self))
        } else {
            print("suspect:            \(suspect) (\(api.rawValue), model \(model))")
            print("answers:            \(answers.count) of \(jobs.count) requests, saved to \(out)")
            print(score.table)
        }
    }

    static func readPrompts(_ path: String) throws -> [String] {
        let (texts, _, jsonLines) = try ProvenanceTexts.read(path, fields: JSONLineFields(["prompt", "text"]))
        if jsonLines { return texts.map(\.text) }
        return texts.first.map { $0.text.split(separator: "\n").map { String($0) }.filter { !$0.allSatisfy(\.isWhitespace) } } ?? []
    }
}

/// Sends one prompt to an OpenAI- or Anthropic-compatible API and returns the answer's text.
struct ProbeClient: Sendable {
    struct Failure: Error {
        var message: String
    }

    let url: String
    let api: ProvenanceProbeCommand.API
    let model: String
    let apiKey: String?
    let maxTokens: Int
    let temperature: Double?
    let timeout: TimeAmount
    let http: HTTPClient

    init(base: String, api: ProvenanceProbeCommand.API, model: String, apiKey: String?, maxTokens: Int,
         temperature: Double?, timeout: TimeAmount) {
        var base = base
        while base.hasSuffix("/") { base.removeLast() }
        if !base.hasSuffix("/v1") { base += "/v1" }
        url = base + (api == .openai ? "/chat/completions" : "/messages")
        self.api = api
        self.model = model
        self.apiKey = apiKey
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.timeout = timeout
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(min(10, max(1, timeout.nanoseconds / 1_000_000_000))))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func shutdown() async throws { try await http.shutdown() }

    func ask(_ prompt: String) async -> Result<String, Failure> {
        var body: [String: Any] = ["model": model, "max_tokens": maxTokens,
                                   "messages": [["role": "user", "content": prompt]]]
        if let temperature { body["temperature"] = temperature }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "moat-provenance-probe")
        switch api {
        case .openai:
            if let apiKey { request.headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        case .anthropic:
            request.headers.add(name: "anthropic-version", value: "2023-06-01")
            if let apiKey { request.headers.add(name: "x-api-key", value: apiKey) }
        }
        do {
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: body)))
            let response = try await http.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: 32 << 20)
            guard response.status.code == 200 else {
                return .failure(Failure(message: "HTTP \(response.status.code)"))
            }
            guard let object = try JSONSerialization.jsonObject(with: Data(buffer: bytes)) as? [String: Any] else {
                return .failure(Failure(message: "the answer is not a JSON object"))
            }
            guard let text = Self.text(of: object, api: api) else {
                return .failure(Failure(message: "the answer has no text (\(api == .openai ? "choices[0].message.content" : "content[].text"))"))
            }
            return .success(text)
        } catch {
            return .failure(Failure(message: "\(error)"))
        }
    }

    /// The visible text of an answer: the first choice's message content (OpenAI), or the text blocks
    /// joined (Anthropic; thinking and tool-use blocks are not text).
    static func text(of object: [String: Any], api: ProvenanceProbeCommand.API) -> String? {
        switch api {
        case .openai:
            guard let choices = object["choices"] as? [[String: Any]], let message = choices.first?["message"] as? [String: Any] else { return nil }
            if let s = message["content"] as? String { return s }
            if let parts = message["content"] as? [[String: Any]] { return parts.compactMap { $0["text"] as? String }.joined() }
            return nil
        case .anthropic:
            guard let blocks = object["content"] as? [[String: Any]] else { return nil }
            let texts = blocks.filter { $0["type"] as? String == "text" }.compactMap { $0["text"] as? String }
            return texts.isEmpty ? nil : texts.joined(separator: "\n\n")
        }
    }
}
