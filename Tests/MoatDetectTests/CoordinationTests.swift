import MoatCore
@testable import MoatDetect
import Testing

/// Synthetic traffic for the new signals: families, co-activity, per-kind budgets.
struct Synthetic {
    var exchanges: [Exchange] = []
    var accounts: [Account] = []
    var rng = SystemRandomNumberGeneratorSeeded(seed: 42)
    let start = Timestamp(rfc3339: "2026-05-01T00:00:00Z")!.milliseconds

    mutating func account(_ id: String, card: String? = nil, email: String = "gmail.com") {
        let created = start - Int64.random(in: (30 * Timestamp.day)...(700 * Timestamp.day), using: &rng)
        accounts.append(Account(accountID: id, createdAt: Timestamp(milliseconds: created),
                                emailDomain: email, paymentFingerprint: card ?? "pm_" + id, verification: "phone",
                                program: "standard", country: "US"))
    }

    mutating func exchange(_ account: String, at ts: Int64, system: String? = nil, prompt: String, ip: String,
                           asn: Int = 7922, org: String = "COMCAST-7922", ua: String = "python-httpx/0.27.0",
                           thinking: Bool = false, tools: Int? = nil, maxTokens: Int? = nil, temperature: Double? = nil,
                           output: Int = 300, input: Int = 60) {
        exchanges.append(Exchange(
            id: "x\(exchanges.count)", ts: Timestamp(milliseconds: ts), accountID: account, model: "m-1", inputTokens: input,
            outputTokens: output, systemPrompt: system, prompt: prompt, reasoningTokens: thinking ? 1_500 : nil,
            thinkingRequested: thinking ? true : nil, tools: tools, maxTokens: maxTokens, temperature: temperature,
            client: Exchange.Client(ip: ip, asn: asn, asnOrg: org, country: "US", userAgent: ua, tlsFingerprint: "t13d1812h2_aa")))
    }

    func run(_ config: DetectionConfig = DetectionConfig()) -> Report { engine(config).report() }

    func engine(_ config: DetectionConfig = DetectionConfig()) -> DetectionEngine {
        var engine = DetectionEngine(config: config, accounts: accounts)
        for e in exchanges.sorted(by: { $0.ts.milliseconds < $1.ts.milliseconds }) { _ = engine.ingest(e) }
        _ = engine.flush()
        return engine
    }

    static let tasks = ["Work through the following in complete detail, justifying every stage: a tank fills at 3 litres a minute",
                        "Give an exhaustive worked answer to: how do hash tables resolve collisions in practice",
                        "Detail every premise and intermediate result: the expected number of coin flips to see two heads",
                        "Explain exhaustively, with every caveat, how a B-tree stays balanced on insertion"]
    static let chat = ["what should I cook tonight with leftover rice", "write a short poem about autumn rain",
                       "suggest a name for a bakery", "how do I get wine stains out of a carpet", "tell me a fun fact about owls"]
}

/// A small deterministic generator (SplitMix64), so the synthetic traffic is the same in every run.
struct SystemRandomNumberGeneratorSeeded: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Coordination, families and budgets")
struct CoordinationTests {
    static let researchPrompts = [
        "You are Lumen, a research assistant. Answer with exhaustive detail: every premise, every intermediate result, every caveat.",
        "You are Orrin, a thorough research assistant. Answer in exhaustive detail: each premise, each intermediate result, each caveat.",
        "You are Lumen, a research assistant. Give exhaustive answers covering every premise, every intermediate result and every caveat.",
    ]

    @Test func nearDuplicateSystemPromptsAreOneFamilyAndStrangersAreNot() {
        var index = FamilyIndex(config: DetectionConfig())
        let ids = Self.researchPrompts.map { index.family(of: $0, exact: StableHash.of($0)) }
        #expect(Set(ids).count == 1, "the three variants should be one family")
        let support = "You are Zendly Assistant, the customer support assistant for Zendly. Answer politely and concisely."
        #expect(index.family(of: support, exact: StableHash.of(support)) != ids[0])
        let (variants, similarity) = index.describe(ids[0])
        #expect(variants == 3)
        #expect(similarity >= 0.4)
    }

