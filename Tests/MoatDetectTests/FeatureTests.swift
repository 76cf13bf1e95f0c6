import MoatCore
@testable import MoatDetect
import Testing

@Suite("Exchange features")
struct FeatureTests {
    func features(_ prompt: String, tools: Int? = nil) -> ExchangeFeatures {
        ExchangeFeatures(Exchange(id: "x", ts: Timestamp(milliseconds: 0), accountID: "a", model: "m", inputTokens: 1,
                                  outputTokens: 1, prompt: prompt, tools: tools))
    }

    @Test func chainOfThoughtElicitation() {
        #expect(features("Solve it. Write out your complete chain of thought, every intermediate step.").chainOfThought == 1)
        #expect(features("Explain your reasoning in full before answering.").chainOfThought == 1)
        #expect(features("Question: 2+2? Let's think step by step.").chainOfThought == 0.3)
        #expect(features("What is a good name for a coffee shop?").chainOfThought == 0)
    }

    @Test func capabilityTargeted() {
        #expect(features("Fix this", tools: 5).capability == .agentic)
        #expect(features("Write a Python function that reverses a list").capability == .coding)
        #expect(features("What is the probability that both dice show six?").capability == .reasoning)
        #expect(features("Make a roadmap with milestones for our launch").capability == .planning)
        #expect(features("Tell me a joke about cats").capability == .other)
    }

    @Test func templateSignatureSurvivesFilledSlots() {
        let a = features("You are an autonomous software engineering agent working in the repository `billing-api`. Task: implement `f_17` and run the tests with the tools, explaining your reasoning before every call.")
        let b = features("You are an autonomous software engineering agent working in the repository `auth-gateway`. Task: implement `g_2` and run the tests with the tools, explaining your reasoning before every call.")
        let c = features("Summarize the main ideas of this book chapter about the history of the printing press in Europe for a class.")
        #expect(!a.templates.isEmpty)
        #expect(a.templates[0] == b.templates[0], "heads should match")
        #expect(!Set(a.templates).isDisjoint(with: Set(b.templates)))
        #expect(Set(a.templates).isDisjoint(with: Set(c.templates)))
    }

    @Test func numbersAreMasked() {
        let a = features("A bakery sells muffins for $3 each. Maya buys 12 muffins and pays with a $50 bill. How much change?")
        let b = features("A bakery sells muffins for $7 each. Maya buys 30 muffins and pays with a $250 bill. How much change?")
        #expect(a.templates == b.templates)
    }

    @Test func rarityFallsAsAValueBecomesCommon() {
        let two = LinkIndex.rarity(holders: 2, population: 100_000, seen: 100_000)
        let five = LinkIndex.rarity(holders: 5, population: 100_000, seen: 100_000)
        let most = LinkIndex.rarity(holders: 90_000, population: 100_000, seen: 100_000)
        #expect(two > 0.999)
        #expect(five > 0.8 && five < 1)
        #expect(most < 0.1)
        // In a small log, a value that nearly every account holds is common, whatever the floor says.
        let everyone = LinkIndex.rarity(holders: 120, population: 1_000, seen: 130)
        #expect(everyone < 0.1)
    }
}
