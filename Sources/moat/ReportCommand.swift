import ArgumentParser
import Foundation
import MoatCore
import MoatEvaluate
import MoatReport

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the campaign report for legal and policy readers: one self-contained HTML file, and a PDF.",
        discussion: """
            Reads a detection report (contract section 4), streams the exchange log it came from (section 1) and the \
            optional accounts file (section 2), and writes one HTML file that needs no network: a summary, then per \
            campaign its timeline, sign-up waves, model pivot, capability mix, infrastructure, evidence, \
            countermeasures (for a gateway's log) and accounts, and a methodology appendix. --pdf prints it with \
            headless Chromium ($MOAT_CHROMIUM, or chromium on PATH).
            """
    )

    @Option(help: "Detection report (JSON) written by `moat detect` or the gateway.")
    var report: String

    @Option(help: "The exchange log (JSON Lines) the report was built from, or - for standard input.")
    var exchanges: String

    @Option(help: "Accounts file (JSON Lines), for sign-up waves and payment clusters.")
    var accounts: String?

    @Option(help: "Where to write the HTML report.")
    var out: String

    @Option(help: "Also print the report to this PDF with headless Chromium.")
    var pdf: String?

    @Option(help: "Chromium executable for --pdf (default: $MOAT_CHROMIUM, then chromium, chromium-browser, google-chrome on PATH).")
    var chromium: String?

    @Flag(help: "Skip and count invalid lines of the log instead of stopping.")
    var skipInvalid = false

    func validate() throws {
        if let pdf, pdf == out { throw ValidationError("--pdf and --out must be different files") }
    }

    func run() throws {
        let started = Date()
        do {
            let parsed = try EvaluationFiles.readReport(path: report)
            let identities = try accounts.map { path throws(ContractError) in try readAccounts(path: path, skipInvalid: skipInvalid) } ?? []
            let written = try CampaignReportFile.write(report: parsed, reportPath: report, exchangesPath: exchanges,
                                                       accounts: identities, accountsPath: accounts, to: out,
                                                       skipInvalid: skipInvalid, progressLabel: "report")
            print("campaign report written to \(out) (\(Console.bytes(Int64(written.bytes))), \(Console.count(written.exchanges)) exchanges read, \(String(format: "%.1f s", Date().timeIntervalSince(started))))")
            for e in written.skipped { Console.error("skipped: \(e)") }
        } catch let error as ContractError {
            throw ValidationFailure(message: error.description)
        }
        if let pdf {
            let t0 = Date()
            try ChromiumPDF.print(htmlPath: out, to: pdf, chromium: chromium)
            let size = (try? FileManager.default.attributesOfItem(atPath: pdf)[.size] as? Int64) ?? 0
            print("PDF written to \(pdf) (\(Console.bytes(size)), \(String(format: "%.1f s", Date().timeIntervalSince(t0))))")
        }
    }
}
