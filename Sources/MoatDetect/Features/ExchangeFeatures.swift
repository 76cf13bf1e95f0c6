import MoatCore

/// What one exchange says about extraction, computed once when it arrives.
struct ExchangeFeatures {
    var capability: Capability
    /// 1 for an explicit request for the model's reasoning trace, 0.3 for a plain "step by step", else 0.
    var chainOfThought: Double
    var thinking: Bool
    var tools: Bool
    /// Template signatures: head and tail of the masked prompt, and MinHash band keys.
    var templates: [UInt64]
    var systemPromptHash: UInt64?

    static let scanBytes = 4_096

    init(_ e: Exchange) {
        thinking = e.thinkingRequested == true || (e.reasoningTokens ?? 0) > 0
        tools = (e.tools ?? 0) > 0 || (e.toolCalls ?? 0) > 0
        systemPromptHash = e.systemPrompt.flatMap { $0.isEmpty ? nil : StableHash.of($0, seed: 7) }
        var text = Array((e.prompt ?? "").utf8.prefix(Self.scanBytes))
        for i in text.indices where text[i] >= 65 && text[i] <= 90 { text[i] += 32 }
        chainOfThought = Self.chainOfThought(text)
        capability = Self.capability(text, tools: tools)
        templates = Self.templates(text)
    }

    static let strongCoT = ["chain of thought", "full reasoning", "complete reasoning", "reasoning in full",
                            "every intermediate step", "show your reasoning", "explain your reasoning",
                            "step-by-step derivation", "do not summarize your reasoning", "reasoning trace",
                            "internal reasoning", "thought process", "reasoning step by step",
                            "politically sensitive", "politically safe"].map { Array($0.utf8) }
    static let weakCoT = ["step by step", "let's think", "think carefully"].map { Array($0.utf8) }

    static func chainOfThought(_ t: [UInt8]) -> Double {
        if contains(t, anyOf: strongCoT) { return 1 }
        if contains(t, anyOf: weakCoT) { return 0.3 }
        return 0
    }

    static let agenticWords = ["agent", "tool_result", "tool result", "call the tools", "repository"].map { Array($0.utf8) }
    static let codingWords = ["def ", "function", "code", "python", "javascript", "sql", "bug", "compile", "implement",
                              "class ", "```", "regex", "api "].map { Array($0.utf8) }
    static let reasoningWords = ["probability", "how many", "how much", "solve", "prove", "calculate", "derivation",
                                 "equation", "reasoning", "step by step", "integers"].map { Array($0.utf8) }
    static let planningWords = ["plan", "roadmap", "milestone", "strategy", "schedule", "itinerary"].map { Array($0.utf8) }

    static func capability(_ t: [UInt8], tools: Bool) -> Capability {
        if tools || contains(t, anyOf: agenticWords) { return .agentic }
        if contains(t, anyOf: codingWords) { return .coding }
        if contains(t, anyOf: reasoningWords) { return .reasoning }
        if contains(t, anyOf: planningWords) { return .planning }
        return .other
    }

    static func contains(_ haystack: [UInt8], anyOf needles: [[UInt8]]) -> Bool {
        haystack.withUnsafeBufferPointer { h in
            for n in needles where n.count <= h.count {
                let found = n.withUnsafeBufferPointer { nb -> Bool in
                    let first = nb[0]
                    var i = 0
                    let last = h.count - nb.count
                    while i <= last {
                        if h[i] == first {
                            var k = 1
                            while k < nb.count, h[i + k] == nb[k] { k += 1 }
                            if k == nb.count { return true }
                        }
                        i += 1
                    }
                    return false
                }
                if found { return true }
            }
            return false
        }
    }

    static let headTokens = 8
    static let minHashTokens = 64
    static let minHashCount = 8

    /// Masks numbers and identifiers (any token with a digit becomes `#`), then signs the prompt's head,
    /// tail and word 3-shingles, so prompts filled from one template share keys whatever fills the slots.
    static func templates(_ t: [UInt8]) -> [UInt64] {
        var tokens: [UInt64] = []
        tokens.reserveCapacity(80)
        var tail = [UInt64](repeating: 0, count: headTokens)
        var total = 0
        var h = StableHash()
        var inToken = false
        var hasDigit = false
        func finish() {
            let token = hasDigit ? 0x23 : h.value
            if tokens.count < minHashTokens { tokens.append(token) }
            tail[total % headTokens] = token
            total += 1
            h = StableHash()
            inToken = false
            hasDigit = false
        }
        for b in t {
            let isAlpha = (b >= 97 && b <= 122) || b == 95 || b >= 128
            let isDigit = b >= 48 && b <= 57
            if isAlpha || isDigit {
                inToken = true
                if isDigit { hasDigit = true }
                h.add(b)
            } else if inToken {
                finish()
            }
        }
        if inToken { finish() }
        guard total >= 12 else { return [] }
        var keys: [UInt64] = []
        var head = StableHash(seed: 1)
        for tok in tokens.prefix(headTokens) { head.add(tok) }
        keys.append(head.value)
        if total >= 20 {
            var tl = StableHash(seed: 2)
            for i in 0..<headTokens { tl.add(tail[(total + i) % headTokens]) }
            keys.append(tl.value)
        }
        var mins = [UInt64](repeating: .max, count: minHashCount)
        if tokens.count >= 3 {
            for i in 0..<(tokens.count - 2) {
                let shingle = StableHash.mix(tokens[i] &* 31 &+ tokens[i + 1] &* 17 &+ tokens[i + 2])
                for k in 0..<minHashCount {
                    let v = StableHash.mix(shingle ^ (UInt64(k + 1) &* 0x9E37_79B9_7F4A_7C15))
                    if v < mins[k] { mins[k] = v }
                }
            }
            for band in 0..<2 {
                var bh = StableHash(seed: UInt64(3 + band))
                for k in (band * 4)..<(band * 4 + 4) { bh.add(mins[k]) }
                keys.append(bh.value)
            }
        }
        return keys
    }
}
