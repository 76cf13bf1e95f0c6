/// The metrics of contract section 6 for one report against the ground truth.
///
/// Ratios whose denominator is zero are `nil` (JSON `null`, "n/a" in the table). Figures that need the
/// exchange log (leakage, exchanges, first exchange, time to detect) are `nil` when it was not read.
/// Encodes with snake_case keys and explicit `null`s; campaigns are sorted by name, false positives by
/// account id.
public struct Evaluation: Codable, Sendable, Equatable {
    public var overall: Overall
    public var campaigns: [CampaignResult]
    public var falsePositives: [FalsePositive]

    public init(overall: Overall, campaigns: [CampaignResult], falsePositives: [FalsePositive]) {
        self.overall = overall
        self.campaigns = campaigns
        self.falsePositives = falsePositives
    }

    enum CodingKeys: String, CodingKey {
        case overall, campaigns
        case falsePositives = "false_positives"
    }

    public struct Overall: Codable, Sendable, Equatable {
        /// Campaign accounts plus benign accounts.
        public var accounts: Int
        /// Distinct labelled accounts.
        public var campaignAccounts: Int
        /// Distinct unlabelled accounts seen in the exchange log or flagged in the report. Without the
        /// log: the report's `summary.accounts` minus the labelled accounts (at least the flagged benign ones).
        public var benignAccounts: Int
        /// Distinct accounts whose verdict is not `clear`.
        public var flaggedAccounts: Int
        public var flaggedCampaignAccounts: Int
        public var flaggedBenignAccounts: Int
        public var accountRecall: Double?
        public var benignFalsePositiveRate: Double?
        public var accountPrecision: Double?
        public var leakage: Double?
        public var campaignExchanges: Int?
        public var leakedExchanges: Int?
        /// Exchanges read from the log; nil when it was not read.
        public var exchanges: Int?
        /// True campaigns in the labels.
        public var campaigns: Int
        /// True campaigns with at least half of their accounts flagged.
        public var campaignsDetected: Int
        /// Campaigns in the report.
        public var reportedCampaigns: Int

        public init(accounts: Int, campaignAccounts: Int, benignAccounts: Int, flaggedAccounts: Int,
                    flaggedCampaignAccounts: Int, flaggedBenignAccounts: Int, accountRecall: Double?,
                    benignFalsePositiveRate: Double?, accountPrecision: Double?, leakage: Double?,
                    campaignExchanges: Int?, leakedExchanges: Int?, exchanges: Int?, campaigns: Int,
                    campaignsDetected: Int, reportedCampaigns: Int) {
            self.accounts = accounts
            self.campaignAccounts = campaignAccounts
            self.benignAccounts = benignAccounts
            self.flaggedAccounts = flaggedAccounts
            self.flaggedCampaignAccounts = flaggedCampaignAccounts
            self.flaggedBenignAccounts = flaggedBenignAccounts
            self.accountRecall = accountRecall
            self.benignFalsePositiveRate = benignFalsePositiveRate
            self.accountPrecision = accountPrecision
            self.leakage = leakage
            self.campaignExchanges = campaignExchanges
            self.leakedExchanges = leakedExchanges
            self.exchanges = exchanges
            self.campaigns = campaigns
            self.campaignsDetected = campaignsDetected
            self.reportedCampaigns = reportedCampaigns
        }

        enum CodingKeys: String, CodingKey {
            case accounts
            case campaignAccounts = "campaign_accounts"
            case benignAccounts = "benign_accounts"
            case flaggedAccounts = "flagged_accounts"
            case flaggedCampaignAccounts = "flagged_campaign_accounts"
            case flaggedBenignAccounts = "flagged_benign_accounts"
            case accountRecall = "account_recall"
            case benignFalsePositiveRate = "benign_false_positive_rate"
            case accountPrecision = "account_precision"
            case leakage
            case campaignExchanges = "campaign_exchanges"
            case leakedExchanges = "leaked_exchanges"
            case exchanges
            case campaigns
            case campaignsDetected = "campaigns_detected"
            case reportedCampaigns = "reported_campaigns"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(accounts, forKey: .accounts)
            try c.encode(campaignAccounts, forKey: .campaignAccounts)
            try c.encode(benignAccounts, forKey: .benignAccounts)
            try c.encode(flaggedAccounts, forKey: .flaggedAccounts)
            try c.encode(flaggedCampaignAccounts, forKey: .flaggedCampaignAccounts)
            try c.encode(flaggedBenignAccounts, forKey: .flaggedBenignAccounts)
            try c.encodeOrNull(accountRecall, forKey: .accountRecall)
            try c.encodeOrNull(benignFalsePositiveRate, forKey: .benignFalsePositiveRate)
            try c.encodeOrNull(accountPrecision, forKey: .accountPrecision)
            try c.encodeOrNull(leakage, forKey: .leakage)
            try c.encodeOrNull(campaignExchanges, forKey: .campaignExchanges)
            try c.encodeOrNull(leakedExchanges, forKey: .leakedExchanges)
            try c.encodeOrNull(exchanges, forKey: .exchanges)
            try c.encode(campaigns, forKey: .campaigns)
            try c.encode(campaignsDetected, forKey: .campaignsDetected)
            try c.encode(reportedCampaigns, forKey: .reportedCampaigns)
        }
    }

