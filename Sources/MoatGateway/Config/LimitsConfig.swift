/// Usage limits: named tiers, and rules that give an account its tier.
public struct LimitsConfig: Codable, Sendable {
    public var defaultTier = "standard"
    public var tiers: [String: Tier] = [
        "standard": Tier(account: Limits(requestsPerMinute: 600, inputTokensPerMinute: 2_000_000, outputTokensPerMinute: 400_000,
                                         tokensPerDay: 100_000_000)),
        "throttled": Tier(account: Limits(requestsPerMinute: 5, inputTokensPerMinute: 20_000, outputTokensPerMinute: 4_000,
                                          tokensPerDay: 500_000)),
    ]
    /// First matching rule wins; unmatched accounts get `default_tier`.
    public var assign: [Rule] = []
    /// Output tokens reserved at admission when a request names no `max_tokens`.
    public var defaultMaxTokens = 4_096

    /// Limits per scope: each API key, each account, each organisation.
    public struct Tier: Codable, Sendable {
        public var key: Limits?
        public var account: Limits?
        public var org: Limits?

        public init(key: Limits? = nil, account: Limits? = nil, org: Limits? = nil) {
            self.key = key
            self.account = account
            self.org = org
        }
    }

    public struct Limits: Codable, Sendable, Equatable {
        public var requestsPerMinute: Int?
        public var inputTokensPerMinute: Int?
        public var outputTokensPerMinute: Int?
        public var tokensPerDay: Int?

        public init(requestsPerMinute: Int? = nil, inputTokensPerMinute: Int? = nil, outputTokensPerMinute: Int? = nil,
                    tokensPerDay: Int? = nil) {
            self.requestsPerMinute = requestsPerMinute
            self.inputTokensPerMinute = inputTokensPerMinute
            self.outputTokensPerMinute = outputTokensPerMinute
            self.tokensPerDay = tokensPerDay
        }

        enum CodingKeys: String, CodingKey {
            case requestsPerMinute = "requests_per_minute"
            case inputTokensPerMinute = "input_tokens_per_minute"
            case outputTokensPerMinute = "output_tokens_per_minute"
            case tokensPerDay = "tokens_per_day"
        }
    }

    /// Gives a tier by program and/or verification level (contract section 2).
    public struct Rule: Codable, Sendable {
        public var program: String?
        public var verification: String?
        public var tier: String

        public init(program: String? = nil, verification: String? = nil, tier: String) {
            self.program = program
            self.verification = verification
            self.tier = tier
        }
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case tiers, assign
        case defaultTier = "default_tier"
        case defaultMaxTokens = "default_max_tokens"
    }

    /// The tier of an account with this program and verification.
    public func tier(program: String?, verification: String?) -> String {
        for rule in assign {
            if let p = rule.program, p != program { continue }
            if let v = rule.verification, v != verification { continue }
            return rule.tier
        }
        return defaultTier
    }
}

/// What the gateway does with detection verdicts.
public struct PolicyConfig: Codable, Sendable {
    /// Action for an account in a detected campaign: allow, fingerprint, throttle, withhold_reasoning,
    /// withhold_reasoning+fingerprint, block.
    public var campaign = GatewayAction.block
    /// Action for an account flagged `suspicious` without a campaign.
    public var suspicious = GatewayAction.withholdReasoning
    /// Campaign verdicts below this confidence go to the review queue instead of being acted on.
    public var reviewBelowConfidence = 0.0
    /// Act on every account of a campaign (cluster takedown), not only on those seen since.
    public var takedown = true
    /// Tier used by the `throttle` action.
    public var throttleTier: String? = "throttled"

    public init() {}

    enum CodingKeys: String, CodingKey {
        case campaign, suspicious, takedown
        case reviewBelowConfidence = "review_below_confidence"
        case throttleTier = "throttle_tier"
    }
}

/// An enforcement action.
public enum GatewayAction: String, Codable, Sendable, CaseIterable {
    case allow
    /// Serve, with the answers' text marked by the campaign's fingerprint key.
    case fingerprint
    case throttle
    case withholdReasoning = "withhold_reasoning"
    /// Both countermeasures: reasoning withheld, the rest marked.
    case withholdReasoningAndFingerprint = "withhold_reasoning+fingerprint"
    case block

    /// Stricter actions win when several apply.
    var severity: Int {
        switch self {
        case .allow: return 0
        case .fingerprint: return 1
        case .withholdReasoning: return 2
        case .withholdReasoningAndFingerprint: return 3
        case .throttle: return 4
        case .block: return 5
        }
    }

    /// The answer transforms this action applies.
    var withholdsReasoning: Bool { self == .withholdReasoning || self == .withholdReasoningAndFingerprint }
    var fingerprints: Bool { self == .fingerprint || self == .withholdReasoningAndFingerprint }

    /// Also accepts the combination written the other way round (`fingerprint+withhold_reasoning`).
    public init?(name: String) {
        if name == "fingerprint+withhold_reasoning" {
            self = .withholdReasoningAndFingerprint
        } else {
            self.init(rawValue: name)
        }
    }

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        guard let action = GatewayAction(name: name) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription:
                "`\(name)` is not an action: one of \(GatewayAction.allCases.map(\.rawValue).joined(separator: ", "))"))
        }
        self = action
    }
}
