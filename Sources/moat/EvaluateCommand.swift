import ArgumentParser
import Foundation
import MoatCore
import MoatEvaluate

struct EvaluateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score a detection report against the ground truth (contract section 6).",
        discussion: """
            Prints account recall, benign false-positive rate, account precision, leakage, campaign \
            completeness and purity, time to detect, and the false positives with the report's reasons. \
            Ratios with nothing to divide by are n/a (null in JSON). Exit status: 0 on success, 1 on bad \
            input, 2 when --bars is given and a bar fails.
            """
    )

    @Option(help: ArgumentHelp("Ground truth: labels.jsonl (contract section 3).", valueName: "labels"))
    var labels: String

    @Option(help: ArgumentHelp("Detection report JSON (contract section 4).", valueName: "report"))
    var report: String

    @Option(help: ArgumentHelp(
        "Exchange log (needed for leakage and time to detect). Default: exchanges.jsonl beside the labels; "
            + "when that file does not exist, evaluates without it.", valueName: "exchanges"))
    var exchanges: String?

    @Flag(help: "Print the figures as JSON on standard output instead of the table.")
    var json = false

    @Option(name: .customLong("json-out"), help: ArgumentHelp("Also write the JSON to this file.", valueName: "path"))
    var jsonOut: String?

    @Flag(help: "Skip exchange lines that break the contract instead of stopping (they are counted).")
    var skipInvalid = false

    @Flag(help: "Check the acceptance bars, print PASS/FAIL for each, exit 2 if any fails.")
    var bars = false

    func run() async throws {
        var exchangesPath = exchanges
        if exchangesPath == nil {
            let candidate = EvaluationFiles.defaultExchangesPath(forLabels: labels)
            if FileManager.default.fileExists(atPath: candidate) {
                exchangesPath = candidate
            } else {
                standardError("moat evaluate: no exchange log at \(candidate); leakage and time to detect are not measured")
            }
        }

        let evaluation: Evaluation
        let log: EvaluationFiles.LogStats?
        do {
            (evaluation, log) = try EvaluationFiles.evaluate(labelsPath: labels, reportPath: report,
                                                             exchangesPath: exchangesPath,
                                                             skipInvalidExchanges: skipInvalid)
        } catch {
            standardError("moat evaluate: \(error)")
            throw ExitCode.failure
        }
        if let log, log.invalidLines > 0 {
            standardError("moat evaluate: skipped \(log.invalidLines) invalid line(s) of \(log.path)")
        }

        if json || jsonOut != nil {
            let data = try EvaluationFiles.json(evaluation)
            if let jsonOut {
                do {
                    try data.write(to: URL(fileURLWithPath: jsonOut))
                } catch {
                    standardError("moat evaluate: \(jsonOut): cannot write: \(error.localizedDescription)")
                    throw ExitCode.failure
                }
            }
            if json { print(String(decoding: data, as: UTF8.self)) }
        }
        if !json {
            print("labels:    \(labels)")
            print("report:    \(report)")
            if let log {
                print("exchanges: \(log.path) (\(log.lines) lines, \(log.invalidLines) skipped)")
            } else {
                print("exchanges: not read")
            }
            print("")
            print(evaluation.table(), terminator: "")
        }

        if bars {
            let results = AcceptanceBars.standard.check(evaluation)
            let text = "Acceptance bars\n" + results.text
            // Keep standard output parseable JSON under --json.
            if json { standardError(text, newline: false) } else { print("\n" + text, terminator: "") }
            if results.contains(where: { !$0.passed }) { throw ExitCode(2) }
        }
    }
}

private func standardError(_ text: String, newline: Bool = true) {
    FileHandle.standardError.write(Data((newline ? text + "\n" : text).utf8))
}
