import ArgumentParser
import Foundation
import MoatCore
import MoatProvenance

/// `moat provenance null`: the score of the same texts under many keys, in one process (for calibration:
/// reading and scanning the texts once instead of once per key). Each key's result is exactly what
/// `moat provenance score --key-env VAR --campaign ID --json FILE` prints for that key.
struct ProvenanceNullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "null",
        abstract: "Score texts under many master keys (one per line of --keys-file); JSON Lines, one result per key.",
        discussion: """
            For null calibration: keys that never marked anything give p-values that are uniform (or \
            conservative). With --each, text i is scored alone under key i (as many keys as texts).
            """,
        shouldDisplay: false
    )

    @Option(name: .customLong("keys-file"), help: ArgumentHelp("Master keys, one per line (hex).", valueName: "path"))
    var keysFile: String

    @Option(help: ArgumentHelp("Campaign id whose key each master key derives.", valueName: "ID"))
    var campaign = FingerprintMasterKey.defaultCampaign

    @Flag(help: "Score each text alone under its own key (text i, key i).")
    var each = false

    @Argument(help: "Texts (JSON Lines or plain text).")
    var file: String

    @Option(name: .customLong("context-words"), help: .hidden)
    var contextWords: Int?

    func validate() throws {
        if let contextWords, !(0...8).contains(contextWords) { throw ValidationError("--context-words must be 0...8") }
    }

    var scheme: FingerprintScheme { contextWords.map { FingerprintScheme(contextWords: $0) } ?? .standard }

    func run() throws {
        let lines: [String]
        do {
            lines = try String(contentsOfFile: keysFile, encoding: .utf8).split(whereSeparator: \.isNewline).map(String.init)
        } catch {
            throw ValidationFailure(message: "\(keysFile): cannot read: \(error.localizedDescription)")
        }
        var keys: [FingerprintKey] = []
        for (i, line) in lines.enumerated() where !line.allSatisfy(\.isWhitespace) {
            do {
                keys.append(try FingerprintMasterKey(encoded: line).campaignKey(campaign))
            } catch {
                throw ValidationFailure(message: "\(keysFile):\(i + 1): \(error.message)")
            }
        }
        let (texts, _, _) = try ProvenanceTexts.read(file)
        let out = FileHandle.standardOutput
        if each {
            guard keys.count >= texts.count else {
                throw ValidationFailure(message: "--each needs a key per text: \(keys.count) key(s), \(texts.count) text(s)")
            }
            for (t, key) in zip(texts, keys) {
                var scorer = ProvenanceScorer(scheme: scheme)
                scorer.add(t.text, prompt: t.prompt.isEmpty ? .none : FingerprintPrompt(t.prompt))
                Self.write(scorer.score(key: key), to: out)
            }
        } else {
            var scorer = ProvenanceScorer(scheme: scheme)
            for t in texts { scorer.add(t.text, prompt: t.prompt.isEmpty ? .none : FingerprintPrompt(t.prompt)) }
            for key in keys { Self.write(scorer.score(key: key), to: out) }
        }
    }

    static func write(_ score: ProvenanceScore, to out: FileHandle) {
        var bytes = score.json()
        bytes.append(0x0A)
        out.write(Data(bytes))
    }
}
