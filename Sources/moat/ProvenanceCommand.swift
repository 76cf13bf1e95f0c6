import ArgumentParser
import Foundation
import MoatCore
import MoatProvenance

struct ProvenanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provenance",
        abstract: "Capability fingerprinting: mark answers with a campaign's key, and test texts for the mark.",
        discussion: """
            The mark is a keyed choice between equivalent wordings ("do not"/"don't", "for example"/"for \
            instance", "organize"/"organise", ...), each decided by HMAC-SHA-256 of the campaign's key and \
            the word before it; code, JSON, tool calls, URLs, numbers, quotations and whatever the prompt \
            contains are never touched. `score` tests texts with an exact binomial test; `probe` asks a \
            suspect model and tests its answers. Keys: --key-env names the variable that holds the master \
            key; each campaign's key is derived from it and the campaign id (--campaign, default `default`).
            """,
        subcommands: [ProvenanceScoreCommand.self, ProvenanceProbeCommand.self, ProvenanceMarkCommand.self, Key.self, Lexicon.self,
                      ProvenanceBenchCommand.self, ProvenanceNullCommand.self]
    )

    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a campaign key's id (safe to share), or with --reveal the key itself.",
            discussion: """
                The id is what reports and the audit trail name. --reveal prints the campaign's key in hex, \
                for an outside expert to run `moat provenance score --campaign-key-env VAR` without the master key.
                """
        )

        @OptionGroup var keyOptions: FingerprintKeyOptions

        @Flag(help: "Also print the campaign key itself (hex). Anyone holding it can test and forge this campaign's mark.")
        var reveal = false

        func run() throws {
            let key = try keyOptions.key()
            print("key id:   \(key.id)")
            print("campaign: \(key.campaign ?? "(a campaign key given directly)")")
            print("scheme:   \(keyOptions.scheme.name)")
            if reveal { print("key:      \(key.hex)") }
        }
    }

    struct Lexicon: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the wording classes as JSON Lines ({\"class\", \"forms\", \"rule\"}).",
            shouldDisplay: false
        )

        func run() {
            for c in FingerprintLexiconInfo.classes {
                var j = JSONBuffer(capacity: 256)
                j.beginObject()
                j.key("class"); j.string(c.name)
                j.key("forms"); j.beginArray(); j.string(c.forms.0); j.string(c.forms.1); j.endArray()
                j.key("rule"); j.string(c.rule)
                j.endObject()
                print(String(decoding: j.bytes, as: UTF8.self))
            }
        }
    }
}

struct ProvenanceScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Test texts for a campaign's mark: units scored, units that follow the key, exact p-value.",
        discussion: """
            FILE is JSON Lines with a `text` field (or `response`, so an exchange log works as is) and \
            optional `prompt` and `system_prompt` fields, or else plain text (one text). Each distinct \
            (wording class, context) is one unit, scored once; a unit met in both wordings is a tie and is \
            not scored; units whose wording class appears in the text's prompt are excluded; units in code, \
            quotes and other text the marker leaves alone are scored too (a student does not learn where \
            those start and end). Without the \
            mark each unit follows the key with probability 1/2, so the p-value is the exact one-sided \
            binomial tail. Prints a table and a statement for a report, or with --json one object with \
            p_value, log10_p_value, units, green, green_share_ci95 (Clopper-Pearson), key_id and statement.
            """
    )

    @OptionGroup var keyOptions: FingerprintKeyOptions

    @Argument(help: "Texts to test (JSON Lines or plain text; - for standard input).")
    var file: String

    @Flag(help: "Print the result as one JSON object.")
    var json = false

    @Option(name: .customLong("units-out"), help: ArgumentHelp("Write every distinct unit (class, context, counts, key's form) as JSON Lines, for an audit.", valueName: "path"))
    var unitsOut: String?

    @Option(help: .hidden)
    var vote: String = ProvenanceScorer.Vote.unanimous.rawValue

    @Flag(name: .customLong("skip-protected"), help: .hidden)
    var skipProtected = false

    func validate() throws {
        if ProvenanceScorer.Vote(rawValue: vote) == nil { throw ValidationError("--vote must be first, majority or unanimous") }
    }

    func run() throws {
        let key = try keyOptions.key()
        if keyOptions.keyEnv != nil && keyOptions.campaign == nil && !json {
            Console.error("moat provenance score: no --campaign: testing the `default` campaign's key \(key.id)")
        }
        let (texts, skipped, _) = try ProvenanceTexts.read(file)
        if skipped > 0 { Console.error("moat provenance score: \(skipped) record(s) without text skipped") }
        var scorer = ProvenanceScorer(scheme: keyOptions.scheme, vote: ProvenanceScorer.Vote(rawValue: vote) ?? .unanimous,
                                      scoresProtected: !skipProtected)
        for t in texts { scorer.add(t.text, prompt: t.prompt.isEmpty ? .none : FingerprintPrompt(t.prompt)) }
        let score = scorer.score(key: key)
        if let unitsOut { try ProvenanceOutput.writeUnits(scorer.unitRecords(key: key), to: unitsOut) }
        if json {
            print(String(decoding: score.json(), as: UTF8.self))
        } else {
            print(score.table)
        }
    }
}