    /// Background: independent ordinary users on big ISPs, chatting at random times.
    static func background(_ s: inout Synthetic, accounts: Int, days: Int) {
        for u in 0..<accounts {
            let id = "bg-\(u)"
            s.account(id)
            for _ in 0..<(days * 6) {
                let ts = s.start + Int64.random(in: 0..<(Int64(days) * Timestamp.day), using: &s.rng)
                s.exchange(id, at: ts, prompt: Synthetic.chat.randomElement(using: &s.rng)!, ip: "73.12.\(u % 200).\(u % 250 + 1)",
                           ua: ["OpenAI/Python 1.40.0", "python-httpx/0.27.0", "Anthropic/Python 0.34.0"][u % 3])
            }
        }
    }

    /// A campaign with no shared card, address or e-mail domain: one scheduler fires a share of its accounts in
    /// waves; each sends ordinary chat and, under its own system-prompt family, extraction requests.
    @Test func scheduledCampaignWithoutSharedInfrastructureIsFound() {
        var s = Synthetic()
        let days = 3
        Self.background(&s, accounts: 60, days: days)
        let members = (0..<30).map { "sl-\($0)" }
        for m in members { s.account(m) }
        var wave = s.start + Timestamp.hour
        while wave < s.start + Int64(days) * Timestamp.day {
            for (k, m) in members.enumerated() where Double.random(in: 0..<1, using: &s.rng) < 0.6 {
                var ts = wave + Int64.random(in: 0..<(10 * Timestamp.minute), using: &s.rng)
                let ip = "98.207.\(k).\(Int(ts / (2 * Timestamp.day)) % 200 + 1)"  // its own home address, renewed
                for _ in 0..<2 {
                    if Bool.random(using: &s.rng) {
                        s.exchange(m, at: ts, system: Self.researchPrompts.randomElement(using: &s.rng)!,
                                   prompt: Synthetic.tasks.randomElement(using: &s.rng)!, ip: ip, thinking: true,
                                   maxTokens: 6_000, temperature: 0.4, output: 2_400)
                    } else {
                        s.exchange(m, at: ts, prompt: Synthetic.chat.randomElement(using: &s.rng)!, ip: ip)
                    }
                    ts += 40_000
                }
            }
            wave += 2 * Timestamp.hour + Int64.random(in: -(20 * Timestamp.minute)...(20 * Timestamp.minute), using: &s.rng)
        }
        let engine = s.engine()
        let report = engine.report()
        let found = report.campaigns.max { $0.accounts.count < $1.accounts.count }
        let caught = Set(found?.accounts ?? []).intersection(members)
        #expect(caught.count >= 27, "found \(caught.count) of 30: \(report.campaigns.map(\.accounts))")
        #expect(report.accounts.allSatisfy { $0.accountID.hasPrefix("sl-") }, "benign flagged: \(report.accounts.map(\.accountID))")
        #expect(found?.evidence.contains { $0.contains("bursts") } == true)
    }

    /// The same kind of campaign, its accounts starting one by one over half a day and each firing in only
    /// half of the waves, a third of them with an ordinary client: half of them are flagged within a day of its
    /// first request (the cluster is established on a few accounts, the rest join on fewer bursts).
    @Test func scheduledCampaignIsFlaggedWithinADayOfItsFirstRequest() {
        var s = Synthetic()
        let days = 3
        Self.background(&s, accounts: 60, days: days)
        let members = (0..<40).map { "sl-\($0)" }
        for m in members { s.account(m) }
        let activeFrom = Dictionary(uniqueKeysWithValues: members.enumerated().map {
            ($0.element, s.start + Int64($0.offset) * 18 * Timestamp.minute)
        })
        var first = Int64.max
        var wave = s.start + Int64.random(in: 0..<(2 * Timestamp.hour), using: &s.rng)
        while wave < s.start + Int64(days) * Timestamp.day {
            for (k, m) in members.enumerated() where activeFrom[m]! <= wave && Double.random(in: 0..<1, using: &s.rng) < 0.5 {
                var ts = wave + Int64.random(in: 0..<(15 * Timestamp.minute), using: &s.rng)
                let ip = "98.207.\(k).\(Int(ts / (3 * Timestamp.day)) % 200 + 1)"
                let ua = k % 3 != 0 ? "python-httpx/0.27.0" : ["OpenAI/Python 1.40.0", "Anthropic/Python 0.34.0"][k % 2]
                for _ in 0..<Int.random(in: 1...4, using: &s.rng) {
                    if Double.random(in: 0..<1, using: &s.rng) < 0.5 {
                        s.exchange(m, at: ts, system: Self.researchPrompts.randomElement(using: &s.rng)!,
                                   prompt: Synthetic.tasks.randomElement(using: &s.rng)!, ip: ip, ua: ua, thinking: true,
                                   maxTokens: 6_000, temperature: 0.4, output: 2_400)
                    } else {
                        s.exchange(m, at: ts, prompt: Synthetic.chat.randomElement(using: &s.rng)!, ip: ip, ua: ua)
                    }
                    first = min(first, ts)
                    ts += Int64.random(in: 20_000...90_000, using: &s.rng)
                }
            }
            wave += 2 * Timestamp.hour + Int64.random(in: -(25 * Timestamp.minute)...(25 * Timestamp.minute), using: &s.rng)
        }
        let report = s.run()
        let flagged = report.accounts.filter { $0.accountID.hasPrefix("sl-") }.compactMap { Timestamp(rfc3339: $0.flaggedAt)?.milliseconds }.sorted()
        #expect(flagged.count >= 36, "flagged \(flagged.count) of 40")
        let half = flagged.count >= 20 ? Double(flagged[19] - first) / Double(Timestamp.hour) : .infinity
        #expect(half <= 24, "half of the campaign flagged after \(half) h: \(flagged.map { Int(Double($0 - first) / Double(Timestamp.hour)) })")
        #expect(report.accounts.allSatisfy { $0.accountID.hasPrefix("sl-") }, "benign flagged: \(report.accounts.map(\.accountID))")
    }

