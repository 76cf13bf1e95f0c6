import Foundation
import Testing
@testable import MoatSimulate

/// The same seed gives the same bytes; another seed gives other traffic.
@Suite struct DeterminismTests {
    static let files = [SimulatedRun.exchangesFile, SimulatedRun.accountsFile, SimulatedRun.labelsFile]

    @Test func sameSeedGivesIdenticalFiles() throws {
        let first = try Shared.run()
        let again = try SimulatedRun.generate(Shared.smokeParameters(), seed: Shared.seed, parse: false)
        defer { again.remove() }
        for file in Self.files {
            let a = try first.bytes(file)
            let b = try again.bytes(file)
            #expect(a.count == b.count, "\(file): \(a.count) vs \(b.count) bytes")
            #expect(a == b, "\(file) differs between two runs with the same seed")
        }
    }

    @Test func differentSeedGivesDifferentExchanges() throws {
        let first = try Shared.run()
        let other = try SimulatedRun.generate(Shared.smokeParameters(), seed: Shared.seed + 1, parse: false)
        defer { other.remove() }
        #expect(try first.bytes(SimulatedRun.exchangesFile) != other.bytes(SimulatedRun.exchangesFile))
        #expect(try first.bytes(SimulatedRun.accountsFile) != other.bytes(SimulatedRun.accountsFile))
        // The population's shape is the scenario's, whatever the seed.
        #expect(first.summary.accounts == other.summary.accounts)
        #expect(first.summary.campaignAccounts == other.summary.campaignAccounts)
    }
}
