/// Every threshold and weight of the detection engine, in one place.
///
/// Build one (the defaults are what the README's figures were measured with), then hand it to
/// `DetectionEngine`; it is frozen from then on.
public struct DetectionConfig: Sendable {
    // MARK: Event time
    /// Exchanges may arrive this much out of order (merged gateway replicas); they are replayed in time order.
    public var reorderWindowSeconds: Double = 120

    // MARK: Extraction score of one account (logistic model over its behaviour)
    public var scoreBias = -3.0
    public var weightChainOfThought = 3.0
    public var weightThinking = 0.7
    public var weightTools = 0.5
    public var weightTargetedCapability = 0.8
    public var weightProxyRotation = 1.5
    public var weightNewAccount = 0.8
    public var weightProgram = 0.4
    public var weightWeakVerification = 0.3
    public var weightTemplateReuse = 0.5
    /// Pseudo-count pulling an account's shares towards the population prior while it has few exchanges.
    public var priorStrength = 1.5
    /// An account younger than this at its first exchange counts as new.
    public var newAccountDays = 14.0

    // MARK: Coordination links
    /// An account takes part in links only while its extraction score is at least this.
    public var linkGate = 0.5
    /// Two accounts are joined when their infrastructure/identity links weigh at least `hardLinkThreshold`
    /// and all their links together at least `totalLinkThreshold`.
    public var hardLinkThreshold = 0.5
    public var totalLinkThreshold = 1.0
    /// Kind weights multiply the rarity of the shared value (1 for a value two accounts share, ~0 for one
    /// that most accounts share).
    public var kindWeights: [LinkKind: Double] = [
        .ip: 1.0, .cloudPrefix: 0.6, .payment: 1.0, .emailDomain: 0.8, .signupBurst: 0.7,
        .clientStack: 0.8, .systemPrompt: 0.6, .template: 0.7, .sync: 0.25,
    ]
    /// An exact residential IP is weaker evidence than a hosting one: residential proxy networks route
    /// through real customers' homes, and carrier NAT shares addresses.
    public var residentialIPWeight = 0.6
    /// Two accounts join only on at least this many distinct kinds of hard evidence (say an IP and a card),
    /// each from a single link of at least `minHardKindWeight`. At 2 it stops chains of one kind repeated
    /// (big-cloud /24s that roaming developers happen to share) but splits campaigns whose accounts share
    /// a prefix or a card, not both (cot-harvest's completeness fell to 25-38%), so the default is 1.
    public var minHardKinds = 1
    public var minHardKindWeight = 0.2
    /// Two groups that are both campaigns already merge only on hard links at least this strong.
    public var campaignMergeHardThreshold = 1.5
    /// A value shared by more accounts than this is common and stops linking.
    public var memberCaps: [LinkKind: Int] = [
        .ip: 128, .cloudPrefix: 128, .payment: 256, .emailDomain: 512, .signupBurst: 512,
        .clientStack: 1_024, .systemPrompt: 512, .template: 1_024, .sync: 64,
    ]
    /// Rarity is measured against at least this many accounts, so the first accounts of a replay do not
    /// look rare merely because few have been seen.
    public var rarityFloorAccounts = 1_000.0
    /// A sign-up hour is a burst when it holds this many times the average number of sign-ups per hour.
    public var signupBurstFactor = 3.0
    /// ...and at least this many sign-ups.
    public var signupBurstMinAccounts = 5
    /// An account's prompt template links it to others once the account has used it this many times.
    public var templateMinUses = 3
    /// Synchronized activity: accounts active in the same bucket of this many seconds.
    public var syncBucketSeconds = 60.0

    // MARK: Campaigns
    public var minCampaignAccounts = 3
    /// A linked group becomes a campaign when its members' mean extraction score reaches this.
    public var campaignMeanScore = 0.65
    /// An account with no campaign is reported `suspicious` only when its own score is this high
    /// after `suspiciousMinExchanges` exchanges.
    public var suspiciousScore = 0.985
    public var suspiciousMinExchanges = 50

    // MARK: Bounded memory
    public var maxValuesPerAccount = 96
    public var maxTemplatesPerAccount = 16
    public var maxPendingPartners = 32

    /// Hosting and cloud providers: a /24 of theirs is a meaningful shared prefix, a residential one is not.
    public var hostingKeywords = ["amazon", "google", "microsoft", "digitalocean", "hetzner", "ovh", "alibaba",
                                  "tencent", "akamai", "linode", "oracle", "vultr", "choopa", "leaseweb",
                                  "cloudflare", "contabo", "scaleway", "hostinger", "m247", "datacamp"]

    public init() {}
}

/// What two accounts can share.
public enum LinkKind: UInt8, Sendable, CaseIterable, Hashable {
    case ip, cloudPrefix, payment, emailDomain, signupBurst, clientStack, systemPrompt, template, sync

    /// Infrastructure and identity links. Content and timing links (a popular tool, a public benchmark,
    /// office hours) also join unrelated customers, so they only add to a hard link, never replace one.
    public var isHard: Bool {
        switch self {
        case .ip, .cloudPrefix, .payment, .emailDomain, .signupBurst: return true
        case .clientStack, .systemPrompt, .template, .sync: return false
        }
    }

    public var name: String {
        switch self {
        case .ip: return "IP address"
        case .cloudPrefix: return "hosting /24 prefix"
        case .payment: return "payment fingerprint"
        case .emailDomain: return "e-mail domain"
        case .signupBurst: return "sign-up burst"
        case .clientStack: return "user agent + TLS fingerprint"
        case .systemPrompt: return "system prompt"
        case .template: return "prompt template"
        case .sync: return "synchronized activity"
        }
    }
}
