import MoatCore

/// Aggregates an exchange log for the campaign report while it streams: per-hour counts, per-model counts,
/// infrastructure tallies and leakage for the report's campaigns and flagged accounts. Memory grows with
/// hours, models, flagged accounts and the bounded tallies, never with exchanges.
///
/// ```swift
/// var aggregator = try LogAggregator(report: report)
/// while let e = try reader.next() { aggregator.add(e) }
/// let log = aggregator.finish()
/// ```
public struct LogAggregator: Sendable {
    private let options: ReportOptions
    private var log: LogAggregate
    /// Flagged accounts and campaign members: id to slot.
    private var tracked: [String: Int32] = [:]
    /// Per slot: the group (campaign index, or -1 for `suspicious`), `flagged_at` (nil: never) and figures.
    private var groupOf: [Int32] = []
    private var flaggedAt: [Int64?] = []
    private var ids: [String] = []
    private var stats: [AccountAggregate] = []
    private var groupSeen: [Bool] = []
    private var modelIndex: [String: Int] = [:]
    private var seenAccounts: Set<Int> = []

    /// Prepares the aggregation for `report`. Throws when a time in the report is not RFC 3339.
    public init(report: Report, options: ReportOptions = ReportOptions(), reportFile: String = "report") throws(ContractError) {
        self.options = options
        log = LogAggregate(options: options)
        let campaignIndex = Dictionary(report.campaigns.enumerated().map { ($0.element.id, $0.offset) },
                                       uniquingKeysWith: { first, _ in first })
        var campaignDetected: [Int64] = []
        for (c, campaign) in report.campaigns.enumerated() {
            var group = GroupAggregate(options: options)
            for p in campaign.indicators.ipPrefixes { group.prefixes.register(p) }
            for a in campaign.indicators.asns { group.asns.register(String(a)) }
            log.campaigns.append(group)
            campaignDetected.append(try Self.time(campaign.detectedAt, file: reportFile,
                                                  field: "campaigns[\(c)].detected_at"))
            _ = try Self.time(campaign.firstSeen, file: reportFile, field: "campaigns[\(c)].first_seen")
            _ = try Self.time(campaign.lastSeen, file: reportFile, field: "campaigns[\(c)].last_seen")
        }
        for (k, verdict) in report.accounts.enumerated() {
            guard tracked[verdict.accountID] == nil else { continue }
            let at = try Self.time(verdict.flaggedAt, file: reportFile, field: "accounts[\(k)].flagged_at")
            let group = verdict.campaign.flatMap { campaignIndex[$0] } ?? -1
            track(verdict.accountID, group: group, flaggedAt: at)
        }
        // Campaign members the accounts list lacks: flagged when their campaign was detected.
        for (c, campaign) in report.campaigns.enumerated() {
            for id in campaign.accounts where tracked[id] == nil {
                track(id, group: c, flaggedAt: campaignDetected[c])
            }
        }
    }

    private mutating func track(_ id: String, group: Int, flaggedAt at: Int64?) {
        tracked[id] = Int32(ids.count)
        ids.append(id)
        groupOf.append(Int32(group))
        flaggedAt.append(at)
        stats.append(AccountAggregate())
        groupSeen.append(false)
    }

    private static func time(_ text: String, file: String, field: String) throws(ContractError) -> Int64 {
        guard let t = Timestamp(rfc3339: text) else {
            throw ContractError(file: file, field: field, message: "not an RFC 3339 time: \(text.prefix(40))")
        }
        return t.milliseconds
    }

