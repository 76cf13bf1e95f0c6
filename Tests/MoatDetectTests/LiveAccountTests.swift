import MoatCore
import MoatDetect
import Testing

/// Accounts the provider registers while the engine runs (the gateway's live import).
@Suite("Detection engine: accounts registered while running")
struct LiveAccountTests {
    let fixture = ScenarioFixture.shared

    func run(_ engine: inout DetectionEngine, registerAfter: Int? = nil) throws -> Report {
        let reader = try ExchangeReader(path: fixture.exchangesPath)
        var n = 0
        while let e = try reader.next() {
            if n == registerAfter { _ = engine.register(accounts: fixture.accounts) }
            _ = engine.ingest(e)
            n += 1
        }
        _ = engine.flush()
        return engine.report()
    }

    @Test func registeringBeforeTrafficEqualsKnowingThemFromTheStart() throws {
        var known = DetectionEngine(accounts: fixture.accounts)
        var registered = DetectionEngine()
        #expect(registered.register(accounts: fixture.accounts).isEmpty, "no traffic yet: no verdicts")
        #expect(registered.knownAccounts == fixture.accounts.count)
        let a = try run(&known), b = try run(&registered)
        #expect(a.campaigns.map(\.accounts) == b.campaigns.map(\.accounts))
        #expect(a.accounts.map(\.accountID) == b.accounts.map(\.accountID))
        #expect(a.accounts.map(\.flaggedAt) == b.accounts.map(\.flaggedAt))
    }

    @Test func registeringMidwayAddsSignupEvidenceToAccountsAlreadySeen() throws {
        var blind = DetectionEngine()
        var late = DetectionEngine()
        let withoutIdentity = try run(&blind)
        let lines = try fixture.lines().count
        let withLateIdentity = try run(&late, registerAfter: lines / 3)
        let evidence = withLateIdentity.campaigns.flatMap(\.evidence).joined(separator: " ")
        let blindEvidence = withoutIdentity.campaigns.flatMap(\.evidence).joined(separator: " ")
        #expect(!blindEvidence.contains("payment") && !blindEvidence.contains("card"))
        #expect(evidence.contains("payment") || evidence.contains("card"), "late sign-up data shows in the evidence: \(evidence)")
        #expect(late.register(accounts: fixture.accounts).isEmpty, "registering the same accounts again changes nothing")
    }
}