    /// Users of one popular tool share its system prompt, client and request shape, and look extraction-like
    /// (thinking, tools); they work independently, so they are not a campaign.
    @Test func popularToolUsersWithoutSynchronyAreNotACampaign() {
        var s = Synthetic()
        let days = 4
        Self.background(&s, accounts: 40, days: days)
        let tool = "You are Forge, an AI coding assistant running in the user's terminal. Be concise."
        for u in 0..<30 {
            let id = "tool-\(u)"
            s.account(id)
            for day in 0..<days {
                let session = s.start + Int64(day) * Timestamp.day + Int64.random(in: (8 * Timestamp.hour)..<(18 * Timestamp.hour), using: &s.rng)
                for t in 0..<12 {
                    s.exchange(id, at: session + Int64(t) * 30_000, system: tool, prompt: "fix the failing test in module \(t)",
                               ip: "24.6.\(u).\(day + 1)", ua: "forge-cli/2.4.1", thinking: true, tools: 12, maxTokens: 16_000,
                               output: 900, input: 4_000)
                }
            }
        }
        let report = s.run()
        #expect(report.campaigns.isEmpty, "\(report.campaigns.map(\.evidence)) \(report.accounts.prefix(3).map(\.reasons))")
    }

    /// An account that first offers a hundred unique system prompts still forms its card and address links:
    /// each kind has its own budget, and the flood itself is counted.
    @Test func floodOfUniqueSystemPromptsDoesNotHideTheCampaign() {
        var s = Synthetic()
        Self.background(&s, accounts: 30, days: 2)
        let members = (0..<6).map { "fl-\($0)" }
        for (k, m) in members.enumerated() { s.account(m, card: "pm_pool_\(k % 2)", email: "mailtap\(k % 2).xyz") }
        var ts = s.start
        for m in members {
            for n in 0..<120 {
                s.exchange(m, at: ts, system: "Unique persona number \(n) for \(m): answer as a pirate who loves \(n * 7) parrots",
                           prompt: Synthetic.tasks[n % 4], ip: "5.9.33.\(n % 3 + 10)", org: "Hetzner Online GmbH", thinking: true,
                           maxTokens: 8_000, output: 2_000)
                ts += 20_000
            }
        }
        let report = s.run()
        let found = Set(report.campaigns.flatMap(\.accounts))
        #expect(found.isSuperset(of: members), "found \(found.sorted())")
    }

    /// Five extracting accounts, each on its own address, sharing nothing but what a peer's indicator says,
    /// among 30 ordinary ones over a day.
    static func peerRing(_ prefix: String) -> (Synthetic, [String]) {
        var s = Synthetic()
        Self.background(&s, accounts: 30, days: 1)
        let members = (0..<5).map { "\(prefix)-\($0)" }
        for m in members { s.account(m) }
        for (k, m) in members.enumerated() {
            for n in 0..<30 {
                s.exchange(m, at: s.start + Int64(k * 97 + n * 1_800) * 1_000, prompt: Synthetic.tasks[n % 4],
                           ip: "99.3.\(k).9", thinking: n % 2 == 0, maxTokens: 8_000, output: 1_800)
            }
        }
        return (s, members)
    }

