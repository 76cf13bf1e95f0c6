import Foundation
import MoatCore
import Testing
@testable import MoatSimulate

/// The three files `Simulator.run(to:)` writes, checked against the data contract (sections 1-3).
@Suite struct OutputContractTests {
    @Test func everyExchangeLineIsValidJSONWithTheRequiredFields() throws {
        let run = try Shared.run()
        #expect(run.problems.isEmpty, "\(run.problems.prefix(10))")
        let lines = try run.lines(SimulatedRun.exchangesFile)
        #expect(lines.count > 1_000)
        #expect(run.exchanges.count == lines.count)
        #expect(run.summary.exchanges == lines.count)
    }

    @Test func filesEndWithANewlineAndHaveNoBlankLines() throws {
        let run = try Shared.run()
        for file in [SimulatedRun.exchangesFile, SimulatedRun.accountsFile, SimulatedRun.labelsFile] {
            let data = try run.bytes(file)
            #expect(!data.isEmpty, "\(file) is empty")
            #expect(data.last == UInt8(ascii: "\n"), "\(file) does not end with a newline")
            let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast()
            #expect(!lines.contains { $0.isEmpty }, "\(file) has a blank line")
        }
    }

    @Test func exchangeIDsAreUnique() throws {
        let run = try Shared.run()
        let ids = Set(run.exchanges.map(\.id))
        #expect(ids.count == run.exchanges.count)
    }

    @Test func timestampsFallInsideTheSimulatedWindow() throws {
        let run = try Shared.run()
        let p = Shared.smokeParameters()
        let start = p.start
        // Sessions that start late on the last day may run a little past midnight.
        let end = start.adding(milliseconds: Int64(p.days) * Timestamp.day + 2 * Timestamp.hour)
        let outside = run.exchanges.filter { $0.ts < start || $0.ts > end }
        #expect(outside.isEmpty, "\(outside.prefix(3).map { "line \($0.line): \($0.ts)" })")
    }

    /// Contract section 1: a merged log is only roughly ordered. The simulator reproduces that:
    /// never more than a minute behind, but not perfectly ordered either.
    @Test func logIsRoughlyButNotPerfectlyTimeOrdered() throws {
        let run = try Shared.run()
        var maxSeen = try #require(run.exchanges.first).ts.milliseconds
        var late = 0
        var worst: Int64 = 0
        for e in run.exchanges {
            let behind = maxSeen - e.ts.milliseconds
            if behind > 0 {
                late += 1
                worst = max(worst, behind)
            }
            maxSeen = max(maxSeen, e.ts.milliseconds)
        }
        #expect(worst <= 60 * Timestamp.second, "an exchange is \(worst) ms behind the latest one before it")
        #expect(late > 0, "the log is perfectly ordered; a merged gateway log never is")
        #expect(late < run.exchanges.count / 2)
    }

    @Test func everyExchangeBelongsToAKnownAccount() throws {
        let run = try Shared.run()
        let known = Set(run.accounts.map(\.accountID))
        #expect(known.count == run.accounts.count, "duplicate account ids in accounts.jsonl")
        let unknown = Set(run.exchanges.map(\.accountID)).subtracting(known)
        #expect(unknown.isEmpty, "\(unknown.sorted().prefix(5))")
        #expect(run.summary.accounts == run.accounts.count)
    }

    /// labels.jsonl lists exactly the campaign accounts (those with a non-null `label` in accounts.jsonl).
    @Test func labelsListExactlyTheCampaignAccounts() throws {
        let run = try Shared.run()
        let labelled = Dictionary(uniqueKeysWithValues: run.labels.map { ($0.accountID, $0.campaign) })
        #expect(labelled.count == run.labels.count, "an account is listed twice in labels.jsonl")
        let campaignAccounts = run.accounts.filter { $0.label != nil }
        #expect(Set(labelled.keys) == Set(campaignAccounts.map(\.accountID)))
        for account in campaignAccounts {
            #expect(labelled[account.accountID] == account.label, "\(account.accountID)")
        }
        #expect(run.summary.campaignAccounts == run.labels.count)

        let counts = run.exchangeCounts()
        let silent = run.labels.filter { (counts[$0.accountID] ?? 0) == 0 }.map(\.accountID)
        #expect(silent.isEmpty, "labelled accounts without exchanges: \(silent.prefix(5))")
    }

