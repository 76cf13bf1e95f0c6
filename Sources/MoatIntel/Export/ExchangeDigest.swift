import MoatCore

/// What the exchange log adds to a report for sharing, computed in two passes over the log:
///
/// 1. `collect(_:)` for every exchange: for each campaign, the network prefixes, autonomous systems,
///    client stacks (user agent and TLS fingerprint), system prompts (as SHA-256) and exact IP addresses
///    its accounts used, with how many accounts and exchanges and when;
/// 2. `countOthers(_:)` for every exchange again: how many accounts outside every campaign and
///    verdict used each of those values.
///
/// A value that ordinary accounts use too (a cloud provider's AS, a popular SDK's user agent, a school's
/// NAT address) is not shared: at a peer it would flag that peer's ordinary customers.
public struct ExchangeDigest: Sendable {
    /// A value seen in campaign traffic.
    public enum Value: Hashable, Sendable {
        case prefix(IPPrefix)
        case asn(Int)
        /// A user agent and TLS fingerprint seen together.
        case stack(userAgent: String, tls: String)
        case userAgent(String)
        case tls(String)
        /// SHA-256 of a system prompt's text.
        case systemPrompt(String)
        /// An exact client address: shared only as a keyed hash.
        case ip(IPAddress)
    }

    /// Use of one value by one campaign's accounts.
    public struct Use: Sendable, Equatable {
        public var accounts: Set<String> = []
        public var exchanges = 0
        public var first = Int64.max
        public var last = Int64.min

        mutating func add(account: String, ts: Int64) {
            accounts.insert(account)
            exchanges += 1
            first = min(first, ts)
            last = max(last, ts)
        }
    }

    /// Prefix lengths of the shared networks: a /24 holds 256 IPv4 addresses, a /48 one IPv6 site.
    public static let ipv4PrefixLength = 24
    public static let ipv6PrefixLength = 48

    /// account id → campaign id, for the accounts of the report's campaigns.
    let campaignOf: [String: String]
    /// Accounts with any verdict: they count neither as campaign traffic (unless in a campaign) nor as ordinary.
    let flagged: Set<String>
    /// campaign id → value → use.
    public private(set) var uses: [String: [Value: Use]] = [:]
    /// campaign id → account → (exchanges, first, last): for sightings of keyed account ids.
    public private(set) var accountActivity: [String: [String: Use]] = [:]
    /// value → ordinary accounts that used it (at most `otherAccountsCap` + 1 are kept).
    public private(set) var otherUse: [Value: Set<String>] = [:]
    /// Ordinary accounts seen in pass 2.
    public private(set) var otherAccounts: Set<String> = []
    /// Bounds the memory of pass 2: past this many accounts a value is simply common.
    public var otherAccountsCap = 4096
    /// Whether pass 2 needs the text of system prompts (only when campaigns used any).
    public var needsSystemPromptsInPassTwo: Bool { candidates.contains { if case .systemPrompt = $0 { return true } else { return false } } }
    private var candidates: Set<Value> = []

    public init(report: Report) {
        var of: [String: String] = [:]
        for c in report.campaigns { for a in c.accounts { of[a] = c.id } }
        campaignOf = of
        flagged = Set(report.accounts.map(\.accountID))
    }

    /// The values one exchange shows.
    static func values(of e: Exchange) -> [Value] {
        var out: [Value] = []
        if let text = e.client.ip, let ip = IPAddress(text) {
            out.append(.ip(ip))
            out.append(.prefix(ip.prefix(ip.isIPv4 ? ipv4PrefixLength : ipv6PrefixLength)))
        }
        if let asn = e.client.asn { out.append(.asn(asn)) }
        let ua = e.client.userAgent.flatMap { $0.isEmpty ? nil : $0 }
        let tls = e.client.tlsFingerprint.flatMap { $0.isEmpty ? nil : $0 }
        if let ua { out.append(.userAgent(ua)) }
        if let tls { out.append(.tls(tls)) }
        if let ua, let tls { out.append(.stack(userAgent: ua, tls: tls)) }
        if let sp = e.systemPrompt, !sp.isEmpty { out.append(.systemPrompt(Fingerprint.sha256(sp))) }
        return out
    }

    /// Pass 1: campaign traffic.
    public mutating func collect(_ e: Exchange) {
        guard let campaign = campaignOf[e.accountID] else { return }
        let ts = e.ts.milliseconds
        accountActivity[campaign, default: [:]][e.accountID, default: Use()].add(account: e.accountID, ts: ts)
        for v in Self.values(of: e) {
            uses[campaign, default: [:]][v, default: Use()].add(account: e.accountID, ts: ts)
            candidates.insert(v)
        }
    }

    /// Pass 2: ordinary traffic, counted only for values campaigns used.
    public mutating func countOthers(_ e: Exchange) {
        guard campaignOf[e.accountID] == nil, !flagged.contains(e.accountID) else { return }
        otherAccounts.insert(e.accountID)
        for v in Self.values(of: e) where candidates.contains(v) {
            if otherUse[v, default: []].count <= otherAccountsCap { otherUse[v, default: []].insert(e.accountID) }
        }
    }

    /// Ordinary accounts that used `value` (capped).
    public func others(_ value: Value) -> Int { otherUse[value]?.count ?? 0 }
}
