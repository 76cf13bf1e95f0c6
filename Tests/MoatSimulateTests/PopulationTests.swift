import Foundation
import MoatCore
import Testing
@testable import MoatSimulate

/// The benign look-alikes that make detection hard, and the shape of the population.
@Suite struct PopulationTests {
    /// A university class: many accounts on one e-mail domain, signed up within days of each other.
    @Test func classroomSharesOneEmailDomain() throws {
        let run = try Shared.run()
        let students = run.accounts.filter { $0.emailDomain == "cs.stateu.edu" }
        #expect(students.count >= 20)
        #expect(students.count == Shared.smokeParameters().classroom.accounts)
        #expect(students.allSatisfy { $0.label == nil })
        #expect(students.allSatisfy { $0.program == "education" })
    }

    /// An enterprise: all its accounts pay with one corporate card that no other account uses.
    @Test func enterpriseSharesOnePaymentFingerprint() throws {
        let run = try Shared.run()
        let ids = Set(run.accounts(of: .enterprise))
        #expect(ids.count == Shared.smokeParameters().enterprise.accounts)
        let members = run.accounts.filter { ids.contains($0.accountID) }
        let cards = Set(members.compactMap(\.paymentFingerprint))
        #expect(cards.count == 1)
        #expect(members.allSatisfy { $0.paymentFingerprint != nil && $0.label == nil })
        let card = try #require(cards.first)
        let others = run.accounts.filter { !ids.contains($0.accountID) && $0.paymentFingerprint == card }
        #expect(others.isEmpty)
    }

    /// SaaS backends send every request with their product's system prompt.
    @Test func saasBackendsUseOneSystemPromptEach() throws {
        let run = try Shared.run()
        let saas = Set(run.accounts(of: .saas))
        #expect(!saas.isEmpty)
        let exchanges = run.exchanges.filter { saas.contains($0.accountID) }
        #expect(!exchanges.isEmpty)
        #expect(exchanges.allSatisfy { !($0.systemPrompt ?? "").isEmpty })
        for account in saas {
            let prompts = Set(exchanges.filter { $0.accountID == account }.compactMap(\.systemPrompt))
            #expect(prompts.count <= 1, "\(account) uses \(prompts.count) system prompts")
        }
    }

    /// Evaluation harnesses look like extraction: "think step by step" at temperature 0.
    @Test func evalHarnessesAskStepByStepAtTemperatureZero() throws {
        let run = try Shared.run()
        let harnesses = Set(run.accounts(of: .evalHarness))
        #expect(!harnesses.isEmpty)
        let exchanges = run.exchanges.filter { harnesses.contains($0.accountID) }
        #expect(!exchanges.isEmpty)
        #expect(exchanges.allSatisfy { ($0.prompt ?? "").contains("step by step") })
        #expect(exchanges.allSatisfy { $0.temperature == 0 })
    }

    /// A few individuals are far more active than the typical one.
    @Test func individualActivityIsHeavyTailed() throws {
        var p = try #require(ScenarioParameters.named("smoke", days: 7))
        p.individuals.accounts = 400
        p.saas.accounts = 0
        p.evalHarness.accounts = 0
        p.agentic.accounts = 0
        p.classroom.accounts = 0
        p.enterprise.accounts = 0
        p.hydra.accounts = 0
        p.cotHarvest.accounts = 0
        p.blend.accounts = 0
        let run = try SimulatedRun.generate(p, seed: 7)
        defer { run.remove() }
        let counts = run.exchangeCounts()
        let perAccount = run.accounts(of: .individual).map { counts[$0] ?? 0 }
        #expect(perAccount.count == 400)
        let typical = median(perAccount)
        let busiest = try #require(perAccount.max())
        #expect(typical >= 1, "median individual made no exchange at all")
        #expect(Double(busiest) >= 20 * typical, "max \(busiest) vs median \(typical)")
    }

    /// Campaign accounts stay a minority: at most 15% of the accounts of every named scenario.
    @Test(arguments: ScenarioParameters.names)
    func campaignShareOfAccountsIsSmall(_ name: String) throws {
        let p = try #require(ScenarioParameters.named(name))
        let (total, campaign) = accountCounts(p)
        #expect(campaign > 0)
        #expect(Double(campaign) <= 0.15 * Double(total), "\(name): \(campaign) of \(total)")
    }

    @Test func standardScenarioHasOverTenThousandBenignAccounts() throws {
        let p = try #require(ScenarioParameters.named("standard"))
        let (total, campaign) = accountCounts(p)
        #expect(total - campaign > 10_000)
        #expect(p.days == 14)
    }

    @Test func scaleShrinksIndustrial() throws {
        let full = try #require(ScenarioParameters.named("industrial"))
        let small = try #require(ScenarioParameters.named("industrial", scale: 0.01))
        let (fullTotal, fullCampaign) = accountCounts(full)
        let (smallTotal, smallCampaign) = accountCounts(small)
        #expect(smallTotal < fullTotal / 50)
        #expect(smallCampaign < fullCampaign / 50)
        #expect(smallCampaign > 0)
        #expect(small.individuals.accounts == 2_200)
        #expect(small.hydra.accounts == 210)
        #expect(small.days == full.days, "scale changes counts, not the length of the window")
        // Every group keeps at least a handful of accounts, however small the scale.
        let tiny = try #require(ScenarioParameters.named("industrial", scale: 0.000_001))
        #expect(tiny.hydra.accounts >= 4 && tiny.cotHarvest.accounts >= 4 && tiny.blend.accounts >= 4)
        #expect(tiny.classroom.accounts >= 5 && tiny.enterprise.accounts >= 5)
    }

    @Test func daysOverrideKeepsTheReleaseInsideTheWindow() throws {
        let p = try #require(ScenarioParameters.named("standard", days: 3))
        #expect(p.days == 3)
        #expect(p.releaseDay < 3)
        let one = try #require(ScenarioParameters.named("industrial", days: 1))
        #expect(one.days == 1 && one.releaseDay == 0)
    }

    @Test func unknownScenarioIsNil() {
        #expect(ScenarioParameters.named("nope") == nil)
        for name in ScenarioParameters.names { #expect(ScenarioParameters.named(name) != nil) }
    }
}
