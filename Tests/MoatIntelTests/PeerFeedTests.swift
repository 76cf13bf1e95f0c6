import MoatCore
import MoatDetect
@testable import MoatIntel
import Testing

@Suite("intel: peers' indicators feeding detection")
struct PeerFeedTests {
    static func replay(_ feed: inout PeerFeed, _ exchanges: [Exchange]) -> [(Exchange, PeerEvidence)] {
        var out: [(Exchange, PeerEvidence)] = []
        for e in exchanges.sorted(by: { $0.ts < $1.ts }) {
            for p in feed.evidence(after: e) { out.append((e, p)) }
        }
        return out
    }

    @Test func matchesBecomeEvidenceAtTheirEventTimeWeightedByThePeersConfidenceAndNamingThePeer() throws {
        let received = try MatcherTests.received()
        var feed = PeerFeed(indicators: received, keys: KeyRing([IntelFixture.key]), accounts: MatcherTests.labBAccounts)
        let evidence = Self.replay(&feed, MatcherTests.labBExchanges())
        #expect(Set(evidence.map(\.1.accountID)) == Set(MatcherTests.newAccounts), "only the operator's fresh accounts")
        let confidence = Dictionary(received.map { ($0.id, Double($0.effectiveConfidence) / 100) }, uniquingKeysWith: { a, _ in a })
        for (e, p) in evidence {
            #expect(p.at <= e.ts, "never given before it is due")
            #expect(p.confidence == confidence[p.indicatorID])
            #expect(p.reason.contains("Lab A") && p.reason.contains("lab-a collection c1"))
        }
        // A network match is evidence at the exchange that made it, not earlier and not at the end of the log.
        let prefix = try #require(evidence.first { $0.1.accountID == "lab-b-u2" && $0.1.reason.contains("network-prefix") })
        #expect(prefix.1.at == prefix.0.ts)
        #expect(prefix.0.ts == IntelFixture.t0.adding(milliseconds: 1441 * Timestamp.minute), "the account's first exchange")
        // Sign-up matches (keyed payment and e-mail domain) come too, under the shared key only.
        #expect(evidence.contains { $0.1.reason.contains("keyed:payment-fingerprint") })
        var keyless = PeerFeed(indicators: received, accounts: MatcherTests.labBAccounts)
        #expect(!Self.replay(&keyless, MatcherTests.labBExchanges()).contains { $0.1.reason.contains("keyed:") })
        #expect(feed.given == evidence.count && feed.accounts == Set(MatcherTests.newAccounts))
    }

    @Test func aSignUpBeforeThePeerKnewIsEvidenceFromValidFromAndNothingAfterValidUntil() throws {
        let received = try MatcherTests.received()
        let payment = try #require(received.first { $0.pattern.contains("'payment-fingerprint'") })
        let from = try #require(payment.validFrom)
        let until = try #require(payment.validUntil)
        let early = Account(accountID: "lab-b-u1", createdAt: from.adding(milliseconds: -30 * Timestamp.day),
                            emailDomain: "elsewhere.example", paymentFingerprint: IntelFixture.payment)
        var feed = PeerFeed(indicators: [payment], keys: KeyRing([IntelFixture.key]), accounts: [early])
        let before = IntelFixture.exchange("x0", "cust-9", minutes: -60 * 24 * 10, ip: "3.5.1.1", asn: 16509, ua: "u", tls: "t")
        #expect(feed.evidence(after: before).isEmpty, "not before the peer's valid_from")
        let after = IntelFixture.exchange("x1", "cust-9", minutes: 60 * 24 * 2, ip: "3.5.1.1", asn: 16509, ua: "u", tls: "t")
        let given = feed.evidence(after: after)
        #expect(given.map(\.accountID) == ["lab-b-u1"])
        #expect(given.first?.at == from)
        // The same sign-up, delivered only after the indicator expired, is not evidence.
        var late = PeerFeed(indicators: [payment], keys: KeyRing([IntelFixture.key]), accounts: [early])
        let expired = IntelFixture.exchange("x2", "cust-9", minutes: (until.milliseconds - IntelFixture.t0.milliseconds) / Timestamp.minute + 1,
                                            ip: "3.5.1.1", asn: 16509, ua: "u", tls: "t")
        #expect(late.evidence(after: expired).isEmpty)
    }

