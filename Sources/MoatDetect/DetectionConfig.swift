/// Every threshold and weight of the detection engine, in one place.
///
/// Build one (the defaults are what the README's figures were measured with), then hand it to
/// `DetectionEngine`; it is frozen from then on.
public struct DetectionConfig: Sendable {
    // MARK: Event time
    /// Exchanges may arrive this much out of order (merged gateway replicas); they are replayed in time order.
    public var reorderWindowSeconds: Double = 120

    // MARK: Extraction score of one account (logistic model over its behaviour)
    /// The score stands on behaviour that paraphrase cannot change (thinking, tools, how much longer answers
    /// are than requests, one-shot tasks, template reuse, model pivots, network rotation); requests for the
    /// reasoning in words the lexicon knows help, but only a little.
    public var scoreBias = -3.4
    public var weightChainOfThought = 1.0
    public var weightThinking = 2.2
    public var weightTools = 0.5
    public var weightTargetedCapability = 0.6
    /// Answers much longer than the requests (log ratio of output to input tokens).
    public var weightOutputHeavy = 1.2
    public var weightProxyRotation = 1.5
    public var weightNewAccount = 0.8
    public var weightProgram = 0.4
    public var weightWeakVerification = 0.3
    public var weightTemplateReuse = 0.5
    /// Requests that open a conversation rather than continue one (a harvest is many one-shot tasks).
    public var weightSingleShot = 0.5
    /// Share of traffic on a newly released model in the two days after it first appeared.
    public var weightModelPivot = 1.0
    /// Offered more distinct system prompts or templates than a budget holds (rotating to dodge families).
    public var weightFlood = 1.0
    /// Matched an indicator a peer shared, times the peer's confidence.
    public var weightPeerIndicator = 2.0
    /// Active in most hours of the day (an orchestrator never sleeps).
    public var weightRoundTheClock = 0.6
    /// Non-hosting exits (homes, carriers, residential proxies) in countries other than the billing one,
    /// strongest when they rotate through several countries (`AccountProfile.exitEvasion`).
    public var weightExitEvasion = 0.8
    /// Pseudo-count of home-country requests: a handful of requests from abroad is a trip, not evidence.
    public var exitEvasionPseudoRequests = 10.0
    /// Pseudo-count pulling an account's shares towards the population prior while it has few exchanges.
    public var priorStrength = 1.5
    /// An account younger than this at its first exchange counts as new.
    public var newAccountDays = 14.0

    // MARK: Coordination links
    /// An account takes part in links only while its extraction score is at least this.
    public var linkGate = 0.45
    /// ...or this, for two accounts that also share text an operator wrote (a system-prompt family or a
    /// prompt's framing): the group's bar (`familyGroupMeanScore`) still decides whether it is a campaign.
    public var familyLinkGate = 0.3
    /// Two accounts are joined when their infrastructure/identity links weigh at least `hardLinkThreshold`
    /// and all their links together at least `totalLinkThreshold`.
    public var hardLinkThreshold = 0.5
    /// ...or this much, for two accounts that also share text an operator wrote.
    public var familyHardThreshold = 0.35
    public var totalLinkThreshold = 1.0
    /// Kind weights multiply the rarity of the shared value (1 for a value two accounts share, ~0 for one
    /// that most accounts share).
    public var kindWeights: [LinkKind: Double] = [
        .ip: 1.0, .cloudPrefix: 0.6, .payment: 1.0, .emailDomain: 0.8, .signupBurst: 0.7,
        .clientStack: 0.8, .systemPrompt: 0.6, .template: 0.7, .requestShape: 0.4, .coactivity: 0.8, .peerIndicator: 1.0,
    ]
    /// An exact residential IP is weaker evidence than a hosting one: residential proxy networks route
    /// through real customers' homes, and carrier NAT shares addresses.
    public var residentialIPWeight = 0.6
    /// A shared address weighs fully when it carries this share of both accounts' traffic (geometric mean),
    /// proportionally less below.
    public var networkShareFull = 0.1
    /// Two accounts join only on at least this many distinct kinds of hard evidence (say an IP and a card),
    /// each from a single link of at least `minHardKindWeight`. At 2 it stops chains of one kind repeated
    /// (big-cloud /24s that roaming developers happen to share) but splits campaigns whose accounts share
    /// a prefix or a card, not both (cot-harvest's completeness fell to 25-38%), so the default is 1.
    public var minHardKinds = 1
    public var minHardKindWeight = 0.2
    /// A pair whose only hard evidence is network addresses needs this many shared addresses, or one plus
    /// this many kinds of family evidence.
    public var networkOnlyMinValues = 3
    public var networkOnlyMinFamilyKinds = 2
    /// Two groups that are both campaigns already merge only on hard links at least this strong.
    public var campaignMergeHardThreshold = 1.5
    /// A value shared by more accounts than this is common and stops linking.
    public var memberCaps: [LinkKind: Int] = [
        .ip: 128, .cloudPrefix: 128, .payment: 256, .emailDomain: 512, .signupBurst: 512,
        .clientStack: 1_024, .systemPrompt: 512, .template: 1_024, .requestShape: 512, .coactivity: 4_096, .peerIndicator: 512,
    ]
    /// How many distinct values of each kind one account may register. Each kind has its own budget, so an
    /// account that floods one kind (a hundred unique system prompts) still forms links of the others; the
    /// flood itself is counted and scored.
    public var valueBudgets: [LinkKind: Int] = [
        .ip: 48, .cloudPrefix: 48, .payment: 4, .emailDomain: 4, .signupBurst: 2,
        .clientStack: 8, .systemPrompt: 12, .template: 24, .requestShape: 12, .coactivity: 8, .peerIndicator: 16,
    ]
    /// An account that offers more than this many distinct values of one content kind is flooding it.
    public var floodValues = 40
    /// Rarity is measured against at least this many accounts, so the first accounts of a replay do not
    /// look rare merely because few have been seen.
    public var rarityFloorAccounts = 1_000.0
    /// A sign-up hour is a burst when it holds this many times the average number of sign-ups per hour.
    public var signupBurstFactor = 3.0
    /// ...and at least this many sign-ups.
    public var signupBurstMinAccounts = 5
    /// An account's prompt template links it to others once the account has used it this many times. (At 2,
    /// `standard`'s low-and-slow drip was found 2-5 h sooner on every seed, but on the small `smoke` world with
    /// the built-in corpus, where unrelated campaigns reuse the same framings, three campaigns merged into
    /// one: purity 23-40%. So 3.)
    public var templateMinUses = 3
    /// ...and its request shape (max_tokens, temperature, tools, thinking, stream) likewise.
    public var shapeMinUses = 3

