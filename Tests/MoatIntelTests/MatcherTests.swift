import MoatCore
@testable import MoatIntel
import Testing

@Suite("intel: STIX patterns")
struct PatternTests {
    @Test func patternsMoatWritesParseBack() throws {
        let quoted = PatternText.quote("it's a \\ test")
        #expect(quoted == #"'it\'s a \\ test'"#)
        let p = try STIXPattern.parse("[\(PatternText.userAgentPath) = \(quoted) AND \(PatternText.tlsPath) = 't13']")
        let tests = p.alternatives[0][0].conjunctions[0]
        #expect(tests.count == 2)
        #expect(tests[0].path == "extensions.http-request-ext.request_header.user-agent")
        #expect(tests[0].values == [.string("it's a \\ test")])
        #expect(tests[1].path == "extensions.\(MoatExtension.id).tls_fingerprint")
    }

    @Test func orAndParenthesesExpandToAlternatives() throws {
        let p = try STIXPattern.parse("[ipv4-addr:value = '1.2.3.4' OR (ipv4-addr:value ISSUBSET '10.0.0.0/8' AND autonomous-system:number != 5)] OR [user-account:user_id IN ('a', 'b')]")
        #expect(p.alternatives.count == 2)
        #expect(p.alternatives[0][0].conjunctions.count == 2)
        #expect(p.alternatives[0][0].conjunctions[1].map(\.op) == [.isSubset, .notEqual])
        #expect(p.alternatives[1][0].conjunctions[0][0].values.count == 2)
        let both = try STIXPattern.parse("[ipv4-addr:value = '1.2.3.4'] AND [autonomous-system:number = 64500]")
        #expect(both.alternatives.count == 1 && both.alternatives[0].count == 2)
    }

    @Test func unsupportedPatternsSayWhy() {
        for (pattern, why) in [("[file:name = 'a'] WITHIN 5 SECONDS", "WITHIN"), ("[file:name MATCHES '^a']", "MATCHES"),
                               ("[file:name = 'a'] FOLLOWEDBY [file:name = 'b']", "FOLLOWEDBY"), ("[file:hashes.MD5 = h'00']", "literals"),
                               ("[file:name = 'a'", "']'"), ("file:name = 'a'", "'['")] {
            do {
                _ = try STIXPattern.parse(pattern)
                Issue.record("parsed \(pattern)")
            } catch {
                #expect(error.message.contains(why), "\(pattern): \(error.message)")
            }
        }
    }

    @Test func likeMatchesSQLWildcards() {
        #expect(ObservedObject.like("python-requests/2.31", "python-requests/%"))
        #expect(ObservedObject.like("abc", "a_c"))
        #expect(!ObservedObject.like("abd", "a_c"))
        #expect(ObservedObject.like("", "%"))
    }
}

@Suite("intel: matching peers' indicators")
struct MatcherTests {
    /// Lab B: the operator's fresh accounts on the same network, stack, prompts and payment instrument,
    /// among lab B's own ordinary customers.
    static let newAccounts = ["lab-b-u1", "lab-b-u2", "lab-b-u3"]
    static let otherAccounts = (1...30).map { "lab-b-c\($0)" }

    static func labBExchanges(dayOffset: Int64 = 1) -> [Exchange] {
        var out: [Exchange] = []
        for (i, a) in newAccounts.enumerated() {
            for k in 0..<4 {
                out.append(IntelFixture.exchange("b-\(i)-\(k)", a, minutes: dayOffset * 1440 + Int64(k * 10 + i),
                                                 ip: i == 0 ? IntelFixture.campaignIPs[2] : "198.51.100.\(90 + i)", asn: 64500,
                                                 ua: IntelFixture.stackUA, tls: IntelFixture.stackTLS, systemPrompt: IntelFixture.systemPrompt))
            }
        }
        for (i, a) in otherAccounts.enumerated() {
            out.append(IntelFixture.exchange("bc-\(i)", a, minutes: dayOffset * 1440 + Int64(i), ip: "3.5.150.\(i + 1)", asn: 16509,
                                             ua: "python-requests/2.31", tls: "t13d_common", systemPrompt: "You are a helpful assistant."))
        }
        return out
    }

    static var labBAccounts: [Account] {
        newAccounts.map { Account(accountID: $0, emailDomain: IntelFixture.emailDomain.uppercased(), paymentFingerprint: IntelFixture.payment) }
            + otherAccounts.map { Account(accountID: $0, emailDomain: "gmail.com", paymentFingerprint: "pf_b_\($0)") }
    }

