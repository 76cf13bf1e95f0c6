/// The detection report written by `moat detect` (contract section 4).
public struct Report: Sendable, Equatable, Codable {
    public var version: Int
    public var summary: Summary
    public var campaigns: [Campaign]
    public var accounts: [AccountVerdict]

    public init(version: Int = 1, summary: Summary, campaigns: [Campaign], accounts: [AccountVerdict]) {
        self.version = version
        self.summary = summary
        self.campaigns = campaigns
        self.accounts = accounts
    }

    public struct Summary: Sendable, Equatable, Codable {
        public var exchanges: Int
        public var accounts: Int
        public var invalidLines: Int
        public var firstTs: String?
        public var lastTs: String?
        public var campaigns: Int
        public var flaggedAccounts: Int
        /// Exchanges dropped because their id repeated one seen shortly before (an optional addition to the contract).
        public var duplicateExchanges: Int?

        public init(exchanges: Int = 0, accounts: Int = 0, invalidLines: Int = 0, firstTs: String? = nil,
                    lastTs: String? = nil, campaigns: Int = 0, flaggedAccounts: Int = 0, duplicateExchanges: Int? = nil) {
            self.duplicateExchanges = duplicateExchanges
            self.exchanges = exchanges
            self.accounts = accounts
            self.invalidLines = invalidLines
            self.firstTs = firstTs
            self.lastTs = lastTs
            self.campaigns = campaigns
            self.flaggedAccounts = flaggedAccounts
        }

        enum CodingKeys: String, CodingKey {
            case exchanges, accounts, campaigns
            case invalidLines = "invalid_lines"
            case firstTs = "first_ts"
            case lastTs = "last_ts"
            case flaggedAccounts = "flagged_accounts"
            case duplicateExchanges = "duplicate_exchanges"
        }
    }

    public struct Campaign: Sendable, Equatable, Codable {
        public var id: String
        public var accounts: [String]
        public var exchanges: Int
        public var firstSeen: String
        public var lastSeen: String
        public var detectedAt: String
        public var confidence: Double
        public var capabilities: [String: Double]
        public var indicators: Indicators
        public var evidence: [String]
        /// Campaign memory (an optional addition to the contract): campaigns that carry the same operator id
        /// were tied to one operator by their behaviour and families, e.g. a campaign that came back with fresh
        /// accounts after a takedown. `OP-0001`.
        public var operatorID: String?
        /// Earlier campaigns this one was tied to by campaign memory (optional addition).
        public var relatedCampaigns: [String]?

        public init(id: String, accounts: [String], exchanges: Int, firstSeen: String, lastSeen: String,
                    detectedAt: String, confidence: Double, capabilities: [String: Double],
                    indicators: Indicators = Indicators(), evidence: [String] = [], operatorID: String? = nil,
                    relatedCampaigns: [String]? = nil) {
            self.operatorID = operatorID
            self.relatedCampaigns = relatedCampaigns
            self.id = id
            self.accounts = accounts
            self.exchanges = exchanges
            self.firstSeen = firstSeen
            self.lastSeen = lastSeen
            self.detectedAt = detectedAt
            self.confidence = confidence
            self.capabilities = capabilities
            self.indicators = indicators
            self.evidence = evidence
        }

        enum CodingKeys: String, CodingKey {
            case id, accounts, exchanges, confidence, capabilities, indicators, evidence
            case operatorID = "operator"
            case relatedCampaigns = "related_campaigns"
            case firstSeen = "first_seen"
            case lastSeen = "last_seen"
            case detectedAt = "detected_at"
        }
    }

    public struct Indicators: Sendable, Equatable, Codable {
        public var ipPrefixes: [String]
        public var asns: [Int]
        public var userAgents: [String]
        public var tlsFingerprints: [String]
        public var paymentFingerprints: [String]
        public var emailDomains: [String]
        public var systemPromptHashes: [String]
        public var promptTemplates: [String]
        /// Optional additions: near-duplicate families (hex signatures of the family, never the text) of
        /// system prompts and of user-prompt templates, and the request shapes the campaign's orchestrator
        /// sends (`max_tokens=8192 temperature=0 tools=0 thinking=1 stream=1`).
        public var systemPromptFamilies: [String]?
        public var promptFamilies: [String]?
        public var requestShapes: [String]?

        public init(ipPrefixes: [String] = [], asns: [Int] = [], userAgents: [String] = [],
                    tlsFingerprints: [String] = [], paymentFingerprints: [String] = [], emailDomains: [String] = [],
                    systemPromptHashes: [String] = [], promptTemplates: [String] = [],
                    systemPromptFamilies: [String]? = nil, promptFamilies: [String]? = nil, requestShapes: [String]? = nil) {
            self.systemPromptFamilies = systemPromptFamilies
            self.promptFamilies = promptFamilies
            self.requestShapes = requestShapes
            self.ipPrefixes = ipPrefixes
            self.asns = asns
            self.userAgents = userAgents
            self.tlsFingerprints = tlsFingerprints
            self.paymentFingerprints = paymentFingerprints
            self.emailDomains = emailDomains
            self.systemPromptHashes = systemPromptHashes
            self.promptTemplates = promptTemplates
        }

        enum CodingKeys: String, CodingKey {
            case asns
            case ipPrefixes = "ip_prefixes"
            case userAgents = "user_agents"
            case tlsFingerprints = "tls_fingerprints"
            case paymentFingerprints = "payment_fingerprints"
            case emailDomains = "email_domains"
            case systemPromptHashes = "system_prompt_hashes"
            case promptTemplates = "prompt_templates"
            case systemPromptFamilies = "system_prompt_families"
            case promptFamilies = "prompt_families"
            case requestShapes = "request_shapes"
        }
    }

    public struct AccountVerdict: Sendable, Equatable, Codable {
        public var accountID: String
        public var verdict: String
        public var score: Double
        public var campaign: String?
        public var flaggedAt: String
        public var reasons: [String]

        public init(accountID: String, verdict: String, score: Double, campaign: String?, flaggedAt: String,
                    reasons: [String]) {
            self.accountID = accountID
            self.verdict = verdict
            self.score = score
            self.campaign = campaign
            self.flaggedAt = flaggedAt
            self.reasons = reasons
        }

        enum CodingKeys: String, CodingKey {
            case verdict, score, campaign, reasons
            case accountID = "account_id"
            case flaggedAt = "flagged_at"
        }
    }
}

/// The capability an exchange targets, as reported in a campaign's capability mix.
public enum Capability: String, Sendable, CaseIterable, Codable {
    case coding, agentic, reasoning, planning, other
}
