import ArgumentParser
import Foundation
import MoatCore
import MoatSimulate

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Generate realistic API traffic with known attack campaigns.",
        discussion: """
            Writes DIR/exchanges.jsonl, DIR/accounts.jsonl and DIR/labels.jsonl (contract sections 1-3). \
            The same seed gives the same bytes. Scenarios: smoke (seconds, for tests), standard (14 days, \
            >10,000 benign accounts, >1 M exchanges, three campaigns), industrial (44 days, the public case's \
            scale; shrink it with --scale). Text comes from ShareGPT and HumanEval when found in --corpus, \
            $MOAT_CORPUS or ./.corpus (see scripts/fetch-corpus.sh), else from a small built-in corpus.
            """
    )

    @Option(help: "Scenario: \(ScenarioParameters.names.joined(separator: ", ")).")
    var scenario: String = "smoke"

    @Option(help: "Random seed; the same seed gives the same output.")
    var seed: UInt64 = 1

    @Option(help: "Output directory.")
    var out: String

    @Option(help: "Multiply every account count (e.g. 0.25).")
    var scale: Double = 1

    @Option(help: "Number of simulated days (default: the scenario's).")
    var days: Int?

    @Option(help: "Wording of the campaigns' requests: \(PhraseBank.names.joined(separator: ", ")). Tune on one, measure on the others.")
    var phraseBank: String = "formal"

    @Option(help: ArgumentHelp("Only these campaign kinds, comma-separated (\(ScenarioParameters.campaignKinds.joined(separator: ", "))).",
                               valueName: "kinds"))
    var campaigns: String?

    @Option(help: "Directory with ShareGPT_V3_unfiltered_cleaned_split.json and HumanEval.jsonl.")
    var corpus: String?

    @Flag(help: "Use only the built-in corpus.")
    var builtinCorpus = false

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        guard ScenarioParameters.names.contains(scenario) else {
            throw ValidationError("unknown scenario '\(scenario)'; choose one of \(ScenarioParameters.names.joined(separator: ", "))")
        }
        guard scale > 0, scale.isFinite else { throw ValidationError("--scale must be a positive number") }
        if let days, days < 1 { throw ValidationError("--days must be at least 1") }
        guard PhraseBank.named(phraseBank) != nil else {
            throw ValidationError("unknown phrase bank '\(phraseBank)'; choose one of \(PhraseBank.names.joined(separator: ", "))")
        }
        for kind in campaignKinds ?? [] where !ScenarioParameters.campaignKinds.contains(kind) {
            throw ValidationError("unknown campaign kind '\(kind)'; choose from \(ScenarioParameters.campaignKinds.joined(separator: ", "))")
        }
    }

    var campaignKinds: Set<String>? {
        campaigns.map { Set($0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }) }
    }

    func run() throws {
        guard var parameters = ScenarioParameters.named(scenario, scale: scale, days: days) else {
            throw ValidationError("unknown scenario '\(scenario)'")
        }
        parameters.phraseBank = phraseBank
        if let kinds = campaignKinds { parameters.keepCampaigns(kinds) }
        let started = Date()
        var limits = CorpusLimits(promptChars: parameters.promptChars, responseChars: parameters.responseChars)
        if scenario == "smoke" { limits.maxConversations = 2_000 }
        let directory = builtinCorpus ? nil : (corpus ?? Corpus.defaultDirectory())
        let text = try Corpus.load(directory: directory, limits: limits)
        let simulator = Simulator(parameters: parameters, seed: seed, corpus: text)
        let bar = ProgressBar(label: "simulate \(scenario)")
        let summary = try simulator.run(to: out) { p in
            bar.update(fraction: Double(p.day) / Double(p.days),
                       detail: "day \(p.day)/\(p.days)  \(Console.count(p.exchanges)) exchanges  \(Console.bytes(p.bytes))")
        }
        bar.finish()
        let seconds = Date().timeIntervalSince(started)
        if json {
            let object: [String: Any] = [
                "scenario": summary.scenario, "seed": summary.seed, "days": summary.days, "exchanges": summary.exchanges,
                "accounts": summary.accounts, "campaign_accounts": summary.campaignAccounts,
                "campaign_exchanges": summary.campaignExchanges, "bytes": summary.bytes, "corpus": summary.corpus,
                "seconds": (seconds * 100).rounded() / 100, "exchanges_by_archetype": summary.exchangesByArchetype,
                "accounts_by_archetype": summary.accountsByArchetype,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("Simulated '\(summary.scenario)' (seed \(summary.seed), \(summary.days) days) into \(out) in \(String(format: "%.1f", seconds)) s")
        print("  text: \(summary.corpus)")
        print("  \(Console.count(summary.exchanges)) exchanges, \(Console.bytes(summary.bytes)); \(Console.count(summary.accounts)) accounts, \(Console.count(summary.campaignAccounts)) in campaigns (\(String(format: "%.1f", 100 * Double(summary.campaignAccounts) / Double(max(summary.accounts, 1))))%)")
        print("")
        print("  archetype        accounts   exchanges")
        for (name, accounts) in summary.accountsByArchetype.sorted(by: { $0.key < $1.key }) {
            let ex = summary.exchangesByArchetype[name] ?? 0
            print("  " + name.padding(toLength: 15, withPad: " ", startingAt: 0)
                  + Console.count(accounts).leftPad(10) + Console.count(ex).leftPad(12))
        }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
