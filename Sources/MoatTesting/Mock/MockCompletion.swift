/// The answer to one request, the same for both APIs.
///
/// Lengths come from the hash of the last user message. Output never exceeds `max_tokens`: thinking
/// takes at most `budget_tokens` and leaves at least one word for the answer, and an answer cut short
/// is `truncated` (finish_reason "length", stop_reason "max_tokens").
struct MockCompletion: Sendable {
    var id: String
    var answer: [String]
    var thinking: [String]
    var truncated: Bool
    var inputTokens: Int

    var outputTokens: Int { answer.count + thinking.count }
    var text: String { answer.joined(separator: " ") }
    var thinkingText: String { thinking.joined(separator: " ") }

    /// - Parameter words: forces the natural answer length (the `x-mock-words` header).
    init(_ request: MockRequest, words: Int? = nil) {
        let seed = MockText.hash(request.lastUserText)
        id = MockText.hex(MockText.mix(seed ^ MockText.hash(request.model)))
        inputTokens = MockText.tokens(characters: request.characters)

        let cap = request.maxTokens ?? Int.max
        var thinkingCount = 0
        if request.thinking {
            thinkingCount = min(24 + Int(MockText.mix(seed ^ 1) % 40), request.thinkingBudget ?? .max, cap - 1)
        }
        let natural = min(words ?? 16 + Int(MockText.mix(seed ^ 2) % 48), MockText.maxWords)
        let answerCount = max(1, min(natural, cap - thinkingCount))
        truncated = answerCount < natural
        answer = MockText.words(seed: seed, count: answerCount, complete: !truncated)
        thinking = MockText.words(seed: MockText.mix(seed ^ 3), count: thinkingCount, complete: true)
    }

    /// Stream pieces of a few words; joined, they give back the text exactly.
    static func pieces(_ words: [String], size: Int = 3) -> [String] {
        stride(from: 0, to: words.count, by: size).map { start in
            let group = words[start..<min(start + size, words.count)].joined(separator: " ")
            return start == 0 ? group : " " + group
        }
    }
}
