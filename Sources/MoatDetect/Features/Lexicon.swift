/// The words and phrases that say what a prompt targets, matched on token hashes in one pass.
struct Lexicon: Sendable {
    struct Category: OptionSet, Sendable {
        let rawValue: UInt8
        static let strongCoT = Category(rawValue: 1)
        static let weakCoT = Category(rawValue: 2)
        static let agentic = Category(rawValue: 4)
        static let coding = Category(rawValue: 8)
        static let reasoning = Category(rawValue: 16)
        static let planning = Category(rawValue: 32)
    }

    static let entries: [(Category, [String])] = [
        (.strongCoT, ["chain of thought", "full reasoning", "complete reasoning", "reasoning in full", "every intermediate step",
                      "show your reasoning", "explain your reasoning", "step by step derivation", "summarize your reasoning",
                      "reasoning trace", "internal reasoning", "thought process", "reasoning step by step",
                      "politically sensitive", "politically safe", "your complete chain"]),
        (.weakCoT, ["step by step", "let s think", "think carefully"]),
        (.agentic, ["agent", "agents", "agentic", "tool_result", "tool result", "call the tools", "repository", "tool call"]),
        (.coding, ["def", "function", "functions", "code", "coding", "python", "javascript", "typescript", "sql", "bug", "bugs",
                   "compile", "compiler", "implement", "implementation", "class", "regex", "api", "java", "rust", "html", "css",
                   "script", "refactor", "debug"]),
        (.reasoning, ["probability", "how many", "how much", "solve", "prove", "calculate", "derivation", "equation",
                      "reasoning", "step by step", "integers", "theorem"]),
        (.planning, ["plan", "planning", "roadmap", "milestone", "milestones", "strategy", "schedule", "itinerary"]),
    ]

    static let maxPhraseLength = 6
    static let shared = Lexicon()

    /// Phrases by their last token.
    private var byLast: [UInt64: [(tokens: [UInt64], category: Category)]] = [:]
    /// A 4,096-bit filter of last tokens, so most words cost one bit test.
    private var filter = [UInt64](repeating: 0, count: 64)

    init() {
        for (category, phrases) in Self.entries {
            for phrase in phrases {
                let tokens = phrase.split(separator: " ").map { StableHash.of(String($0)) }
                guard let last = tokens.last, tokens.count <= Self.maxPhraseLength else { continue }
                byLast[last, default: []].append((tokens, category))
                let bit = Int((last >> 7) & 4095)
                filter[bit >> 6] |= 1 << UInt64(bit & 63)
            }
        }
    }

    @inline(__always) func mayEnd(_ token: UInt64) -> Bool {
        let bit = Int((token >> 7) & 4095)
        return filter[bit >> 6] & (1 << UInt64(bit & 63)) != 0
    }

    /// Categories of the phrases that end at token index `end` (`recent` is a ring of the last tokens).
    func match(_ recent: [UInt64], endingAt end: Int) -> Category {
        guard let candidates = byLast[recent[end % Self.maxPhraseLength]] else { return [] }
        var found: Category = []
        for (tokens, category) in candidates where tokens.count <= end + 1 {
            var ok = true
            for k in 0..<tokens.count where recent[(end - k) % Self.maxPhraseLength] != tokens[tokens.count - 1 - k] {
                ok = false
                break
            }
            if ok { found.insert(category) }
        }
        return found
    }
}
