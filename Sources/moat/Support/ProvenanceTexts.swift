import ArgumentParser
import Foundation
import MoatCore
import MoatProvenance

/// One text to test or mark, with the prompt that produced it.
struct ProvenanceText {
    var text: String
    /// System prompt and user prompt, when the file has them.
    var prompt: [String]
}

/// The key options every `moat provenance` subcommand shares.
struct FingerprintKeyOptions: ParsableArguments {
    @Option(name: .customLong("key-env"), help: ArgumentHelp(
        "Environment variable that holds the master key (hex, at least 32 digits; other text is taken as its "
            + "UTF-8 bytes, at least 16). The campaign's key is derived from it.", valueName: "VAR"))
    var keyEnv: String?

    @Option(help: ArgumentHelp(
        "Campaign id whose key to use (default: `default`, the key `moat serve` uses for accounts it "
            + "fingerprints outside any campaign).", valueName: "ID"))
    var campaign: String?

    @Option(name: .customLong("campaign-key-env"), help: ArgumentHelp(
        "Instead of --key-env: environment variable that holds one campaign's key itself (as printed by "
            + "`moat provenance key --reveal`), for an expert who must not see the master key.", valueName: "VAR"))
    var campaignKeyEnv: String?

    @Option(name: .customLong("context-words"), help: .hidden)
    var contextWords: Int?

    func validate() throws {
        if (keyEnv == nil) == (campaignKeyEnv == nil) { throw ValidationError("give exactly one of --key-env and --campaign-key-env") }
        if campaignKeyEnv != nil && campaign != nil { throw ValidationError("--campaign goes with --key-env (a campaign key is already one campaign's)") }
        if let contextWords, !(0...8).contains(contextWords) { throw ValidationError("--context-words must be 0...8") }
    }

    var scheme: FingerprintScheme { contextWords.map { FingerprintScheme(contextWords: $0) } ?? .standard }

    func key() throws -> FingerprintKey {
        let variable = keyEnv ?? campaignKeyEnv ?? ""
        guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
            throw ValidationFailure(message: "environment variable \(variable) is not set (it must hold the \(keyEnv != nil ? "master" : "campaign") key)")
        }
        do {
            if keyEnv != nil {
                return try FingerprintMasterKey(encoded: value).campaignKey(campaign ?? FingerprintMasterKey.defaultCampaign)
            }
            return try FingerprintKey(encoded: value)
        } catch {
            throw ValidationFailure(message: "\(variable): \(error.message)")
        }
    }
}

enum ProvenanceTexts {
    static let fields = JSONLineFields(["text", "response", "prompt", "system_prompt"])

    /// Reads FILE (`-` for standard input): JSON Lines with a `text` (or `response`, as in an exchange log)
    /// field and optional `prompt` and `system_prompt` fields, or else plain text, which is one text.
    /// Records without text are skipped and counted. `fields` names the text field, its fallback, and
    /// optionally the prompt and system prompt fields, in that order.
    static func read(_ path: String, fields: JSONLineFields = ProvenanceTexts.fields) throws -> (texts: [ProvenanceText], skipped: Int, jsonLines: Bool) {
        let data: Data
        do {
            data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ValidationFailure(message: "\(path): cannot read: \(error.localizedDescription)")
        }
        let bytes = [UInt8](data)
        let first = bytes.firstIndex { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D && $0 != 0xEF && $0 != 0xBB && $0 != 0xBF }
        guard let first, bytes[first] == UInt8(ascii: "{") else {
            var start = 0
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
            return ([ProvenanceText(text: String(decoding: bytes[start...], as: UTF8.self), prompt: [])], 0, false)
        }
        let name = path == "-" ? "stdin" : path
        var texts: [ProvenanceText] = []
        var skipped = 0
        var lineNumber = 0
        var lineStart = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        try bytes.withUnsafeBufferPointer { all in
            while lineStart < all.count {
                var end = lineStart
                while end < all.count && all[end] != 0x0A { end += 1 }
                lineNumber += 1
                var stop = end
                if stop > lineStart && all[stop - 1] == 0x0D { stop -= 1 }
                let line = UnsafeBufferPointer(rebasing: all[lineStart..<stop])
                lineStart = end + 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                let values: [String?]
                do {
                    values = try fields.values(line: line, file: name, lineNumber: lineNumber)
                } catch {
                    throw ValidationFailure(message: "\(error)")
                }
                guard let text = values[0] ?? values[1] else {
                    skipped += 1
                    continue
                }
                let prompt = values.count > 3 ? [values[3], values[2]].compactMap { $0 } : []
                texts.append(ProvenanceText(text: text, prompt: prompt))
            }
        }
        return (texts, skipped, true)
    }
}