    // MARK: System-prompt families (near duplicates)
    public var familyHashes = 64
    public var familyBands = 32
    /// Two system prompts are one family when this share of their MinHash values agree (≈ Jaccard of their
    /// sets of masked words).
    public var familySimilarity = 0.4
    public var maxFamilies = 100_000
    public var maxFamilyTexts = 400_000

    // MARK: Co-activity (SynchroTrap-style)
    /// Window lengths, and how many windows before each one form its baseline.
    public var coactivityWindowSeconds: [Double] = [60, 900]
    public var coactivityBaselineWindows: [Int] = [60, 8]
    /// A window is a burst of a value when at least this many accounts used it, `burstLift` times the
    /// baseline, with a Poisson tail below `burstAlpha`.
    public var burstMinAccounts = 3
    public var burstLift = 3.0
    /// The baseline skips this many windows just before (a burst that spans two windows does not hide itself).
    public var burstSkipWindows = 2
    public var burstAlpha = 1e-4
    /// The busiest share of the windows before that the baseline may leave out (a scheduler's previous wave
    /// falls in them). Off by default: 0.25 caught a small sleeper campaign much sooner (156 h to 46 h on a
    /// held-out run) but a large one later (31 h to 41 h), and it was chosen by looking at held-out runs.
    public var burstBaselineTrim = 0.0
    /// An account is synchronized with a value after this many bursts spread over `syncMinSpanHours`, when
    /// at least `syncMinShare` of its windows with the value were bursts and a binomial test against the
    /// value's burst rate (times `syncNullInflation`) gives less than `syncAlpha`. One account at 1e-2 may be
    /// chance; the cluster (`syncClusterMinAccounts` on the same bursts) and the extraction gates are not.
    public var syncMinBursts = 4
    public var syncMinSpanHours = 6.0
    public var syncMinShare = 0.6
    public var syncAlpha = 1e-2
    public var syncNullInflation = 1.0
    /// Synchronized accounts count as coordination only once this many share one value's bursts: each alone
    /// may be chance at `syncAlpha`, several on the same bursts are not.
    public var syncClusterMinAccounts = 3
    /// Once a value has an established cluster, an account joins it on fewer bursts over a shorter span (the
    /// same tests otherwise): the schedule is already known.
    public var syncJoinMinBursts = 3
    public var syncJoinMinSpanHours = 3.0
    /// ...and its binomial test is at this level: the cluster's existence is already established at
    /// `syncAlpha`, what remains is whether this account keeps to its bursts.
    public var syncJoinAlpha = 3e-2
    /// A synchronized account's traffic with another value is coordinated too when it took part in this
    /// many bursts of the value on which an established cluster formed.
    public var syncPartMinBursts = 1
    /// A synchronized account joins the cluster of the value whose bursts hold this share of its own; two
    /// clusters (of any values) whose bursts overlap this much are one scheduler.
    public var syncClusterOverlap = 0.4
    public var clusterMergeOverlap = 0.5
    public var coactivityRecordsPerAccount = 8