    /// Counts one exchange.
    public mutating func add(_ e: Exchange) {
        let ms = e.ts.milliseconds
        let hour = Self.floorDiv(ms, Timestamp.hour)
        log.exchanges += 1
        if log.firstMs.map({ ms < $0 }) ?? true { log.firstMs = ms }
        if log.lastMs.map({ ms > $0 }) ?? true { log.lastMs = ms }
        log.hourly[hour, default: 0] += 1
        if seenAccounts.insert(e.accountID.hashValue).inserted { log.accounts += 1 }
        if let status = e.status {
            log.withStatus += 1
            if status == 403 || status == 429 { log.refusedOrThrottled += 1 }
        }
        if e.countermeasure != nil { log.withCountermeasure += 1 }
        if e.outcome != nil { log.withOutcome += 1 }

        let model = modelSlot(e.model, ms: ms)
        Self.addModel(model, hour: hour, to: &log.modelHourly, slots: log.modelSlots)

        guard let slot = tracked[e.accountID] else {
            Self.count(e, into: &log.unflagged)
            return
        }
        let i = Int(slot)
        let leaked = flaggedAt[i].map { ms < $0 } ?? true
        let action = Self.action(e)
        var a = stats[i]
        a.exchanges += 1
        a.outputTokens += e.outputTokens
        if leaked {
            a.leakedExchanges += 1
            a.leakedOutputTokens += e.outputTokens
        }
        if a.firstMs.map({ ms < $0 }) ?? true { a.firstMs = ms }
        if a.lastMs.map({ ms > $0 }) ?? true { a.lastMs = ms }
        switch action {
        case .refused: a.refused += 1
        case .throttled: a.throttled += 1
        case .countermeasured: a.countermeasured += 1
        default: break
        }
        let newHour = a.recentHours.0 != hour && a.recentHours.1 != hour && a.recentHours.2 != hour
        if newHour { a.recentHours = (hour, a.recentHours.0, a.recentHours.1) }
        stats[i] = a

        let g = Int(groupOf[i])
        let firstInGroup = !groupSeen[i]
        groupSeen[i] = true
        let slots = log.modelSlots
        if g >= 0 {
            Self.update(&log.campaigns[g], e, account: slot, hour: hour, model: model, slots: slots, leaked: leaked,
                        newHour: newHour, newAccount: firstInGroup, options: options)
        } else {
            Self.update(&log.suspicious, e, account: slot, hour: hour, model: model, slots: slots, leaked: leaked,
                        newHour: newHour, newAccount: firstInGroup, options: options)
        }
    }

    private static func update(_ group: inout GroupAggregate, _ e: Exchange, account: Int32, hour: Int64, model: Int,
                               slots: Int, leaked: Bool, newHour: Bool, newAccount: Bool, options: ReportOptions) {
        let ms = e.ts.milliseconds
        count(e, into: &group.traffic)
        if newAccount { group.accountsSeen += 1 }
        group.outputTokens += e.outputTokens
        if leaked {
            group.leakedExchanges += 1
            group.leakedOutputTokens += e.outputTokens
        }
        if group.firstMs.map({ ms < $0 }) ?? true { group.firstMs = ms }
        if group.lastMs.map({ ms > $0 }) ?? true { group.lastMs = ms }
        group.hourly[hour, default: 0] += 1
        if newHour { group.activeAccounts[hour, default: 0] += 1 }
        addModel(model, hour: hour, to: &group.modelHourly, slots: slots)
        group.enforcementHourly[hour, default: Enforcement()].add(action(e))

        let client = e.client
        group.prefixes.add(client.ip.map(prefix), account: account)
        if let asn = client.asn {
            let key = String(asn)
            group.asns.add(key, account: account)
            if let org = client.asnOrg, group.asnNames[key] == nil, group.asns.row(key) != nil {
                group.asnNames[key] = String(org.prefix(options.maxValueLength))
            }
        } else {
            group.asns.add(nil, account: account)
        }
        if client.userAgent != nil || client.tlsFingerprint != nil {
            group.clientStacks.add((client.userAgent ?? "–") + " | " + (client.tlsFingerprint ?? "–"), account: account)
        } else {
            group.clientStacks.add(nil, account: account)
        }
        group.countries.add(client.country, account: account)
    }

    /// The aggregation. The aggregator can keep counting afterwards.
    public func finish() -> LogAggregate {
        var out = log
        for (i, id) in ids.enumerated() { out.accountStats[id] = stats[i] }
        return out
    }