    @Test func everyCampaignKindIsPresent() throws {
        let run = try Shared.run()
        let byCampaign = Dictionary(grouping: run.labels, by: \.campaign).mapValues(\.count)
        #expect(Set(byCampaign.keys) == ["hydra", "cot-harvest", "blend", "sleeper", "drip", "phoenix", "phoenix-return"])
        let p = Shared.smokeParameters()
        #expect(byCampaign["hydra"] == p.hydra.accounts)
        #expect(byCampaign["cot-harvest"] == p.cotHarvest.accounts)
        #expect(byCampaign["blend"] == p.blend.accounts)
        #expect(byCampaign["sleeper"] == p.sleeper.accounts)
        #expect(byCampaign["drip"] == p.drip.accounts)
        #expect(byCampaign["phoenix"] == p.phoenix.accounts)
        #expect(byCampaign["phoenix-return"] == p.phoenix.accounts)
        // Campaign labels agree with the simulator's own archetypes.
        let expected: [String: Archetype] = ["hydra": .hydra, "cot-harvest": .cotHarvest, "blend": .blend, "sleeper": .sleeper,
                                            "drip": .drip, "phoenix": .phoenix, "phoenix-return": .phoenixReturn]
        for label in run.labels {
            #expect(run.archetypes[label.accountID] == expected[label.campaign], "\(label.accountID)")
        }
    }

    /// The campaign with no shared hard infrastructure: no card, e-mail domain outside free mail, or address in common.
    @Test func sleeperAccountsShareNoHardInfrastructure() throws {
        let run = try Shared.run()
        let ids = Set(run.labels.filter { $0.campaign == "sleeper" }.map(\.accountID))
        let accounts = run.accounts.filter { ids.contains($0.accountID) }
        #expect(accounts.count >= 10)
        #expect(Set(accounts.compactMap(\.paymentFingerprint)).count == accounts.count)
        let freeMail: Set<String> = ["gmail.com", "outlook.com", "yahoo.com", "icloud.com", "hotmail.com", "proton.me"]
        #expect(accounts.allSatisfy { freeMail.contains($0.emailDomain ?? "") })
        var owners: [String: Set<String>] = [:]
        for e in run.exchanges where ids.contains(e.accountID) { owners[e.ip ?? "", default: []].insert(e.accountID) }
        let shared = owners.values.filter { $0.count > 1 }.count
        #expect(shared <= owners.count / 50, "\(shared) of \(owners.count) addresses are shared")
    }

    /// The campaign that comes back after a takedown: new accounts, new cards and domains, same system prompts.
    @Test func phoenixReturnsWithFreshInfrastructureAndTheSameFamily() throws {
        let run = try Shared.run()
        let first = Set(run.labels.filter { $0.campaign == "phoenix" }.map(\.accountID))
        let second = Set(run.labels.filter { $0.campaign == "phoenix-return" }.map(\.accountID))
        let cards = { (ids: Set<String>) in Set(run.accounts.filter { ids.contains($0.accountID) }.compactMap(\.paymentFingerprint)) }
        #expect(cards(first).isDisjoint(with: cards(second)))
        let lastFirst = run.exchanges.filter { first.contains($0.accountID) }.map(\.ts).max()
        let firstSecond = run.exchanges.filter { second.contains($0.accountID) }.map(\.ts).min()
        let gap = try #require(firstSecond).milliseconds - (try #require(lastFirst)).milliseconds
        #expect(gap > Timestamp.day, "the first wave goes silent a day before the second begins")
        let prompts = { (ids: Set<String>) in Set(run.exchanges.filter { ids.contains($0.accountID) }.compactMap(\.systemPrompt)) }
        #expect(!prompts(first).isDisjoint(with: prompts(second)))
    }

    @Test func theNewModelIsReleasedOnItsDay() throws {
        let run = try Shared.run()
        let p = Shared.smokeParameters()
        let release = p.start.adding(milliseconds: Int64(p.releaseDay) * Timestamp.day)
        let early = run.exchanges.filter { $0.model == p.models.released && $0.ts < release }
        #expect(early.isEmpty, "\(early.count) exchanges use \(p.models.released) before its release")
        #expect(run.exchanges.contains { $0.model == p.models.released })
    }
}