struct ProvenanceMarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mark",
        abstract: "Mark texts with a campaign's key, as `moat serve` marks answers (for tests and validation).",
        discussion: """
            Reads FILE like `score` and writes the marked texts: JSON Lines in, JSON Lines out ({"text", \
            "prompt"} per record, prompts untouched); plain text in, plain text out. Prints what changed on \
            standard error.
            """
    )

    @OptionGroup var keyOptions: FingerprintKeyOptions

    @Argument(help: "Texts to mark (JSON Lines or plain text; - for standard input).")
    var file: String

    @Option(help: ArgumentHelp("Where to write the marked texts (default: standard output).", valueName: "path"))
    var out: String?

    func run() throws {
        let key = try keyOptions.key()
        let marker = Fingerprinter(key: key, scheme: keyOptions.scheme)
        let (texts, _, isJSONLines) = try ProvenanceTexts.read(file)
        var output: [UInt8] = []
        var total = FingerprintStats()
        var words = 0
        for t in texts {
            let (marked, stats) = marker.markWithStats(t.text, prompt: t.prompt.isEmpty ? .none : FingerprintPrompt(t.prompt))
            total.units += stats.units
            total.changed += stats.changed
            total.listItemsChanged += stats.listItemsChanged
            words += t.text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).count
            if isJSONLines {
                var j = JSONBuffer(capacity: marked.utf8.count + 64)
                j.beginObject()
                j.key("text"); j.string(marked)
                if t.prompt.count == 1 { j.key("prompt"); j.string(t.prompt[0]) }
                if t.prompt.count == 2 { j.key("system_prompt"); j.string(t.prompt[0]); j.key("prompt"); j.string(t.prompt[1]) }
                j.endObject()
                output += j.bytes
                output.append(0x0A)
            } else {
                output += Array(marked.utf8)
            }
        }
        if let out {
            do {
                try Data(output).write(to: URL(fileURLWithPath: out))
            } catch {
                throw ValidationFailure(message: "\(out): cannot write: \(error.localizedDescription)")
            }
        } else {
            FileHandle.standardOutput.write(Data(output))
        }
        let share = words > 0 ? Double(total.changed) / Double(words) * 100 : 0
        Console.error(String(format: "marked %d text(s) with %@ (campaign %@): %d units, %d changed (%.2f per 100 words), %d list markers changed",
                             texts.count, key.id, key.campaign ?? "-", total.units, total.changed, share, total.listItemsChanged))
    }
}

enum ProvenanceOutput {
    static func writeUnits(_ units: [ScoredUnit], to path: String) throws {
        var j = JSONBuffer(capacity: 1 << 16)
        var bytes: [UInt8] = []
        for u in units {
            j.reset()
            j.beginObject()
            j.key("class"); j.string(u.variantClass)
            j.key("context"); j.string(String(u.context, radix: 16))
            j.key("forms"); j.beginArray(); j.string(u.forms.0); j.string(u.forms.1); j.endArray()
            j.key("counts"); j.beginArray(); j.int(u.counts.0); j.int(u.counts.1); j.endArray()
            if let o = u.observed { j.key("observed"); j.int(o) } else { j.key("observed"); j.null() }
            j.key("key_form"); j.int(u.keyForm)
            if let f = u.follows { j.key("follows"); j.bool(f) } else { j.key("follows"); j.null() }
            j.endObject()
            bytes += j.bytes
            bytes.append(0x0A)
        }
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        } catch {
            throw ValidationFailure(message: "\(path): cannot write: \(error.localizedDescription)")
        }
    }
}
