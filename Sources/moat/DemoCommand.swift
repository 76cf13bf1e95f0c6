import ArgumentParser
import Foundation
import MoatCore
import MoatDetect
import MoatEvaluate
import MoatReport
import MoatSimulate

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Simulate traffic with known campaigns, detect them, and score the result.",
        discussion: """
            Runs the whole job on an embedded default with nothing to set up: simulates the smoke scenario \
            (or --scenario standard), replays it through the detection engine, prints the campaigns found \
            and scores the report against the simulator's ground truth, and writes the HTML campaign report of the \
            run (as `moat report` does) and prints where it is.
            """
    )

    @Option(help: "Scenario to simulate: smoke or standard.")
    var scenario: String = "smoke"

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "Keep the generated files and the report in this directory (default: a temporary one).")
    var out: String?

    @Option(help: "Where to write the HTML campaign report (default: DIR/campaign.html with --out, else ./moat-demo-report.html).")
    var html: String?

    func validate() throws {
        guard ["smoke", "standard"].contains(scenario) else {
            throw ValidationError("the demo runs 'smoke' or 'standard'; use `moat simulate` for others")
        }
    }

    func run() throws {
        let dir = out ?? (NSTemporaryDirectory() + "moat-demo-\(ProcessInfo.processInfo.processIdentifier)")
        defer { if out == nil { try? FileManager.default.removeItem(atPath: dir) } }
        guard let parameters = ScenarioParameters.named(scenario) else { return }
        let corpus = try Corpus.load(directory: Corpus.defaultDirectory(),
                                     limits: CorpusLimits(promptChars: parameters.promptChars, responseChars: parameters.responseChars))
        print("1. Simulating '\(scenario)' (seed \(seed), \(parameters.days) days; text: \(corpus.source))")
        let simBar = ProgressBar(label: "   simulate")
        let sim = try Simulator(parameters: parameters, seed: seed, corpus: corpus).run(to: dir) { p in
            simBar.update(fraction: Double(p.day) / Double(p.days), detail: "\(Console.count(p.exchanges)) exchanges")
        }
        simBar.finish()
        print("   \(Console.count(sim.exchanges)) exchanges from \(Console.count(sim.accounts)) accounts; \(sim.campaignAccounts) accounts belong to 3 hidden campaigns\n")

        print("2. Detecting (event-time replay of \(dir)/exchanges.jsonl)")
        let started = Date()
        let accounts = try readAccounts(path: dir + "/accounts.jsonl")
        let reader = try ExchangeReader(path: dir + "/exchanges.jsonl")
        let detectBar = ProgressBar(label: "   detect")
        let report = try Replay.run(reader, accounts: accounts) { n, _ in
            detectBar.update(fraction: Double(n) / Double(max(sim.exchanges, 1)), detail: "\(Console.count(n)) exchanges")
        }
        detectBar.finish()
        try ReportOutput.write(report, to: dir + "/report.json")
        let seconds = Date().timeIntervalSince(started)
        print(ReportOutput.table(report, maxCampaigns: 5).split(separator: "\n", omittingEmptySubsequences: false)
            .map { "   " + $0 }.joined(separator: "\n"))
        print(String(format: "   (%.1f s, %.0f exchanges/s)\n", seconds, Double(sim.exchanges) / max(seconds, 1e-9)))

        print("3. Scoring against the ground truth (contract section 6)")
        let (evaluation, _) = try EvaluationFiles.evaluate(labelsPath: dir + "/labels.jsonl", reportPath: dir + "/report.json",
                                                           exchangesPath: dir + "/exchanges.jsonl")
        print(evaluation.table(maxFalsePositives: 10).split(separator: "\n", omittingEmptySubsequences: false)
            .map { "   " + $0 }.joined(separator: "\n"))

        print("\n4. Writing the campaign report for legal and policy readers (`moat report`)")
        let htmlPath = html ?? (out.map { ($0 as NSString).appendingPathComponent("campaign.html") } ?? "moat-demo-report.html")
        let reportStarted = Date()
        let written = try CampaignReportFile.write(report: report, reportPath: dir + "/report.json",
                                                   exchangesPath: dir + "/exchanges.jsonl", accounts: accounts,
                                                   accountsPath: dir + "/accounts.jsonl", to: htmlPath, progressLabel: "   report")
        let absolute = URL(fileURLWithPath: htmlPath).standardizedFileURL.path
        print(String(format: "   %@ (%@, %.1f s): open it in a browser, or print it with `moat report ... --pdf`", absolute,
                     Console.bytes(Int64(written.bytes)), Date().timeIntervalSince(reportStarted)))
        if out != nil { print("\nFiles and report kept in \(dir)") }
    }
}