    /// The ring's traffic with every member's exchange matching one peer indicator of `linkKind`.
    static func runWithPeer(_ s: Synthetic, _ members: [String], linkKind: LinkKind) -> Report {
        var engine = DetectionEngine(config: DetectionConfig(), accounts: s.accounts)
        for e in s.exchanges.sorted(by: { $0.ts.milliseconds < $1.ts.milliseconds }) {
            _ = engine.ingest(e)
            if members.contains(e.accountID) {
                _ = engine.ingest(peer: PeerEvidence(accountID: e.accountID, indicatorID: "indicator--peer-1", confidence: 0.9,
                                                     reason: "matched lab-a's indicator of its campaign (confidence 90)", at: e.ts,
                                                     linkKind: linkKind))
            }
        }
        _ = engine.flush()
        return engine.report()
    }

    /// Accounts that match one indicator a peer shared are linked and flagged sooner, and their reasons name
    /// the peer; without the peer's indicator the same traffic raises nothing.
    @Test func peerIndicatorLinksAccountsAndNamesThePeer() {
        let (s, members) = Self.peerRing("pe")
        #expect(s.run().campaigns.isEmpty, "without the peer's indicator there is no evidence across accounts")
        let report = Self.runWithPeer(s, members, linkKind: .peerIndicator)
        let flagged = Set(report.campaigns.flatMap(\.accounts))
        #expect(flagged == Set(members), "\(report.campaigns.map(\.accounts))")
        #expect(report.accounts.allSatisfy { $0.reasons.contains { $0.contains("lab-a") } })
    }

