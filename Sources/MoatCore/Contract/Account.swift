/// What the provider knows about an account from sign-up and billing (contract section 2).
public struct Account: Sendable, Equatable {
    public var accountID: String
    public var createdAt: Timestamp?
    public var orgID: String?
    public var emailDomain: String?
    public var paymentFingerprint: String?
    public var verification: String?
    public var program: String?
    public var country: String?
    /// Ground truth for evaluation only. Detection never reads it.
    public var label: String?

    public init(accountID: String, createdAt: Timestamp? = nil, orgID: String? = nil, emailDomain: String? = nil,
                paymentFingerprint: String? = nil, verification: String? = nil, program: String? = nil,
                country: String? = nil, label: String? = nil) {
        self.accountID = accountID
        self.createdAt = createdAt
        self.orgID = orgID
        self.emailDomain = emailDomain
        self.paymentFingerprint = paymentFingerprint
        self.verification = verification
        self.program = program
        self.country = country
        self.label = label
    }
}

/// One line of `labels.jsonl` (contract section 3): an account that belongs to an attack campaign.
public struct CampaignLabel: Sendable, Equatable, Codable {
    public var accountID: String
    public var campaign: String

    public init(accountID: String, campaign: String) {
        self.accountID = accountID
        self.campaign = campaign
    }

    enum CodingKeys: String, CodingKey {
        case accountID = "account_id"
        case campaign
    }
}