    // MARK: - Helpers

    enum Action { case served, countermeasured, throttled, refused, failed }

    static func action(_ e: Exchange) -> Action {
        if let status = e.status {
            if status == 403 { return .refused }
            if status == 429 { return .throttled }
            if status >= 400 { return .failed }
        }
        if let c = e.countermeasure, !c.isEmpty, c != "none" { return .countermeasured }
        return .served
    }

    static func count(_ e: Exchange, into t: inout TrafficCounts) {
        t.exchanges += 1
        t.enforcement.add(action(e))
        if let status = e.status { t.statuses.add(String(status)) }
        if let c = e.countermeasure { t.countermeasures.add(c) }
        if let o = e.outcome { t.outcomes.add(o) }
    }

    private mutating func modelSlot(_ name: String, ms: Int64) -> Int {
        if let k = modelIndex[name] {
            if ms < log.models[k].firstMs { log.models[k].firstMs = ms }
            log.models[k].exchanges += 1
            return k
        }
        guard log.models.count < options.maxModels else {
            log.otherModelExchanges += 1
            return options.maxModels
        }
        modelIndex[name] = log.models.count
        log.models.append(ModelInfo(name: name, firstMs: ms, exchanges: 1))
        return log.models.count - 1
    }

    static func addModel(_ model: Int, hour: Int64, to table: inout [Int64: [Int]], slots: Int) {
        table[hour, default: [Int](repeating: 0, count: slots)][model] += 1
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : (a - b + 1) / b
    }

    /// The network prefix of an address: the /24 of an IPv4 address, the /48 of an IPv6 one.
    public static func prefix(_ ip: String) -> String {
        if ip.utf8.contains(58) {  // ':'
            return ipv6Prefix(ip) ?? ip
        }
        guard let lastDot = ip.utf8.lastIndex(of: 46) else { return ip }
        return String(ip[..<lastDot]) + ".0/24"
    }

    private static func ipv6Prefix(_ ip: String) -> String? {
        // Up to a zone index (`%eth0`); `::` stands for one or more zero groups.
        let address = Array((ip.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false).first ?? "").utf8)
        var head: [String] = []
        var tail: [String] = []
        var compressed = false
        var current: [UInt8] = []
        var k = 0
        func flush(_ into: inout [String]) { into.append(String(decoding: current, as: UTF8.self)); current = [] }
        while k < address.count {
            let c = address[k]
            if c == 58 {
                if k + 1 < address.count, address[k + 1] == 58 {
                    guard !compressed else { return nil }
                    if !current.isEmpty || (k > 0 && !head.isEmpty) { flush(&head) }
                    compressed = true
                    k += 2
                    continue
                }
                if compressed { flush(&tail) } else { flush(&head) }
            } else {
                current.append(c)
            }
            k += 1
        }
        if !current.isEmpty { if compressed { flush(&tail) } else { flush(&head) } }
        var groups = head
        if compressed {
            let missing = 8 - head.count - tail.count
            guard missing >= 1 else { return nil }
            groups += [String](repeating: "0", count: missing) + tail
        }
        let mappedIPv4 = groups.last?.contains(".") == true
        guard groups.count == (mappedIPv4 ? 7 : 8) else { return nil }
        for (k, g) in groups.enumerated() where !(mappedIPv4 && k == groups.count - 1) {
            guard !g.isEmpty, g.count <= 4, g.allSatisfy(\.isHexDigit) else { return nil }
        }
        return groups.prefix(3).map { g -> String in
            let trimmed = g.drop { $0 == "0" }
            return trimmed.isEmpty ? "0" : trimmed.lowercased()
        }.joined(separator: ":") + "::/48"
    }
}

extension Enforcement {
    mutating func add(_ action: LogAggregator.Action) {
        switch action {
        case .served: served += 1
        case .countermeasured: countermeasured += 1
        case .throttled: throttled += 1
        case .refused: refused += 1
        case .failed: failed += 1
        }
    }
}