    static func received(tlp: TLP = .amber) throws -> [ReceivedIndicator] {
        let b = try IntelFixture.bundle(tlp: tlp)
        return ReceivedIndicator.indicators(in: b.bundle["objects"]?.array ?? [], source: "lab-a collection c1")
    }

    static func run(keys: KeyRing = KeyRing([IntelFixture.key]), config: MatchConfig = MatchConfig(),
                    exchanges: [Exchange] = labBExchanges()) throws -> [IndicatorMatch] {
        var m = IndicatorMatcher(indicators: try received(), keys: keys, config: config)
        for a in labBAccounts { m.observe(account: a) }
        for e in exchanges { m.observe(exchange: e) }
        return m.matches()
    }

    @Test func theOperatorsFreshAccountsMatchAndOrdinaryCustomersDoNot() throws {
        let matches = try Self.run()
        let matched = Set(matches.map(\.accountID))
        #expect(matched == Set(Self.newAccounts))
        let kinds = Set(matches.map(\.kind))
        for k in ["network-prefix", "autonomous-system", "client-stack", "system-prompt-sha256", "keyed:payment-fingerprint", "keyed:email-domain",
                  "keyed:ip-address"] {
            #expect(kinds.contains(k), "no \(k) match")
        }
        for m in matches {
            #expect(m.producer == "Lab A")
            #expect(m.tlp == .amber)
            #expect(m.confidence > 0 && m.weight == Double(m.confidence) / 100)
            #expect(m.reason.contains("Lab A"))
            #expect(m.source == "lab-a collection c1")
        }
        let ipMatches = matches.filter { $0.kind == "keyed:ip-address" }.map(\.accountID)
        #expect(ipMatches == ["lab-b-u1"], "only the account that reused an exact address")
        let signup = try #require(matches.first { $0.kind == "keyed:payment-fingerprint" })
        #expect(signup.exchanges == 0 && signup.reason.contains("sign-up"))
        let prefix = try #require(matches.first { $0.kind == "network-prefix" && $0.accountID == "lab-b-u2" })
        #expect(prefix.exchanges == 4)
        #expect(prefix.firstMatchedAt == IntelFixture.t0.adding(milliseconds: 1441 * Timestamp.minute))
    }

    @Test func observingReturnsEachNewMatchOnceAtTheEventThatCompletesIt() throws {
        var m = IndicatorMatcher(indicators: try Self.received(), keys: KeyRing([IntelFixture.key]))
        var streamed: [IndicatorMatch] = []
        var seen = Set<String>()
        for e in Self.labBExchanges() {
            for n in m.observe(exchange: e) {
                #expect(n.firstMatchedAt == e.ts, "a match is reported at the exchange that completes it")
                #expect(n.accountID == e.accountID)
                #expect(seen.insert(n.accountID + "|" + n.indicatorID).inserted, "reported twice")
                streamed.append(n)
            }
        }
        for a in Self.labBAccounts { streamed += m.observe(account: a) }
        let final = m.matches()
        #expect(Set(streamed.map { $0.accountID + "|" + $0.indicatorID }) == Set(final.map { $0.accountID + "|" + $0.indicatorID }))
        #expect(final.first { $0.kind == "network-prefix" }?.exchanges == 4, "the final view counts every matching exchange")
    }

    @Test func keyedHashesMatchOnlyWithTheKey() throws {
        let without = try Self.run(keys: KeyRing())
        #expect(!without.contains { $0.kind.hasPrefix("keyed:") })
        #expect(without.contains { $0.kind == "network-prefix" })
        let wrong = try TrustGroupKey(group: "x", keyID: IntelFixture.key.keyID, secret: Array(repeating: 9, count: 32))
        #expect(!(try Self.run(keys: KeyRing([wrong]))).contains { $0.kind.hasPrefix("keyed:") })
        let m = IndicatorMatcher(indicators: try Self.received(), keys: KeyRing())
        #expect(m.missingKeys == [IntelFixture.key.keyID])
    }

    @Test func indicatorsStopMatchingWhenTheyExpire() throws {
        // A year later every indicator's valid_until has passed.
        let late = Self.labBExchanges(dayOffset: 365)
        let expired = try Self.run(exchanges: late).filter { $0.exchanges > 0 }
        #expect(expired.isEmpty)
        let retro = try Self.run(config: MatchConfig(respectValidity: false), exchanges: late).filter { $0.exchanges > 0 }
        #expect(Set(retro.map(\.accountID)) == Set(Self.newAccounts))
        let i = try #require(try Self.received().first)
        #expect(i.isExpired(at: IntelFixture.t0.adding(milliseconds: 365 * Timestamp.day)))
    }