    /// Figures for one true campaign (a `campaign` value of the labels).
    public struct CampaignResult: Codable, Sendable, Equatable {
        public var campaign: String
        public var accounts: Int
        public var exchanges: Int?
        public var leakedExchanges: Int?
        /// RFC 3339 time of the campaign's first exchange; nil when none of its accounts is in the log.
        public var firstExchange: String?
        public var flagged: Int
        public var recall: Double
        public var leakage: Double?
        public var completeness: Double
        public var purity: Double
        /// The reported campaign holding the largest share of this campaign's accounts.
        public var matchedCampaign: String?
        /// How many of this campaign's accounts the matched campaign holds.
        public var matchedAccounts: Int
        /// Size of the matched reported campaign.
        public var matchedCampaignSize: Int?
        /// RFC 3339 time at which half of the accounts (rounded up) were flagged; nil = never.
        public var halfFlaggedAt: String?
        /// `halfFlaggedAt` minus `firstExchange`, in hours; nil = never detected (or no exchange seen).
        public var timeToDetectHours: Double?

        public init(campaign: String, accounts: Int, exchanges: Int?, leakedExchanges: Int?, firstExchange: String?,
                    flagged: Int, recall: Double, leakage: Double?, completeness: Double, purity: Double,
                    matchedCampaign: String?, matchedAccounts: Int, matchedCampaignSize: Int?,
                    halfFlaggedAt: String?, timeToDetectHours: Double?) {
            self.campaign = campaign
            self.accounts = accounts
            self.exchanges = exchanges
            self.leakedExchanges = leakedExchanges
            self.firstExchange = firstExchange
            self.flagged = flagged
            self.recall = recall
            self.leakage = leakage
            self.completeness = completeness
            self.purity = purity
            self.matchedCampaign = matchedCampaign
            self.matchedAccounts = matchedAccounts
            self.matchedCampaignSize = matchedCampaignSize
            self.halfFlaggedAt = halfFlaggedAt
            self.timeToDetectHours = timeToDetectHours
        }

        enum CodingKeys: String, CodingKey {
            case campaign, accounts, exchanges
            case leakedExchanges = "leaked_exchanges"
            case firstExchange = "first_exchange"
            case flagged, recall, leakage, completeness, purity
            case matchedCampaign = "matched_campaign"
            case matchedAccounts = "matched_accounts"
            case matchedCampaignSize = "matched_campaign_size"
            case halfFlaggedAt = "half_flagged_at"
            case timeToDetectHours = "time_to_detect_hours"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(campaign, forKey: .campaign)
            try c.encode(accounts, forKey: .accounts)
            try c.encodeOrNull(exchanges, forKey: .exchanges)
            try c.encodeOrNull(leakedExchanges, forKey: .leakedExchanges)
            try c.encodeOrNull(firstExchange, forKey: .firstExchange)
            try c.encode(flagged, forKey: .flagged)
            try c.encode(recall, forKey: .recall)
            try c.encodeOrNull(leakage, forKey: .leakage)
            try c.encode(completeness, forKey: .completeness)
            try c.encode(purity, forKey: .purity)
            try c.encodeOrNull(matchedCampaign, forKey: .matchedCampaign)
            try c.encode(matchedAccounts, forKey: .matchedAccounts)
            try c.encodeOrNull(matchedCampaignSize, forKey: .matchedCampaignSize)
            try c.encodeOrNull(halfFlaggedAt, forKey: .halfFlaggedAt)
            try c.encodeOrNull(timeToDetectHours, forKey: .timeToDetectHours)
        }
    }

    /// A flagged account that is not in the labels, with what the report said about it.
    public struct FalsePositive: Codable, Sendable, Equatable {
        public var accountID: String
        public var verdict: String
        public var score: Double
        public var campaign: String?
        public var flaggedAt: String
        public var reasons: [String]
        /// Its exchanges in the log; nil when the log was not read.
        public var exchanges: Int?

        public init(accountID: String, verdict: String, score: Double, campaign: String?, flaggedAt: String,
                    reasons: [String], exchanges: Int?) {
            self.accountID = accountID
            self.verdict = verdict
            self.score = score
            self.campaign = campaign
            self.flaggedAt = flaggedAt
            self.reasons = reasons
            self.exchanges = exchanges
        }

        enum CodingKeys: String, CodingKey {
            case accountID = "account_id"
            case verdict, score, campaign
            case flaggedAt = "flagged_at"
            case reasons, exchanges
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(accountID, forKey: .accountID)
            try c.encode(verdict, forKey: .verdict)
            try c.encode(score, forKey: .score)
            try c.encodeOrNull(campaign, forKey: .campaign)
            try c.encode(flaggedAt, forKey: .flaggedAt)
            try c.encode(reasons, forKey: .reasons)
            try c.encodeOrNull(exchanges, forKey: .exchanges)
        }
    }
}

extension KeyedEncodingContainer {
    /// Writes `null` for nil instead of leaving the key out, so every key is always present.
    mutating func encodeOrNull<T: Encodable>(_ value: T?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }
}
