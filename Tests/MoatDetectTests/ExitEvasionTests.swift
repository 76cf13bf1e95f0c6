import MoatCore
import MoatDetect
import Testing

/// The exit-evasion signal: non-hosting exits that contradict the billing country, strongest when they
/// rotate through several countries (issue 10, regional controls).
@Suite("Detection engine: exit evasion against the billing country")
struct ExitEvasionTests {
    static let start = Timestamp(milliseconds: 1_775_000_000_000)

    /// One account billed in `billing`, sending `exits.count` exchanges an hour apart from these exits.
    func evasion(billing: String?, exits: [(country: String?, org: String)]) -> (Double, [String]) {
        let account = Account(accountID: "a-1", createdAt: Timestamp(milliseconds: Self.start.milliseconds - 400 * Timestamp.day),
                              verification: "business", program: "standard", country: billing)
        var engine = DetectionEngine(accounts: [account])
        for (k, exit) in exits.enumerated() {
            let ip = "81.\(10 + k % 200).\(k % 250).7"
            let e = Exchange(id: "x-\(k)", ts: Timestamp(milliseconds: Self.start.milliseconds + Int64(k) * 3_600_000),
                             accountID: "a-1", model: "m", inputTokens: 40, outputTokens: 300, turn: 0,
                             prompt: "Question number \(k) about gardening", stream: false,
                             client: Exchange.Client(ip: ip, asn: 64_500 + k % 7, asnOrg: exit.org, country: exit.country))
            _ = engine.ingest(e)
        }
        _ = engine.flush()
        let value = engine.scoreComponents(accountID: "a-1").first { $0.0 == "exitEvasion" }?.1 ?? -1
        return (value, engine.explain(accountID: "a-1"))
    }

    static let home = "HOME-BROADBAND"

    @Test func homeTrafficInTheBillingCountryScoresZero() {
        let (v, reasons) = evasion(billing: "US", exits: Array(repeating: ("US", Self.home), count: 60))
        #expect(v == 0)
        #expect(!reasons.joined().contains("exit evasion"))
    }

    @Test func residentialRotationThroughManyCountriesScoresHighAndIsExplained() {
        let countries = ["BR", "IN", "TR", "VN", "ID", "PL", "MX", "NG"]
        let (v, reasons) = evasion(billing: "US", exits: (0..<60).map { (countries[$0 % countries.count], "Residential ISP \($0 % 5)") })
        #expect(v > 0.8, "60 of 60 residential requests from 8 countries other than the billing one: \(v)")
        let text = reasons.joined(separator: " | ")
        #expect(text.contains("exit evasion") && text.contains("billing country US"), "\(text)")
    }

    @Test func oneForeignCountryCountsAtHalfStrength() {
        let (pinned, _) = evasion(billing: "US", exits: Array(repeating: ("DE", Self.home), count: 60))
        let (rotating, _) = evasion(billing: "US", exits: (0..<60).map { (["DE", "FR", "NL"][$0 % 3], Self.home) })
        #expect(pinned > 0.35 && pinned < 0.5, "all traffic from one other country: half strength (\(pinned))")
        #expect(rotating > 0.7, "three other countries: full strength (\(rotating))")
    }

    @Test func aShortTripAbroadBarelyCounts() {
        let exits: [(country: String?, org: String)] = (0..<60).map { $0 >= 52 ? ("FR", "Orange") : ("US", Self.home) }
        let (v, _) = evasion(billing: "US", exits: exits)
        #expect(v > 0 && v < 0.06, "8 of 60 requests from abroad: \(v)")
    }

    @Test func hostingExitsAbroadAreNotEvasion() {
        // A German company whose backend runs in a US cloud region.
        let (v, _) = evasion(billing: "DE", exits: Array(repeating: ("US", "AMAZON-02"), count: 60))
        #expect(v == 0)
    }

    @Test func withoutBillingOrExitCountriesThereIsNoSignal() {
        #expect(evasion(billing: nil, exits: Array(repeating: ("BR", Self.home), count: 30)).0 == 0)
        #expect(evasion(billing: "US", exits: Array(repeating: (nil, Self.home), count: 30)).0 == 0)
        #expect(evasion(billing: "US", exits: Array(repeating: ("not-a-country", Self.home), count: 30)).0 == 0)
    }

    @Test func evasionRaisesTheExtractionScoreOnlyThroughItsWeight() {
        let countries = ["BR", "IN", "TR", "VN"]
        let exits: [(country: String?, org: String)] = (0..<60).map { (countries[$0 % 4], Self.home) }
        func score(_ weight: Double) -> Double {
            var config = DetectionConfig()
            config.weightExitEvasion = weight
            var engine = DetectionEngine(config: config, accounts: [Account(accountID: "a-1", country: "US")])
            for (k, exit) in exits.enumerated() {
                _ = engine.ingest(Exchange(id: "x-\(k)", ts: Timestamp(milliseconds: Self.start.milliseconds + Int64(k) * 3_600_000),
                                           accountID: "a-1", model: "m", inputTokens: 40, outputTokens: 300,
                                           client: Exchange.Client(ip: "81.1.\(k).7", asnOrg: exit.org, country: exit.country)))
            }
            _ = engine.flush()
            return engine.accountScores().first { $0.accountID == "a-1" }?.score ?? -1
        }
        #expect(score(0.8) > score(0))
    }
}
