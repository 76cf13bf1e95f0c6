import Foundation
import MoatCore
import MoatDetect
import MoatEvaluate
import MoatSimulate

/// A small simulated world (smoke, built-in corpus), generated once and shared by the tests.
struct ScenarioFixture: Sendable {
    let directory: String
    let accounts: [Account]
    let labels: [CampaignLabel]
    let report: Report

    var exchangesPath: String { directory + "/exchanges.jsonl" }

    static let shared: ScenarioFixture = {
        do { return try make(seed: 1) } catch { fatalError("fixture: \(error)") }
    }()

    static func make(seed: UInt64, configure: (inout ScenarioParameters) -> Void = { _ in }) throws -> ScenarioFixture {
        var p = ScenarioParameters.named("smoke", days: 2)!
        configure(&p)
        let dir = NSTemporaryDirectory() + "moat-detect-\(seed)-\(UUID().uuidString)"
        _ = try Simulator(parameters: p, seed: seed, corpus: Corpus.builtin()).run(to: dir)
        let accounts = try readAccounts(path: dir + "/accounts.jsonl")
        let labels = try readLabels(path: dir + "/labels.jsonl")
        let report = try Replay.run(try ExchangeReader(path: dir + "/exchanges.jsonl"), accounts: accounts)
        return ScenarioFixture(directory: dir, accounts: accounts, labels: labels, report: report)
    }

    func evaluation(of report: Report) throws -> Evaluation {
        let reader = try ExchangeReader(path: exchangesPath, fields: .withoutText)
        var pairs: [(account: String, ts: Timestamp)] = []
        while let e = try reader.next() { pairs.append((e.accountID, e.ts)) }
        return try Evaluation.evaluate(labels: labels, report: report, exchanges: pairs)
    }

    func lines() throws -> [String] {
        try String(contentsOfFile: exchangesPath, encoding: .utf8).split(separator: "\n").map(String.init)
    }
}
