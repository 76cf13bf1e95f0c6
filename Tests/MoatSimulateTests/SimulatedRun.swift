import Foundation
import MoatCore
@testable import MoatSimulate

/// One exchange line, parsed with Foundation's JSON parser (independent of Moat's own reader).
struct ParsedExchange: Sendable {
    var line: Int
    var id: String
    var ts: Timestamp
    var accountID: String
    var model: String
    var inputTokens: Int
    var outputTokens: Int
    var systemPrompt: String?
    var prompt: String?
    var temperature: Double?
    var ip: String?
}

struct ParsedAccount: Sendable {
    var accountID: String
    var label: String?
    var orgID: String?
    var emailDomain: String?
    var paymentFingerprint: String?
    var program: String?
}

struct ParsedLabel: Sendable {
    var accountID: String
    var campaign: String
}

/// A simulation written to a temporary directory and read back, with every contract violation
/// found while reading collected in `problems` (so a test can report them all at once).
struct SimulatedRun: Sendable {
    var directory: URL
    var summary: SimulationSummary
    var exchanges: [ParsedExchange] = []
    var accounts: [ParsedAccount] = []
    var labels: [ParsedLabel] = []
    var problems: [String] = []
    /// Account id -> archetype, from the simulator's own population (ground truth for the tests).
    var archetypes: [String: Archetype] = [:]

    static let exchangesFile = "exchanges.jsonl"
    static let accountsFile = "accounts.jsonl"
    static let labelsFile = "labels.jsonl"

    /// Runs the simulator on the built-in corpus and parses the three files.
    static func generate(_ parameters: ScenarioParameters, seed: UInt64, parse: Bool = true) throws -> SimulatedRun {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("moat-sim-test-\(UUID().uuidString)")
        let simulator = Simulator(parameters: parameters, seed: seed, corpus: Corpus.builtin())
        let summary = try simulator.run(to: directory.path)
        var run = SimulatedRun(directory: directory, summary: summary)
        for account in simulator.population.accounts { run.archetypes[account.id] = account.archetype }
        if parse { try run.parseFiles() }
        return run
    }

    func url(_ file: String) -> URL { directory.appendingPathComponent(file) }

    func bytes(_ file: String) throws -> Data { try Data(contentsOf: url(file)) }

    /// Non-empty lines of a file, numbered from 1.
    func lines(_ file: String) throws -> [(Int, Data)] {
        let data = try bytes(file)
        var result: [(Int, Data)] = []
        var number = 0
        for slice in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            if !slice.isEmpty { result.append((number, Data(slice))) }
        }
        return result
    }

    mutating func parseFiles() throws {
        for (n, line) in try lines(Self.exchangesFile) {
            guard let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any] else {
                problems.append("exchanges.jsonl:\(n): not a JSON object"); continue
            }
            let loc = "exchanges.jsonl:\(n)"
            guard let id = object["id"] as? String, !id.isEmpty else { problems.append("\(loc): id"); continue }
            guard let text = object["ts"] as? String, let ts = Timestamp(rfc3339: text) else {
                problems.append("\(loc): ts"); continue
            }
            guard let account = object["account_id"] as? String, !account.isEmpty else {
                problems.append("\(loc): account_id"); continue
            }
            guard let model = object["model"] as? String, !model.isEmpty else { problems.append("\(loc): model"); continue }
            guard let input = Self.integer(object["input_tokens"]), input >= 0 else {
                problems.append("\(loc): input_tokens"); continue
            }
            guard let output = Self.integer(object["output_tokens"]), output >= 0 else {
                problems.append("\(loc): output_tokens"); continue
            }
            exchanges.append(ParsedExchange(line: n, id: id, ts: ts, accountID: account, model: model,
                                            inputTokens: input, outputTokens: output,
                                            systemPrompt: object["system_prompt"] as? String,
                                            prompt: object["prompt"] as? String,
                                            temperature: (object["temperature"] as? NSNumber)?.doubleValue,
                                            ip: (object["client"] as? [String: Any])?["ip"] as? String))
        }
        for (n, line) in try lines(Self.accountsFile) {
            guard let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any],
                  let id = object["account_id"] as? String else {
                problems.append("accounts.jsonl:\(n): not an account"); continue
            }
            accounts.append(ParsedAccount(accountID: id, label: object["label"] as? String,
                                          orgID: object["org_id"] as? String,
                                          emailDomain: object["email_domain"] as? String,
                                          paymentFingerprint: object["payment_fingerprint"] as? String,
                                          program: object["program"] as? String))
        }
        for (n, line) in try lines(Self.labelsFile) {
            guard let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any],
                  let id = object["account_id"] as? String, let campaign = object["campaign"] as? String else {
                problems.append("labels.jsonl:\(n): not a label"); continue
            }
            labels.append(ParsedLabel(accountID: id, campaign: campaign))
        }
    }

    /// A JSON integer (not a fraction, not a boolean).
    static func integer(_ value: Any?) -> Int? {
        guard let number = value as? NSNumber, !(value is Bool) else { return nil }
        let double = number.doubleValue
        guard double == double.rounded(), abs(double) < 9e15 else { return nil }
        return number.intValue
    }

    func exchangeCounts() -> [String: Int] {
        var counts: [String: Int] = [:]
        for e in exchanges { counts[e.accountID, default: 0] += 1 }
        return counts
    }

    func accounts(of archetype: Archetype) -> [String] {
        archetypes.filter { $0.value == archetype }.map(\.key).sorted()
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// The run most tests share: the smoke scenario cut to two days (the release happens on day 1),
/// seed 1, built-in corpus. Generated once per test process.
enum Shared {
    static let smokeDays = 2
    static let seed: UInt64 = 1

    static func smokeParameters() -> ScenarioParameters {
        ScenarioParameters.named("smoke", days: smokeDays)!
    }

    static let smoke: Result<SimulatedRun, any Error> = Result {
        try SimulatedRun.generate(smokeParameters(), seed: seed)
    }

    static func run() throws -> SimulatedRun { try smoke.get() }
}

/// Account counts of a scenario, computed from its parameters without generating anything.
func accountCounts(_ p: ScenarioParameters) -> (total: Int, campaign: Int) {
    let campaign = p.hydra.accounts + p.cotHarvest.accounts + p.blend.accounts
    let benign = p.individuals.accounts + p.saas.accounts + p.evalHarness.accounts + p.agentic.accounts
        + p.classroom.accounts + p.enterprise.accounts
    return (benign + campaign, campaign)
}

func median(_ values: [Int]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return 0 }
    return s.count % 2 == 1 ? Double(s[s.count / 2]) : Double(s[s.count / 2 - 1] + s[s.count / 2]) / 2
}
