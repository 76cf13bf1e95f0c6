/// The fields of an accounts-file line.
enum AccountKey {
    case accountID, createdAt, orgID, emailDomain, paymentFingerprint, verification, program, country, label, unknown

    @inline(__always)
    static func match(_ p: UnsafePointer<UInt8>, _ n: Int) -> AccountKey {
        @inline(__always) func eq(_ s: StaticString) -> Bool { JSONScanner.equals(p, s) }
        switch n {
        case 5: if eq("label") { return .label }
        case 6: if eq("org_id") { return .orgID }
        case 7:
            if eq("program") { return .program }
            if eq("country") { return .country }
        case 10:
            if eq("account_id") { return .accountID }
            if eq("created_at") { return .createdAt }
        case 12:
            if eq("email_domain") { return .emailDomain }
            if eq("verification") { return .verification }
        case 19: if eq("payment_fingerprint") { return .paymentFingerprint }
        default: break
        }
        return .unknown
    }
}

/// The fields of a labels-file line.
enum LabelKey {
    case accountID, campaign, unknown

    @inline(__always)
    static func match(_ p: UnsafePointer<UInt8>, _ n: Int) -> LabelKey {
        if n == 10 && JSONScanner.equals(p, "account_id") { return .accountID }
        if n == 8 && JSONScanner.equals(p, "campaign") { return .campaign }
        return .unknown
    }
}

extension Account {
    /// Decodes one line of the accounts file (contract section 2). Same rules as exchanges: unknown
    /// fields skipped, `null` is absent, the last duplicate key wins.
    public static func decode(line: UnsafeBufferPointer<UInt8>, file: String, lineNumber: Int) throws(ContractError)
        -> Account
    {
        try JSONScanner.decodeLine(line, file: file, lineNumber: lineNumber) { (s) throws(JSONError) in try decode(&s) }
    }

    static func decode(_ s: inout JSONScanner) throws(JSONError) -> Account {
        var accountID: String?
        var a = Account(accountID: "")
        try s.readRecord(matching: AccountKey.match) { (key, s) throws(JSONError) in
            switch key {
            case .accountID: accountID = try s.readString(field: "account_id")
            case .createdAt: a.createdAt = try s.readTimestamp(field: "created_at")
            case .orgID: a.orgID = try s.readString(field: "org_id")
            case .emailDomain: a.emailDomain = try s.readString(field: "email_domain")
            case .paymentFingerprint: a.paymentFingerprint = try s.readString(field: "payment_fingerprint")
            case .verification: a.verification = try s.readString(field: "verification")
            case .program: a.program = try s.readString(field: "program")
            case .country: a.country = try s.readString(field: "country")
            case .label: a.label = try s.readString(field: "label")
            case .unknown: try s.skipValue()
            }
        }
        guard let accountID else { throw JSONError("missing required field", field: "account_id") }
        a.accountID = accountID
        return a
    }
}

extension CampaignLabel {
    /// Decodes one line of `labels.jsonl` (contract section 3): `account_id` and `campaign`, both required.
    public static func decode(line: UnsafeBufferPointer<UInt8>, file: String, lineNumber: Int) throws(ContractError)
        -> CampaignLabel
    {
        try JSONScanner.decodeLine(line, file: file, lineNumber: lineNumber) { (s) throws(JSONError) in try decode(&s) }
    }

    static func decode(_ s: inout JSONScanner) throws(JSONError) -> CampaignLabel {
        var accountID: String?
        var campaign: String?
        try s.readRecord(matching: LabelKey.match) { (key, s) throws(JSONError) in
            switch key {
            case .accountID: accountID = try s.readString(field: "account_id")
            case .campaign: campaign = try s.readString(field: "campaign")
            case .unknown: try s.skipValue()
            }
        }
        guard let accountID else { throw JSONError("missing required field", field: "account_id") }
        guard let campaign else { throw JSONError("missing required field", field: "campaign") }
        return CampaignLabel(accountID: accountID, campaign: campaign)
    }
}