    /// A peer's indicator of a software default (a client stack, a request shape) links like the engine's own
    /// link of that kind: softly, so on its own it makes no campaign, however confident the peer (ordinary
    /// customers run the same SDK). The same traffic with an indicator of infrastructure does (above).
    @Test("a peer's client-stack or request-shape indicator alone links no accounts", arguments: [LinkKind.clientStack, .requestShape])
    func aSoftPeerIndicatorAloneMakesNoCampaign(kind: LinkKind) {
        let (s, members) = Self.peerRing("ps")
        let soft = Self.runWithPeer(s, members, linkKind: kind)
        #expect(soft.campaigns.isEmpty, "\(soft.campaigns.map(\.accounts))")
        #expect(Set(Self.runWithPeer(s, members, linkKind: .peerIndicator).campaigns.flatMap(\.accounts)) == Set(members),
                "the control: a hard indicator links them")
    }

    @Test func familySketchesArePortableAndCompare() throws {
        let a = TextFamily.sketch(Self.researchPrompts[0]), b = TextFamily.sketch(Self.researchPrompts[1])
        let other = TextFamily.sketch("You are a friendly travel planner. Suggest itineraries with budgets and maps.")
        #expect(TextFamily.similarity(a, b) >= 0.4)
        #expect(TextFamily.similarity(a, other) < 0.3)
        let decoded = try #require(TextFamily.decode(TextFamily.encode(a)))
        #expect(decoded == a)
        #expect(TextFamily.decode("fam1:xyz") == nil)
    }

    /// Two waves of one operator, each its own hosting /24 and its own cards, each a campaign on its own.
    /// Once the second is a campaign, its accounts also send from three of the first wave's addresses (a link
    /// that is neither a family nor a burst). `firstWaveSilent` says whether the first wave stopped two days
    /// before the second began.
    static func twoWaves(firstWaveSilent: Bool) -> Report {
        var s = Synthetic()
        Self.background(&s, accounts: 30, days: 8)
        let first = (0..<8).map { "wa-\($0)" }, second = (0..<8).map { "wb-\($0)" }
        for (k, m) in first.enumerated() { s.account(m, card: "pm_a\(k % 2)", email: "mail-a.xyz") }
        for (k, m) in second.enumerated() { s.account(m, card: "pm_b\(k % 2)", email: "mail-b.xyz") }
        func extract(_ m: String, _ ts: Int64, _ ip: String, _ n: Int) {
            s.exchange(m, at: ts, prompt: Synthetic.tasks[n % 4], ip: ip, org: "Hetzner Online GmbH", thinking: true,
                       maxTokens: 8_000, output: 2_000)
        }
        // The first wave: days 0-2, or days 0-7 when it does not go silent.
        let firstEnd = firstWaveSilent ? 2 * Timestamp.day : 7 * Timestamp.day
        for (k, m) in first.enumerated() {
            var n = 0
            let begin: Int64 = s.start + Int64(k) * 600_000
            for ts in stride(from: begin, to: s.start + firstEnd, by: Int(Timestamp.hour)) {
                extract(m, ts, "5.9.40.\(n % 3 + 10)", n)
                n += 1
            }
        }
        // The second wave: from day 4, its own /24; from day 6, also three of the first wave's addresses.
        for (k, m) in second.enumerated() {
            var n = 0
            let begin: Int64 = s.start + 4 * Timestamp.day + Int64(k) * 600_000
            let end: Int64 = s.start + 8 * Timestamp.day
            let lateFrom: Int64 = s.start + 6 * Timestamp.day
            for ts in stride(from: begin, to: end, by: Int(Timestamp.hour)) {
                let host = n % 3 + 10
                let ip = ts >= lateFrom && n % 2 == 0 ? "5.9.40.\(host)" : "88.99.7.\(host)"
                extract(m, ts, ip, n)
                n += 1
            }
        }
        return s.run()
    }

    /// A campaign that comes back after a takedown and is then linked to the first one (by addresses, not by a
    /// family) stays its own campaign, tied to the first by campaign memory; the same link between two live
    /// campaigns merges them.
    @Test func campaignLinkedToASilentOneIsTiedByMemoryNotMerged() throws {
        let silent = Self.twoWaves(firstWaveSilent: true)
        let byAccount = Dictionary(silent.campaigns.flatMap { c in c.accounts.map { ($0, c) } }, uniquingKeysWith: { a, _ in a })
        let a = try #require(byAccount["wa-0"]), b = try #require(byAccount["wb-0"])
        #expect(a.id != b.id, "the return was merged into the silent campaign")
        #expect(b.relatedCampaigns == [a.id])
        #expect(b.operatorID == a.operatorID)
        #expect(b.evidence.contains { $0.contains("campaign memory") && $0.contains(a.id) })
        #expect(Set(b.accounts).isSuperset(of: (0..<8).map { "wb-\($0)" }))

        let live = Self.twoWaves(firstWaveSilent: false)
        let merged = Dictionary(live.campaigns.flatMap { c in c.accounts.map { ($0, c.id) } }, uniquingKeysWith: { a, _ in a })
        #expect(merged["wa-0"] != nil && merged["wa-0"] == merged["wb-0"], "two live campaigns so linked merge: \(live.campaigns.map(\.accounts))")
    }

    /// Accounts that share only soft values (one client, one system prompt, one request shape), each with its
    /// own address, card and e-mail domain, keep no pair state: a soft value held by hundreds of accounts
    /// would otherwise store a pair for every two of them. Two of them that then share an address do get a
    /// pair, and it carries the soft evidence they already shared.
    @Test func softValuesAloneStoreNoPairsAndAHardLinkCountsThem() {
        var s = Synthetic()
        Self.background(&s, accounts: 60, days: 1)
        let members = (0..<40).map { "sv-\($0)" }
        for (k, m) in members.enumerated() { s.account(m, email: "own\(k).example") }
        for (k, m) in members.enumerated() {
            for n in 0..<6 {
                s.exchange(m, at: s.start + Int64(n * 40 + k) * 60_000, system: Self.researchPrompts[0], prompt: Synthetic.tasks[n % 4],
                           ip: "73.40.\(k).9", maxTokens: 4_000, temperature: 0.2)
            }
        }
        let before = s.engine()
        #expect(before.links.pairs.values.allSatisfy { $0.hard > 0 }, "a pair without hard evidence was stored")
        let ids = Set(members.compactMap { before.index[$0] })
        #expect(!before.links.pairs.keys.contains { ids.contains(Int32(truncatingIfNeeded: $0 >> 32)) || ids.contains(Int32(truncatingIfNeeded: $0)) },
                "soft values alone stored pairs")
        for n in 0..<4 {
            for m in members.prefix(2) {
                s.exchange(m, at: s.start + Int64(300 + n) * 60_000, system: Self.researchPrompts[0], prompt: Synthetic.tasks[n],
                           ip: "5.9.40.77", org: "Hetzner Online GmbH", maxTokens: 4_000, temperature: 0.2)
            }
        }
        let engine = s.engine()
        let key = LinkIndex.pairKey(engine.index["sv-0"]!, engine.index["sv-1"]!)
        let pair = engine.links.pairs[key]
        #expect(pair != nil && pair!.hard > 0)
        #expect((pair?.soft ?? 0) > 0, "the pair did not count the soft values the two share")
        #expect((pair?.familyKindCount ?? 0) >= 2)
    }
}