    @Test func anIndicatorMatchingManyOfOurAccountsIsTooBroadToWeigh() throws {
        let broad = ReceivedIndicator(object: .object([
            ("type", "indicator"), ("spec_version", "2.1"), ("id", .string(STIXIdentifier.make("indicator", seed: "broad"))),
            ("created", "2026-04-01T00:00:00.000Z"), ("modified", "2026-04-01T00:00:00.000Z"), ("confidence", 90),
            ("pattern", "[autonomous-system:number = 16509]"), ("pattern_type", "stix"), ("valid_from", "2026-04-01T00:00:00Z"),
        ]), source: "peer")!
        var m = IndicatorMatcher(indicators: [broad], config: MatchConfig(minAccountsForBreadth: 5))
        for e in Self.labBExchanges() { m.observe(exchange: e) }
        let matches = m.matches()
        #expect(matches.count == Self.otherAccounts.count)
        #expect(matches.allSatisfy { $0.tooBroad && $0.weight == 0 && $0.reason.contains("too broad") })
        // Unless the peer saw a campaign about that large: then as many matches are expected.
        let sized = ReceivedIndicator(object: broad.object.setting("extensions", MoatExtension.properties([("campaign_accounts", 12)])),
                                      source: "peer")!
        #expect(sized.peerCampaignAccounts == 12)
        var n = IndicatorMatcher(indicators: [sized], config: MatchConfig(minAccountsForBreadth: 5))
        for e in Self.labBExchanges() { n.observe(exchange: e) }
        #expect(n.matches().count == Self.otherAccounts.count)
        #expect(n.matches().allSatisfy { !$0.tooBroad && $0.weight == 0.9 })
    }

    @Test func familiesTheEngineObservesMatchTheirHashedSignatures() throws {
        var m = IndicatorMatcher(indicators: try Self.received())
        m.observe(accountID: "lab-b-u9", fingerprint: .promptFamily, value: "A11CE5", at: IntelFixture.t0.adding(milliseconds: Timestamp.day))
        m.observe(accountID: "lab-b-c1", fingerprint: .promptFamily, value: "0ther", at: IntelFixture.t0.adding(milliseconds: Timestamp.day))
        m.observe(accountID: "lab-b-u8", fingerprint: .requestShape, value: "max_tokens=8192 temperature=0 tools=0 thinking=1 stream=1",
                  at: IntelFixture.t0.adding(milliseconds: Timestamp.day))
        let matches = m.matches()
        #expect(matches.map(\.accountID).sorted() == ["lab-b-u8", "lab-b-u9"])
        #expect(Set(matches.map(\.kind)) == ["prompt-family", "request-shape"])
    }

    @Test func everyObservationOfAnAndPatternMustBeSeenForTheAccount() throws {
        let object: JSONValue = .object([
            ("type", "indicator"), ("id", .string(STIXIdentifier.make("indicator", seed: "and"))), ("modified", "2026-04-01T00:00:00.000Z"),
            ("pattern", "[ipv4-addr:value = '198.51.100.91'] AND [network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' NOT = 'python-requests/2.31']"),
            ("pattern_type", "stix"),
        ])
        var m = IndicatorMatcher(indicators: [ReceivedIndicator(object: object, source: "peer")!])
        for e in Self.labBExchanges() { m.observe(exchange: e) }
        #expect(m.matches().map(\.accountID) == ["lab-b-u2"])
        var ipOnly = IndicatorMatcher(indicators: [ReceivedIndicator(object: object, source: "peer")!])
        ipOnly.observe(exchange: IntelFixture.exchange("x", "someone", minutes: 0, ip: "198.51.100.91", asn: 1, ua: "python-requests/2.31", tls: "t"))
        #expect(ipOnly.matches().isEmpty)
    }

    @Test func unsupportedPatternsAreKeptButNeverMatch() {
        let object: JSONValue = .object([
            ("type", "indicator"), ("id", .string(STIXIdentifier.make("indicator", seed: "q"))),
            ("pattern", "[ipv4-addr:value = '198.51.100.91'] REPEATS 5 TIMES"), ("pattern_type", "stix"),
        ])
        let i = ReceivedIndicator(object: object, source: "peer")!
        #expect(i.parsed == nil && i.unsupported?.contains("REPEATS") == true)
        var m = IndicatorMatcher(indicators: [i])
        for e in Self.labBExchanges() { m.observe(exchange: e) }
        #expect(m.matches().isEmpty)
        #expect(m.unsupported.count == 1)
        // A newer version that revokes an indicator stops it from matching.
        let revoked = ReceivedIndicator(object: object.setting("pattern", "[ipv4-addr:value = '198.51.100.91']").setting("revoked", true),
                                        source: "peer")!
        #expect(revoked.parsed == nil && revoked.unsupported == "revoked by its producer")
    }
}