    // MARK: Families across groups, and campaign memory
    /// A group in a campaign merges with another campaign through a soft value (system-prompt family,
    /// template, request shape, client stack) that both hold at least `familyMinHolders` times, when the two
    /// hold at least `familyMergeShare` of the value's holders. A candidate account outside any campaign
    /// joins one through such a value when the campaign holds `familyAttachShare` of its holders.
    public var familyMinHolders = 3
    public var familyMergeShare = 0.2
    public var familyAttachShare = 0.3
    /// ...and only through a value that at least this share of its holders hold while extracting (a score of
    /// `familyLinkGate` or more, or campaign members): a value ordinary customers share ties nothing.
    public var familyExtractingShare = 0.8
    /// A campaign silent for this long is remembered rather than extended: accounts that match its families
    /// later form a new campaign tied to it (same operator).
    public var memoryGapHours = 24.0

    // MARK: Campaigns
    public var minCampaignAccounts = 3
    /// A linked group becomes a campaign when its members' mean extraction score reaches this.
    public var campaignMeanScore = 0.55
    /// ...or this, when at least `familyGroupShare` of its members also share one authored family (a system
    /// prompt or prompt framing the operator wrote), evidence that is rare among ordinary groups.
    public var familyGroupMeanScore = 0.45
    public var familyGroupShare = 0.8
    /// An account with no campaign is reported `suspicious` only when its own score is this high
    /// after `suspiciousMinExchanges` exchanges.
    public var suspiciousScore = 0.985
    public var suspiciousMinExchanges = 50

    // MARK: Bounded memory
    public var maxPrefixesPerAccount = 96
    public var maxTemplatesPerAccount = 16
    public var maxPendingPartners = 32

    /// Hosting and cloud providers: a /24 of theirs is a meaningful shared prefix, a residential one is not.
    /// Recognized by the AS organisation's name: the largest clouds by name, the rest by the words hosting
    /// companies use. Operators add their own (`hostingASNs`) or enrich `client.asn_org` at the edge.
    public var hostingKeywords = ["amazon", "google", "microsoft", "azure", "digitalocean", "hetzner", "ovh", "alibaba",
                                  "tencent", "akamai", "linode", "oracle", "vultr", "choopa", "leaseweb",
                                  "cloudflare", "contabo", "scaleway", "m247", "datacamp",
                                  "hosting", "host", "server", "cloud", "datacenter", "data center", "vps", "dedicated",
                                  "colocation", "colo "]
    public var hostingASNs: Set<Int> = []

    /// Whether traffic from this AS (its organisation's name, its number) comes from a hosting or cloud
    /// provider rather than a home, a carrier or a residential proxy exit.
    public func isHosting(asnOrg: String?, asn: Int?) -> Bool {
        if let asn, hostingASNs.contains(asn) { return true }
        guard let org = asnOrg?.lowercased() else { return false }
        return hostingKeywords.contains { org.contains($0) }
    }

    public init() {}
}

/// What two accounts can share.
public enum LinkKind: UInt8, Sendable, CaseIterable, Hashable {
    case ip, cloudPrefix, payment, emailDomain, signupBurst, clientStack, systemPrompt, template, requestShape, coactivity
    /// An indicator received from a peer (another lab's shared intelligence) that the account matched.
    case peerIndicator

    /// Infrastructure and identity links. Content and timing links (a popular tool, a public benchmark,
    /// office hours) also join unrelated customers, so they only add to a hard link, never replace one.
    public var isHard: Bool {
        switch self {
        case .ip, .cloudPrefix, .payment, .emailDomain, .signupBurst, .peerIndicator: return true
        case .clientStack, .systemPrompt, .template, .requestShape, .coactivity: return false
        }
    }

    /// Soft values that carry co-activity evidence: software and content an operator reuses.
    public var isFamily: Bool {
        switch self {
        case .clientStack, .systemPrompt, .template, .requestShape: return true
        default: return false
        }
    }

    /// Text an operator writes (system prompts, the framing of prompts): what ties groups of one campaign.
    /// Client stacks and request shapes are software defaults that ordinary customers share too.
    public var isAuthored: Bool { self == .systemPrompt || self == .template }

    public var name: String {
        switch self {
        case .ip: return "IP address"
        case .cloudPrefix: return "hosting /24 prefix"
        case .payment: return "payment fingerprint"
        case .emailDomain: return "e-mail domain"
        case .signupBurst: return "sign-up burst"
        case .clientStack: return "user agent + TLS fingerprint"
        case .systemPrompt: return "system-prompt family"
        case .template: return "prompt template"
        case .requestShape: return "request shape"
        case .coactivity: return "synchronized activity"
        case .peerIndicator: return "peer indicator"
        }
    }
}
