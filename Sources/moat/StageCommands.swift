import ArgumentParser
import Foundation
import MoatCore
import MoatDetect

/// `moat stage1`, `moat stage2`, `moat stage3`: the staged engine, one command per stage, so that Spark (or
/// any other runner) can call them. `moat detect` runs the same code in one process.
struct StageOptions: ParsableArguments {
    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Override an engine tunable, as for `moat detect` (repeatable; give the same to every stage).", valueName: "name=value"))
    var settings: [String] = []

    func config() throws -> DetectionConfig {
        var config = DetectionConfig()
        for s in settings {
            do { try config.set(s) } catch { throw ValidationError(error.description) }
        }
        return config
    }
}

/// The files of a staged output: a file, or a directory's visible files (Spark's `part-*`) in name order.
enum StagedFiles {
    static func expand(_ paths: [String]) -> [String] {
        var out: [String] = []
        for p in paths {
            var isDir: ObjCBool = false
            if p != "-", FileManager.default.fileExists(atPath: p, isDirectory: &isDir), isDir.boolValue {
                let names = ((try? FileManager.default.contentsOfDirectory(atPath: p)) ?? [])
                    .filter { !$0.hasPrefix(".") && !$0.hasPrefix("_") }.sorted()
                out += names.map { p + "/" + $0 }
            } else {
                out.append(p)
            }
        }
        return out
    }

    /// Calls `body` with every line of the files, in order.
    static func forEachLine(_ paths: [String], _ body: (ArraySlice<UInt8>) throws -> Void) throws {
        for path in expand(paths) {
            let reader = try LineReader(path: path)
            while let line = try reader.nextLine() {
                if line.isEmpty { continue }
                do { try body(ArraySlice(line)) } catch let error as StagedRowError {
                    throw ValidationFailure(message: "\(path):\(reader.lineNumber): \(error)")
                }
            }
        }
    }
}

struct Stage1Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage1",
        abstract: "Staged engine, stage 1: digest exchange log lines into staged lines (per partition, any order).",
        discussion: """
            Reads exchange logs (JSON Lines, contract section 1; `-` for standard input) with Moat's own reader and \
            writes one tab-separated line per exchange (`E`: the fields detection reads, text features, template \
            keys, shape, system-prompt hash), each system-prompt signature once (`S`), the invalid-line count (`I`) \
            and postings per account and shared value (`P`). See StagedRow.swift for the format.
            """
    )

    @Argument(help: "Exchange logs (JSON Lines), or - for standard input.")
    var inputs: [String] = ["-"]

    @Option(help: "Where to write the staged lines (- for standard output).")
    var out = "-"

    @Flag(help: "Skip and count invalid lines instead of stopping.")
    var skipInvalid = false

    @Flag(help: "Do not emit postings (P lines).")
    var noPostings = false

    @OptionGroup var stage: StageOptions

    func run() throws {
        let config = try stage.config()
        do {
            let sink = try LineSink(path: out)
            var writer = Stage1.Writer(config: config, postings: !noPostings)
            var invalid = 0
            var firstError: String?
            for path in inputs {
                let reader = try ExchangeReader(path: path, skipInvalid: skipInvalid, fields: .withoutResponse)
                while let e = try reader.next() { writer.add(e) { sink.write($0) } }
                invalid += reader.invalidLines
                if firstError == nil { firstError = reader.firstErrors.first?.description }
            }
            writer.finish(invalidLines: invalid, firstError: firstError) { sink.write($0) }
            sink.close()
        } catch {
            throw ValidationFailure(message: error.description)
        }
    }
}

struct Stage2Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage2",
        abstract: "Staged engine, stage 2 in one process: order stage 1's exchange lines in event time.",
        discussion: """
            What the Spark driver does in Spark SQL, for one machine and for tests: reads stage 1's output \
            (files or directories), writes the `E` lines ordered by (event time, exchange id, line) to \
            <out-dir>/exchanges, and the signature dictionary and invalid-line counts to <out-dir>/side.
            """
    )

    @Argument(help: "Stage 1 output files or directories.")
    var inputs: [String]

    @Option(help: "Directory for `exchanges` and `side`.")
    var outDir: String

    func run() throws {
        var exchanges: [ArraySlice<UInt8>] = []
        var signatures = Set<ArraySlice<UInt8>>()
        var invalid: [ArraySlice<UInt8>] = []
        try StagedFiles.forEachLine(inputs) { line in
            switch line.first {
            case UInt8(ascii: "E"): exchanges.append(ArraySlice(Array(line)))
            case UInt8(ascii: "S"): signatures.insert(ArraySlice(Array(line)))
            case UInt8(ascii: "I"): invalid.append(ArraySlice(Array(line)))
            default: break
            }
        }
        exchanges.sort(by: Stage2.less)
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        let e = try LineSink(path: outDir + "/exchanges")
        for line in exchanges { e.write(Array(line) + [10]) }
        e.close()
        let s = try LineSink(path: outDir + "/side")
        for line in signatures.sorted(by: { $0.lexicographicallyPrecedes($1) }) + invalid { s.write(Array(line) + [10]) }
        s.close()
    }
}

struct Stage3Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stage3",
        abstract: "Staged engine, stage 3: the engine's core over ordered exchange lines; writes the report.",
        discussion: """
            Reads the side lines (signature dictionary, invalid-line counts; any order), then the exchange lines in \
            stage 2's order (files, or directories of part files in name order), replays them through the detection \
            engine with the accounts file, and writes the same report as `moat detect`.
            """
    )

    @Option(parsing: .upToNextOption, help: "Side files or directories (S and I lines).")
    var side: [String] = []

    @Option(parsing: .upToNextOption, help: "Ordered exchange-line files or directories (E lines).")
    var exchanges: [String]

    @Option(help: "Accounts file (JSON Lines).")
    var accounts: String?

    @Option(help: "Where to write the report JSON (- for standard output).")
    var out: String

    @Flag(help: "Skip and count invalid lines of the accounts file instead of stopping.")
    var skipInvalid = false

    @Flag(help: "Do not print the summary table.")
    var quiet = false

    @OptionGroup var stage: StageOptions

    func run() throws {
        let started = Date()
        let identities: [Account]
        do {
            identities = try accounts.map { path throws(ContractError) in try readAccounts(path: path, skipInvalid: skipInvalid) } ?? []
        } catch {
            throw ValidationFailure(message: error.description)
        }
        var stage3 = Stage3(config: try stage.config(), accounts: identities)
        try StagedFiles.forEachLine(side) { try stage3.addSideLine($0) }
        try StagedFiles.forEachLine(exchanges) { try stage3.addExchangeLine($0) }
        let report = stage3.report()
        try ReportOutput.write(report, to: out)
        for e in stage3.firstErrors { Console.error("skipped: \(e)") }
        if !quiet, out != "-" {
            print(ReportOutput.table(report))
            print(String(format: "\nreport written to %@ in %.1f s", out, Date().timeIntervalSince(started)))
        }
    }
}
