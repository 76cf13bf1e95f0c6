import ArgumentParser
import Foundation
import MoatCore
import MoatDetect
import MoatIntel

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Replay an exchange log and report campaigns and flagged accounts, in event time.",
        discussion: """
            Reads the exchange log (contract section 1; `-` for standard input) and the optional accounts file \
            (section 2), replays them through the detection engine in time order, writes the report \
            (section 4) and prints a summary. Stops at the first invalid line unless --skip-invalid is given. \
            With --intel, peers' indicators (a store filled by `moat intel pull`/`import`, or a STIX bundle) feed \
            the engine: an account that matches one gets it as evidence when its sign-up or traffic matches, \
            weighted by the peer's confidence and named in its reasons; keyed hashes match with the trust \
            group's key (--intel-config); indicators count only inside their validity.
            """
    )

    @Argument(help: "Exchange log (JSON Lines), or - for standard input.")
    var exchanges: String

    @Option(help: "Accounts file (JSON Lines).")
    var accounts: String?

    @Option(help: "Where to write the report JSON (- for standard output).")
    var out: String

    @Flag(help: "Skip and count invalid lines instead of stopping.")
    var skipInvalid = false

    @Flag(help: "Do not print the summary table.")
    var quiet = false

    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Override one of the engine's tunables, e.g. --set campaignMeanScore=0.6 (repeatable; see DetectionConfig.swift).",
        valueName: "name=value"))
    var settings: [String] = []

    @Option(help: ArgumentHelp(
        "Peers' indicators: a store (`moat intel pull`/`import`) or a STIX 2.1 bundle (repeatable).", valueName: "store-or-bundle"))
    var intel: [String] = []

    @Option(help: ArgumentHelp("Intel configuration (YAML) whose trust-group keys match keyed hashes.", valueName: "config"))
    var intelConfig: String?

    func validate() throws {
        _ = try config()
        if intelConfig != nil, intel.isEmpty { throw ValidationError("--intel-config needs --intel") }
    }

    func config() throws -> DetectionConfig {
        var config = DetectionConfig()
        for s in settings {
            do { try config.set(s) } catch { throw ValidationError(error.description) }
        }
        return config
    }

    func run() throws {
        let started = Date()
        do {
            let identities = try accounts.map { path throws(ContractError) in try readAccounts(path: path, skipInvalid: skipInvalid) } ?? []
            let detection = try config()
            let feed = try intel.isEmpty ? nil : PeerIntel.feed(sources: intel, config: intelConfig, accounts: identities, detection: detection)
            // Detection never reads answers' text; peers' matchers may (they get whole exchanges).
            let reader = try ExchangeReader(path: exchanges, skipInvalid: skipInvalid, fields: feed == nil ? .withoutResponse : .all)
            let size = exchanges == "-" ? 0 : ((try? FileManager.default.attributesOfItem(atPath: exchanges)[.size] as? Int64) ?? 0)
            let bar = ProgressBar(label: "detect")
            let report = try Replay.run(reader, accounts: identities, config: detection, progress: { n, bytes in
                bar.update(fraction: size > 0 ? Double(bytes) / Double(size) : 0,
                           detail: "\(Console.count(n)) exchanges  \(Console.bytes(bytes))")
            }, peers: feed.map { box in { e in e.map { box.value.evidence(after: $0) } ?? box.value.remaining() } })
            bar.finish()
            if let feed {
                let residential = feed.value.residentialNotWeighed
                Console.error("intel: \(feed.value.matcher.indicators.count) indicator(s); \(feed.value.given) match(es) given to the engine as evidence, on \(feed.value.accounts.count) account(s)"
                              + (residential > 0 ? "; \(residential) match(es) of a network range by residential traffic not weighed" : ""))
            }
            try ReportOutput.write(report, to: out)
            for e in reader.firstErrors { Console.error("skipped: \(e)") }
            if !quiet, out != "-" {
                print(ReportOutput.table(report))
                print(String(format: "\nreport written to %@ in %.1f s", out, Date().timeIntervalSince(started)))
            }
        } catch let error as ContractError {
            throw ValidationFailure(message: error.description)
        }
    }
}

/// A one-line error for the user, exit code 1.
struct ValidationFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
