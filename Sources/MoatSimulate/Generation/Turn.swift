import MoatCore
/// What one simulated exchange says and asks for; the generator adds who, when and from where.
struct TurnContent {
    var prompt: String
    var response: String
    var responseChars: Int
    var model: String
    var thinking = false
    var tools = 0
    var toolCalls = 0
    var temperature: Double?
    var maxTokens: Int?
    var conversationID: String?
    var turn: Int?
    /// Characters of earlier turns sent again as context.
    var historyChars = 0
    /// A system prompt for this request only (campaigns that rotate variants); else the account's own.
    var systemPrompt: String? = nil
}

enum Answers {
    static func reasoning(_ rng: inout SimRandom) -> (String, Int) {
        let n = rng.int(2...9_999)
        let text = "Let's work through this step by step. First, identify the quantities given. Next, set up the relation between them and compute each intermediate value. Checking the result against the constraints confirms it. Answer: \(n)"
        return (text, text.utf8.count + rng.int(200...1_600))
    }

    static func code(_ problem: Corpus.CodingProblem, _ rng: inout SimRandom) -> (String, Int) {
        let text = "Here is an implementation of `\(problem.entryPoint)`:\n\n```python\n\(problem.prompt)\(problem.solution)```"
        return (text, text.utf8.count + rng.int(100...1_200))
    }

    static func agentAction(_ rng: inout SimRandom) -> (String, Int) {
        let text = rng.pick([
            "I'll inspect the relevant files first.", "Running the test suite to confirm the failure.",
            "The root cause is an off-by-one in the loop bound; applying the fix.", "Updating the call sites and re-running the tests.",
            "Plan: 1) reproduce, 2) isolate the failing component, 3) patch, 4) add a regression test.",
        ])
        return (text, text.utf8.count + rng.int(100...2_000))
    }

    static func rewrite(_ rng: inout SimRandom) -> (String, Int) {
        let text = "A neutral version of the question is: \"What are the different perspectives on this event, and what do independent sources report?\" Reasoning: the original presupposes a conclusion, so I removed the loaded framing."
        return (text, text.utf8.count + rng.int(300...1_500))
    }
}