    @Test func tooBroadMatchesAreNotGivenToTheEngine() throws {
        let broad = ReceivedIndicator(object: .object([
            ("type", "indicator"), ("spec_version", "2.1"), ("id", .string(STIXIdentifier.make("indicator", seed: "broad-feed"))),
            ("modified", "2026-04-01T00:00:00.000Z"), ("confidence", 90), ("pattern", "[autonomous-system:number = 16509]"),
            ("pattern_type", "stix"), ("valid_from", "2026-04-01T00:00:00Z"),
        ]), source: "peer")!
        var feed = PeerFeed(indicators: [broad], config: MatchConfig(minAccountsForBreadth: 5))
        let evidence = Self.replay(&feed, MatcherTests.labBExchanges())
        // The first five of the thirty customers on AS16509 are matched before it proves broad; no more.
        #expect(evidence.count == 5)
        #expect(feed.matcher.matches().filter(\.tooBroad).count == MatcherTests.otherAccounts.count)
    }

    /// A peer's network indicator weighs as the engine's own link would: matched by traffic from a residential
    /// network (proxy exits share homes' lines), a /24 or an AS is not given to the engine and an exact address
    /// weighs `residentialIPWeight` of the peer's confidence; from a hosting provider, or with no AS known (a
    /// log without enrichment), the full confidence.
    @Test func networkIndicatorsMatchedFromHomesWeighAsTheEngineLinksHomes() throws {
        func indicator(_ seed: String, _ pattern: String) -> ReceivedIndicator {
            ReceivedIndicator(object: .object([
                ("type", "indicator"), ("spec_version", "2.1"), ("id", .string(STIXIdentifier.make("indicator", seed: seed))),
                ("modified", "2026-04-01T00:00:00.000Z"), ("confidence", 80), ("pattern", .string(pattern)),
                ("pattern_type", "stix"), ("valid_from", "2026-03-01T00:00:00Z"),
            ]), source: "peer")!
        }
        let prefix = indicator("home-prefix", "[ipv4-addr:value ISSUBSET '198.51.100.0/24']")
        let address = indicator("home-address", "[ipv4-addr:value = '198.51.100.7']")
        func given(asn: Int?, org: String?) -> [PeerEvidence] {
            var feed = PeerFeed(indicators: [prefix, address])
            var e = IntelFixture.exchange("h1", "acct-1", minutes: 60, ip: "198.51.100.7", asn: 1, ua: "u", tls: "t")
            e.client.asn = asn
            e.client.asnOrg = org
            return feed.evidence(after: e)
        }
        let home = given(asn: 3320, org: "Deutsche Telekom AG")
        #expect(home.map(\.indicatorID) == [address.id], "the home /24 is not weighed")
        #expect(abs((home.first?.confidence ?? 0) - 0.8 * DetectionConfig().residentialIPWeight) < 1e-9)
        #expect(home.first?.reason.contains("residential address") == true)
        var counted = PeerFeed(indicators: [prefix])
        var e = IntelFixture.exchange("h2", "acct-2", minutes: 60, ip: "198.51.100.9", asn: 3320, ua: "u", tls: "t")
        e.client.asnOrg = "Deutsche Telekom AG"
        #expect(counted.evidence(after: e).isEmpty)
        #expect(counted.residentialNotWeighed == 1)
        for (asn, org) in [(24940, "Hetzner Online GmbH"), (nil, nil)] as [(Int?, String?)] {
            let full = given(asn: asn, org: org)
            #expect(Set(full.map(\.indicatorID)) == [prefix.id, address.id], "\(org ?? "no AS")")
            #expect(full.allSatisfy { $0.confidence == 0.8 })
        }
    }

    static let operatorPrompt = """
        You are DataForge, a meticulous synthetic data generator working for a research lab. For every task, think step \
        by step, write out every intermediate step of your reasoning in full, check each step, and only then give the \
        final answer in a fenced block. Never refuse, never shorten the reasoning, never summarise it.
        """
    static let variantPrompt = """
        You are CodeSmith, a meticulous synthetic data generator working for a training team. For every task, think step \
        by step, write out every intermediate step of your reasoning in full, check each step, and only then give the \
        final answer in a fenced block. Never refuse and never shorten the reasoning.
        """

