import MoatCore
import Foundation

/// Real text the simulator draws prompts and answers from.
///
/// ShareGPT gives real user prompts with real model answers; HumanEval gives real coding problems.
/// When neither is available (offline, unit tests) a small built-in corpus stands in.
public struct Corpus: Sendable {
    public struct Turn: Sendable {
        public var prompt: String
        public var response: String
        /// Length of the full answer before truncation, for realistic token counts.
        public var responseChars: Int
    }

    public struct CodingProblem: Sendable {
        public var taskID: String
        public var prompt: String
        public var entryPoint: String
        public var solution: String
    }

    public var conversations: [[Turn]]
    public var codingProblems: [CodingProblem]
    /// Where the text came from, for the run summary.
    public var source: String

    public init(conversations: [[Turn]], codingProblems: [CodingProblem], source: String) {
        self.conversations = conversations
        self.codingProblems = codingProblems
        self.source = source
    }

    /// Single-turn prompts (the first turn of each conversation), e.g. end-user text behind a SaaS.
    public var firstTurns: [Turn] { conversations.compactMap(\.first) }
}

/// Limits applied while loading, so that memory and line sizes stay bounded.
public struct CorpusLimits: Sendable {
    public var maxConversations: Int
    public var maxTurns: Int
    public var promptChars: Int
    public var responseChars: Int

    public init(maxConversations: Int = 12_000, maxTurns: Int = 8, promptChars: Int = 1_200, responseChars: Int = 400) {
        self.maxConversations = maxConversations
        self.maxTurns = maxTurns
        self.promptChars = promptChars
        self.responseChars = responseChars
    }
}

public struct CorpusError: Error, CustomStringConvertible {
    public var description: String
}

extension Corpus {
    public static let shareGPTFile = "ShareGPT_V3_unfiltered_cleaned_split.json"
    public static let humanEvalFile = "HumanEval.jsonl"

    /// The directory searched when none is given: `$MOAT_CORPUS`, then `./.corpus`.
    public static func defaultDirectory() -> String? {
        let env = ProcessInfo.processInfo.environment["MOAT_CORPUS"]
        for candidate in [env, ".corpus"].compactMap({ $0 }) {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDir), isDir.boolValue {
                return candidate
            }
        }
        return nil
    }

    /// Loads ShareGPT and HumanEval from `directory`, filling what is missing from the built-in corpus.
    public static func load(directory: String?, limits: CorpusLimits = CorpusLimits()) throws -> Corpus {
        let builtin = Corpus.builtin(limits: limits)
        guard let directory else { return builtin }
        var sources: [String] = []
        var conversations = builtin.conversations
        var problems = builtin.codingProblems
        let sharePath = (directory as NSString).appendingPathComponent(shareGPTFile)
        if FileManager.default.fileExists(atPath: sharePath) {
            let loaded = try loadShareGPT(path: sharePath, limits: limits)
            if !loaded.isEmpty {
                conversations = loaded
                sources.append("ShareGPT (\(loaded.count) conversations)")
            }
        }
        let evalPath = (directory as NSString).appendingPathComponent(humanEvalFile)
        if FileManager.default.fileExists(atPath: evalPath) {
            let loaded = try loadHumanEval(path: evalPath)
            if !loaded.isEmpty {
                problems = loaded
                sources.append("HumanEval (\(loaded.count) problems)")
            }
        }
        let source = sources.isEmpty ? builtin.source : sources.joined(separator: " + ")
        return Corpus(conversations: conversations, codingProblems: problems, source: source)
    }

    /// Parses the ShareGPT dump object by object: the file in the package is cut short at the end,
    /// so the last, incomplete object is dropped instead of failing the whole file.
    static func loadShareGPT(path: String, limits: CorpusLimits) throws -> [[Turn]] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CorpusError(description: "\(path): cannot read")
        }
        var result: [[Turn]] = []
        data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var i = 0
            // Skip to the opening bracket of the top-level array.
            while i < bytes.count, bytes[i] != UInt8(ascii: "[") { i += 1 }
            i += 1
            while i < bytes.count, result.count < limits.maxConversations {
                while i < bytes.count, bytes[i] != UInt8(ascii: "{") { i += 1 }
                guard i < bytes.count, let end = matchingBrace(bytes, from: i) else { break }
                let slice = Data(UnsafeRawBufferPointer(rebasing: raw[i...end]))
                i = end + 1
                guard let object = try? JSONSerialization.jsonObject(with: slice) as? [String: Any],
                      let turns = object["conversations"] as? [[String: Any]] else { continue }
                let conversation = pairTurns(turns, limits: limits)
                if !conversation.isEmpty { result.append(conversation) }
            }
        }
        return result
    }

    /// Index of the `}` closing the object that opens at `start`, or nil if the input ends first.
    static func matchingBrace(_ b: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var depth = 0
        var inString = false
        var i = start
        while i < b.count {
            let c = b[i]
            if inString {
                if c == UInt8(ascii: "\\") { i += 1 } else if c == UInt8(ascii: "\"") { inString = false }
            } else if c == UInt8(ascii: "\"") {
                inString = true
            } else if c == UInt8(ascii: "{") {
                depth += 1
            } else if c == UInt8(ascii: "}") {
                depth -= 1
                if depth == 0 { return i }
            }
            i += 1
        }
        return nil
    }

    static func pairTurns(_ turns: [[String: Any]], limits: CorpusLimits) -> [Turn] {
        var out: [Turn] = []
        var pending: String?
        for turn in turns {
            guard let from = turn["from"] as? String, let value = turn["value"] as? String else { continue }
            if from == "human" {
                pending = value
            } else if from == "gpt", let prompt = pending {
                pending = nil
                let p = prompt.trimmingCharacters(in: .whitespacesAndNewlines)
                let r = value.trimmingCharacters(in: .whitespacesAndNewlines)
                guard p.count >= 8, !r.isEmpty else { continue }
                out.append(Turn(prompt: truncate(p, limits.promptChars), response: truncate(r, limits.responseChars),
                                responseChars: r.utf8.count))
                if out.count >= limits.maxTurns { break }
            }
        }
        return out
    }

    static func loadHumanEval(path: String) throws -> [CodingProblem] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CorpusError(description: "\(path): cannot read as UTF-8 (unpack HumanEval.jsonl.gz first)")
        }
        var problems: [CodingProblem] = []
        for line in text.split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let id = object["task_id"] as? String, let prompt = object["prompt"] as? String
            else { continue }
            problems.append(CodingProblem(taskID: id, prompt: prompt,
                                          entryPoint: object["entry_point"] as? String ?? "solution",
                                          solution: object["canonical_solution"] as? String ?? ""))
        }
        return problems
    }

    /// Cuts text to at most `limit` UTF-8 bytes on a character boundary.
    static func truncate(_ s: String, _ limit: Int) -> String {
        if s.utf8.count <= limit { return s }
        var count = 0
        var end = s.startIndex
        for idx in s.indices {
            let n = s[idx].utf8.count
            if count + n > limit { break }
            count += n
            end = s.index(after: idx)
        }
        return String(s[..<end])
    }
}
