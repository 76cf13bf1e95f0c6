import MoatCore

/// What one exchange says about extraction, computed once when it arrives, in one pass over the prompt.
struct ExchangeFeatures: Sendable, Equatable {
    var capability: Capability
    /// 1 for an explicit request for the model's reasoning trace, 0.3 for a plain "step by step", else 0.
    var chainOfThought: Double
    var thinking: Bool
    var tools: Bool
    /// Template signatures: head and tail of the masked prompt, and MinHash band keys.
    var templates: [UInt64]
    /// The exact system prompt's hash; the engine replaces it with its near-duplicate family.
    var systemPromptHash: UInt64?
    /// The request's shape: max_tokens, temperature, tool count, thinking and stream. An orchestrator sends
    /// the same few shapes from every account.
    var shape: UInt64

    /// Only the start of a prompt is read: templates and instructions sit there, and the cost stays flat.
    static let scanBytes = 3_000
    static let headTokens = 8
    static let minHashTokens = 64
    static let minHashCount = 8

    init(_ e: borrowing Exchange) {
        thinking = e.thinkingRequested == true || (e.reasoningTokens ?? 0) > 0
        tools = (e.tools ?? 0) > 0 || (e.toolCalls ?? 0) > 0
        systemPromptHash = e.systemPrompt.flatMap { $0.isEmpty ? nil : StableHash.of($0, seed: 7) }
        var sh = StableHash(seed: 9)
        sh.add(UInt64(bitPattern: Int64(e.maxTokens ?? -1)))
        sh.add(UInt64(bitPattern: Int64(e.temperature.map { ($0 * 100).rounded() } ?? -1)))
        sh.add(UInt64(e.tools ?? 0))
        sh.add(UInt8(e.thinkingRequested == true ? 1 : 0))
        sh.add(UInt8(e.stream == true ? 1 : 0))
        shape = sh.value
        var prompt = e.prompt ?? ""
        let scan = prompt.withUTF8 { Self.scan($0) }
        if scan.categories.contains(.strongCoT) {
            chainOfThought = 1
        } else if scan.categories.contains(.weakCoT) {
            chainOfThought = 0.3
        } else {
            chainOfThought = 0
        }
        let c = scan.categories
        if tools || c.contains(.agentic) {
            capability = .agentic
        } else if c.contains(.coding) || scan.backticks >= 3 {
            capability = .coding
        } else if c.contains(.reasoning) {
            capability = .reasoning
        } else if c.contains(.planning) {
            capability = .planning
        } else {
            capability = .other
        }
        templates = scan.templates
    }

    /// `max_tokens=8192 temperature=0.2 tools=4 thinking=1 stream=0`
    static func shapeLabel(_ e: Exchange) -> String {
        let temperature = e.temperature.map { String(($0 * 100).rounded() / 100) } ?? "-"
        return "max_tokens=\(e.maxTokens.map(String.init) ?? "-") temperature=\(temperature) tools=\(e.tools ?? 0) "
            + "thinking=\(e.thinkingRequested == true ? 1 : 0) stream=\(e.stream == true ? 1 : 0)"
    }

    struct Scan {
        var categories: Lexicon.Category = []
        var backticks = 0
        var templates: [UInt64] = []
    }

    /// Tokenizes the prompt (lower-cased words; any word with a digit is masked as `#`), matches the lexicon's
    /// phrases on token hashes, and signs the head, the tail and the word 3-shingles of the masked text, so
    /// prompts filled from one template share keys whatever fills the slots.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> Scan {
        var out = Scan()
        let lexicon = Lexicon.shared
        var tokens: [UInt64] = []
        tokens.reserveCapacity(minHashTokens)
        var tail = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var recent = [UInt64](repeating: 0, count: Lexicon.maxPhraseLength)
        var total = 0
        var h = StableHash()
        var inToken = false
        var hasDigit = false
        let end = min(bytes.count, scanBytes)
        var i = 0
        while i <= end {
            let b: UInt8 = i < end ? bytes[i] : 32
            i += 1
            var lower = b
            if b >= 65 && b <= 90 { lower = b + 32 }
            let isAlpha = (lower >= 97 && lower <= 122) || lower == 95 || lower >= 128
            let isDigit = lower >= 48 && lower <= 57
            if isAlpha || isDigit {
                inToken = true
                if isDigit { hasDigit = true }
                h.add(lower)
                continue
            }
            if b == 96 { out.backticks += 1 }
            guard inToken else { continue }
            let raw = h.value
            recent[total % Lexicon.maxPhraseLength] = raw
            if lexicon.mayEnd(raw) { out.categories.formUnion(lexicon.match(recent, endingAt: total)) }
            let token = hasDigit ? 0x23 : raw
            if tokens.count < minHashTokens { tokens.append(token) }
            withUnsafeMutableBytes(of: &tail) { $0.storeBytes(of: token, toByteOffset: (total % headTokens) * 8, as: UInt64.self) }
            total += 1
            h = StableHash()
            inToken = false
            hasDigit = false
        }
        guard total >= 12 else { return out }
        var head = StableHash(seed: 1)
        for tok in tokens.prefix(headTokens) { head.add(tok) }
        out.templates.append(head.value)
        if total >= 20 {
            var tl = StableHash(seed: 2)
            withUnsafeBytes(of: &tail) { buf in
                for k in 0..<headTokens { tl.add(buf.load(fromByteOffset: ((total + k) % headTokens) * 8, as: UInt64.self)) }
            }
            out.templates.append(tl.value)
        }
        if tokens.count >= 3 {
            var mins = (UInt64.max, UInt64.max, UInt64.max, UInt64.max, UInt64.max, UInt64.max, UInt64.max, UInt64.max)
            withUnsafeMutableBytes(of: &mins) { m in
                for j in 0..<(tokens.count - 2) {
                    let shingle = StableHash.mix(tokens[j] &* 31 &+ tokens[j + 1] &* 17 &+ tokens[j + 2])
                    for k in 0..<minHashCount {
                        let v = StableHash.mix(shingle ^ (UInt64(k + 1) &* 0x9E37_79B9_7F4A_7C15))
                        if v < m.load(fromByteOffset: k * 8, as: UInt64.self) { m.storeBytes(of: v, toByteOffset: k * 8, as: UInt64.self) }
                    }
                }
                for band in 0..<2 {
                    var bh = StableHash(seed: UInt64(3 + band))
                    for k in (band * 4)..<(band * 4 + 4) { bh.add(m.load(fromByteOffset: k * 8, as: UInt64.self)) }
                    out.templates.append(bh.value)
                }
            }
        }
        return out
    }
}