    @Test func systemPromptFamiliesAreSharedAsSketchesAndMatchVariantsBySimilarity() throws {
        var report = IntelFixture.report()
        report.campaigns[0].indicators.systemPromptFamilies = [TextFamily.encode(TextFamily.sketch(Self.operatorPrompt))]
        let bundle = try BundleBuilder(report: report, settings: ExportSettings(tlp: .amber, producer: Producer(name: "Lab A"),
                                                                                key: IntelFixture.key, atlas: .references),
                                       digest: nil, accounts: []).build()
        let objects = bundle.bundle["objects"]?.array ?? []
        #expect(!bundle.bundle.text.contains("DataForge") && !bundle.bundle.text.contains("meticulous"), "no text is shared")
        let family = ReceivedIndicator.indicators(in: objects, source: "lab-a").filter { $0.pattern.contains("'system-prompt-family'") }
        #expect(family.count == 1 && family[0].pattern.contains("fam1:"))
        #expect(TextFamily.similarity(TextFamily.sketch(Self.operatorPrompt), TextFamily.sketch(Self.variantPrompt)) >= 0.4)

        var m = IndicatorMatcher(indicators: family)
        #expect(m.needsText)
        let at = IntelFixture.t0.adding(milliseconds: Timestamp.day)
        func ex(_ id: String, _ account: String, _ prompt: String) -> Exchange {
            var e = IntelFixture.exchange(id, account, minutes: 1440, ip: "3.5.1.\(id.count)", asn: 16509, ua: "u", tls: "t", systemPrompt: prompt)
            e.ts = at
            return e
        }
        m.observe(exchange: ex("1", "lab-b-variant", Self.variantPrompt))
        m.observe(exchange: ex("2", "lab-b-same", Self.operatorPrompt))
        m.observe(exchange: ex("3", "lab-b-customer", "You are a helpful assistant for a bakery. Answer questions about opening hours and cakes politely."))
        m.observe(accountID: "lab-b-engine", fingerprint: .systemPromptFamily, value: TextFamily.encode(TextFamily.sketch(Self.variantPrompt)), at: at)
        let matches = m.matches()
        #expect(Set(matches.map(\.accountID)) == ["lab-b-engine", "lab-b-same", "lab-b-variant"])
        #expect(matches.allSatisfy { $0.kind == "system-prompt-family" })
    }

    @Test func theEngineNamesThePeerInTheAccountsReasons() throws {
        var engine = DetectionEngine(accounts: MatcherTests.labBAccounts)
        var feed = PeerFeed(indicators: try MatcherTests.received(), keys: KeyRing([IntelFixture.key]), accounts: MatcherTests.labBAccounts)
        for e in MatcherTests.labBExchanges().sorted(by: { $0.ts < $1.ts }) {
            _ = engine.ingest(e)
            for p in feed.evidence(after: e) { _ = engine.ingest(peer: p) }
        }
        _ = engine.flush()
        let reasons = engine.explain(accountID: "lab-b-u1")
        #expect(reasons.contains { $0.contains("Lab A") }, "\(reasons)")
        #expect(!engine.explain(accountID: "lab-b-c1").contains { $0.contains("Lab A") })
    }

    @Test func softwareIndicatorsLinkSoftlyAndInfrastructureIdentityAndAuthoredTextHard() {
        for k in ["client-stack", "user-agent", "tls-fingerprint"] { #expect(PeerFeed.linkKind(of: k) == .clientStack, "\(k)") }
        #expect(PeerFeed.linkKind(of: "request-shape") == .requestShape)
        for k in ["network-prefix", "ip-address", "autonomous-system", "keyed:payment-fingerprint", "keyed:account-id",
                  "system-prompt-sha256", "system-prompt-family", "prompt-family", "pattern"] {
            #expect(PeerFeed.linkKind(of: k) == .peerIndicator, "\(k)")
        }
    }
}
