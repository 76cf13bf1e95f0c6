import MoatCore

extension DetectionEngine {
    /// The detection report (contract section 4) for everything ingested so far.
    public func report(invalidLines: Int = 0) -> Report {
        var campaignMembers: [Int: [Int32]] = [:]
        for i in profiles.indices where verdict[i] == .campaign {
            guard var c = groups[findConst(Int32(i))]?.campaign else { continue }
            while let next = campaigns[c].mergedInto { c = next }
            campaignMembers[c, default: []].append(Int32(i))
        }
        var reportCampaigns: [Report.Campaign] = []
        var campaignOf: [Int32: (String, Int)] = [:]
        var sharedCounts: [Int: [UInt64: Int]] = [:]
        for (c, members) in campaignMembers.sorted(by: { campaigns[$0.key].detectedAt < campaigns[$1.key].detectedAt }) {
            let (campaign, counts) = describe(campaign: c, members: members)
            reportCampaigns.append(campaign)
            sharedCounts[c] = counts
            for m in members { campaignOf[m] = (campaign.id, c) }
        }
        var accounts: [Report.AccountVerdict] = []
        for i in profiles.indices where verdict[i] != .clear {
            let p = profiles[i]
            let membership = campaignOf[Int32(i)]
            accounts.append(Report.AccountVerdict(
                accountID: p.id, verdict: verdict[i].rawValue, score: rounded(p.score), campaign: membership?.0,
                flaggedAt: Timestamp(milliseconds: flaggedAt[i] ?? p.firstTs).rfc3339,
                reasons: reasons(Int32(i), shared: membership.flatMap { sharedCounts[$0.1] } ?? [:],
                                 campaignSize: membership.flatMap { campaignMembers[$0.1]?.count })))
        }
        accounts.sort { $0.accountID < $1.accountID }
        let summary = Report.Summary(
            exchanges: stats.exchanges, accounts: profiles.count, invalidLines: invalidLines,
            firstTs: stats.firstTs.map { Timestamp(milliseconds: $0).rfc3339 },
            lastTs: stats.lastTs.map { Timestamp(milliseconds: $0).rfc3339 },
            campaigns: reportCampaigns.count, flaggedAccounts: accounts.count, duplicateExchanges: stats.duplicates)
        return Report(summary: summary, campaigns: reportCampaigns, accounts: accounts)
    }

    func findConst(_ x: Int32) -> Int32 {
        var r = x
        while parent[Int(r)] != r { r = parent[Int(r)] }
        return r
    }

    /// A campaign with its indicators and the evidence sentences an analyst can check against the log.
    func describe(campaign c: Int, members: [Int32]) -> (Report.Campaign, [UInt64: Int]) {
        var exchanges = 0, first = Int64.max, last = Int64.min
        var caps = [Int](repeating: 0, count: Capability.allCases.count)
        var cot = 0.0, thinking = 0, tools = 0, scoreSum = 0.0
        var counts: [UInt64: Int] = [:]
        var newAccounts = 0, hours: UInt32 = 0, prefixes = 0
        for m in members {
            let p = profiles[Int(m)]
            exchanges += p.exchanges
            first = min(first, p.firstTs)
            last = max(last, p.lastTs)
            for k in caps.indices { caps[k] += p.capabilities[k] }
            cot += p.chainOfThought
            thinking += p.thinking
            tools += p.tools
            scoreSum += p.score
            hours |= p.hoursMask
            prefixes += p.prefixCount
            if let age = p.ageAtFirstUseDays, age < config.newAccountDays { newAccounts += 1 }
            for v in p.values { counts[v, default: 0] += 1 }
        }
        let n = members.count
        var capabilities: [String: Double] = [:]
        for (k, cap) in Capability.allCases.enumerated() {
            capabilities[cap.rawValue] = exchanges > 0 ? rounded(Double(caps[k]) / Double(exchanges)) : 0
        }
        if exchanges == 0 { capabilities[Capability.other.rawValue] = 1 }

        // Shared values, most shared first, per kind.
        var byKind: [LinkKind: [(String, Int)]] = [:]
        for (key, count) in counts where count >= 2 {
            guard let kind = links.values[key]?.kind, let label = links.labels[key] else { continue }
            byKind[kind, default: []].append((label, count))
        }
        for k in byKind.keys { byKind[k]!.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 } }
        func top(_ kind: LinkKind, _ limit: Int = 10) -> [String] { (byKind[kind] ?? []).prefix(limit).map(\.0) }
        func held(_ kind: LinkKind) -> Int { (byKind[kind] ?? []).reduce(0) { $0 + $1.1 } }

        var asnCounts: [Int: Int] = [:]
        for m in members { for asn in profiles[Int(m)].asns { asnCounts[asn, default: 0] += 1 } }
        let asns = asnCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(10).map(\.key)
        let clientStacks = top(.clientStack, 5)
        let indicators = Report.Indicators(
            ipPrefixes: top(.cloudPrefix).isEmpty ? prefixesOf(top(.ip, 20)) : top(.cloudPrefix),
            asns: asns,
            userAgents: Array(Set(clientStacks.map { String($0.split(separator: "|").first ?? "").trimmed })).sorted(),
            tlsFingerprints: Array(Set(clientStacks.compactMap { $0.split(separator: "|").last.map { String($0).trimmed } })).sorted(),
            paymentFingerprints: top(.payment), emailDomains: top(.emailDomain),
            systemPromptHashes: top(.systemPrompt).map { String($0.dropFirst(3).split(separator: " ", maxSplits: 1).first ?? "") },
            promptTemplates: unique(top(.template, 20).map { String($0.split(separator: " ", maxSplits: 1).last ?? "") }, limit: 5),
            systemPromptFamilies: nonEmpty(top(.systemPrompt).compactMap { label in
                let id = UInt64(label.dropFirst(3).split(separator: " ", maxSplits: 1).first ?? "", radix: 16) ?? 0
                return families.sketch(id).map(TextFamily.encode)
            }),
            promptFamilies: nonEmpty(unique(top(.template, 20).map { String($0.dropFirst(4).split(separator: " ", maxSplits: 1).first ?? "") }, limit: 10)),
            requestShapes: nonEmpty(top(.requestShape, 5)))

        var evidence: [String] = []
        let ex = Double(max(exchanges, 1))
        evidence.append("\(n) accounts made \(exchanges) exchanges between \(Timestamp(milliseconds: first).rfc3339) and \(Timestamp(milliseconds: last).rfc3339); mean extraction score \(fmt(scoreSum / Double(n))).")
        evidence.append("\(pct(cot / ex)) of exchanges explicitly ask for the model's reasoning; \(pct(Double(thinking) / ex)) request extended thinking; \(pct(Double(tools) / ex)) send tool definitions.")
        let capText = Capability.allCases.enumerated().filter { caps[$0.offset] > 0 }
            .sorted { caps[$0.offset] > caps[$1.offset] }
            .map { "\($0.element.rawValue) \(pct(Double(caps[$0.offset]) / ex))" }.joined(separator: ", ")
        evidence.append("Capabilities targeted: \(capText).")
        for kind in [LinkKind.payment, .emailDomain, .signupBurst, .ip, .cloudPrefix, .clientStack, .systemPrompt, .template, .requestShape] {
            guard let values = byKind[kind], !values.isEmpty else { continue }
            let (label, count) = values[0]
            let shown: String
            switch kind {
            case .template: shown = "\"" + String(label.split(separator: " ", maxSplits: 1).last ?? "") + "\""
            case .systemPrompt:
                let parts = label.dropFirst(3).split(separator: " ", maxSplits: 1)
                let (variants, similarity) = families.describe(UInt64(parts.first ?? "", radix: 16) ?? 0)
                shown = "sp:\(parts.first ?? "") (\"\(parts.count > 1 ? String(parts[1]) : "")…\"; \(variants) variant(s) in the log, similarity ≥ \(fmt(similarity)))"
            default: shown = label
            }
            evidence.append("\(values.count) \(kind.name) value(s) are shared inside the campaign (\(held(kind)) account-value pairs); the most shared, \(shown), is used by \(count) of its accounts.")
        }
        evidence += coactivityEvidence(members: Set(members))
        evidence += campaigns[c].familyEvidence.prefix(5)
        if let memory = campaigns[c].memoryEvidence, campaigns[c].returnOf != nil { evidence.append(memory) }
        if newAccounts > 0 {
            evidence.append("\(newAccounts) of \(n) accounts were less than \(Int(config.newAccountDays)) days old at their first exchange.")
        }
        evidence.append("Activity covers \(hours.nonzeroBitCount) of 24 hours (UTC); the accounts called from \(prefixes) distinct network prefixes in all.")
        let switches = members.compactMap { profiles[Int($0)].fastestModelSwitchHours }
        if !switches.isEmpty {
            let within = switches.filter { $0 <= 24 }.count
            evidence.append("\(within) accounts moved to a newly released model within 24 hours of its first appearance.")
        }
        let linkedKinds = Set(byKind.keys)
        let confidence = min(0.99, (scoreSum / Double(n)) * (1 - 1 / Double(n + 1)) * (linkedKinds.count >= 2 ? 1 : 0.85))
        let campaign = Report.Campaign(
            id: campaigns[c].id, accounts: members.map { profiles[Int($0)].id }.sorted(), exchanges: exchanges,
            firstSeen: Timestamp(milliseconds: first).rfc3339, lastSeen: Timestamp(milliseconds: last).rfc3339,
            detectedAt: Timestamp(milliseconds: campaigns[c].detectedAt).rfc3339, confidence: rounded(confidence),
            capabilities: capabilities, indicators: indicators, evidence: evidence, operatorID: campaigns[c].operatorID,
            relatedCampaigns: campaigns[c].returnOf.map { [campaigns[resolve($0)].id] })
        return (campaign, counts)
    }

    func nonEmpty(_ items: [String]) -> [String]? { items.isEmpty ? nil : items }

    /// Sentences for the co-activity clusters whose accounts are in the campaign.
    func coactivityEvidence(members: Set<Int32>) -> [String] {
        var out: [(Int, String)] = []
        for (_, st) in coactivity.streams where !st.clusters.isEmpty {
            for c in st.clusters where c.members >= config.syncClusterMinAccounts && members.contains(c.root) {
                let window = Int(coactivity.scales[Int(st.scale)].cellMilliseconds / 60_000)
                let days = max(1, Int((Double(c.lastBurst - c.firstBurst) / Double(Timestamp.day)).rounded(.up)))
                let what = describeValue(st.value)
                out.append((c.members, "\(c.members) accounts were active together in bursts of the \(what): \(c.cells.count) \(window)-minute windows over \(days) day(s) in which far more accounts used it than in the windows before; \(c.burstWindows) of their \(c.activeWindows) windows with it were such bursts, where \(fmt(c.expected)) were expected by chance."))
            }
        }
        return out.sorted { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }.prefix(3).map(\.1)
    }

    func unique(_ items: [String], limit: Int) -> [String] {
        var seen: [String] = []
        for item in items where !seen.contains(item) {
            seen.append(item)
            if seen.count == limit { break }
        }
        return seen
    }

    func prefixesOf(_ ips: [String]) -> [String] {
        var seen: [String] = []
        for ip in ips {
            guard let dot = ip.lastIndex(of: ".") else { continue }
            let p = String(ip[..<dot]) + ".0/24"
            if !seen.contains(p) { seen.append(p) }
        }
        return Array(seen.prefix(10))
    }

    /// Why one account was flagged, in sentences an analyst can check.
    func reasons(_ a: Int32, shared: [UInt64: Int], campaignSize: Int?) -> [String] {
        let p = profiles[Int(a)]
        var out: [String] = []
        if let size = campaignSize {
            var links: [String] = []
            for v in p.values.sorted() {
                guard let count = shared[v], count >= 2, let kind = self.links.values[v]?.kind,
                      let label = self.links.labels[v] else { continue }
                let shown = kind == .template || kind == .systemPrompt ? "" : " " + label
                links.append("\(kind.name)\(shown) with \(count - 1) other campaign accounts")
                if links.count == 4 { break }
            }
            out.append("member of a campaign of \(size) accounts" + (links.isEmpty ? "" : "; shares " + links.joined(separator: "; ")))
            if let why = p.joinReason { out.append("joined through " + why) }
        }
        let c = p.components(config)
        var behaviour: [String] = ["extraction score \(fmt(p.score)) over \(p.exchanges) exchanges"]
        if c.chainOfThought >= 0.2 { behaviour.append("\(pct(c.chainOfThought)) ask for full reasoning") }
        if c.thinking >= 0.3 { behaviour.append("\(pct(c.thinking)) request extended thinking") }
        if c.tools >= 0.3 { behaviour.append("\(pct(c.tools)) send tools") }
        if c.templateReuse >= 0.2 { behaviour.append("\(pct(c.templateReuse)) reuse one prompt template") }
        out.append(behaviour.joined(separator: ", "))
        if let age = p.ageAtFirstUseDays, age < config.newAccountDays {
            out.append("account was \(fmt(age)) days old at first use (program \(p.identity?.program ?? "unknown"), verification \(p.identity?.verification ?? "unknown"))")
        }
        if c.proxyRotation >= 0.5 {
            out.append("rotates through \(p.prefixCount) network prefixes over \(p.activeDays) active days")
        }
        if c.exitEvasion >= 0.4, let billing = p.identity?.country {
            let countries = p.exitCountryNames.filter { $0 != billing.uppercased() }
            out.append("\(pct(c.exitEvasion)) exit evasion: non-hosting traffic leaves from \(countries.prefix(5).joined(separator: ", "))"
                       + "\(countries.count > 5 ? " and others" : "") against billing country \(billing)")
        }
        if let h = p.fastestModelSwitchHours, h <= 24 { out.append("moved to a newly released model \(fmt(h)) hours after it appeared") }
        out += p.peerReasons
        return out
    }
}

func rounded(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
func fmt(_ x: Double) -> String { String((x * 100).rounded() / 100) }
func pct(_ x: Double) -> String { String(Int((x * 100).rounded())) + "%" }

extension String {
    var trimmed: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

extension DetectionEngine {
    /// The reasons for one account's verdict, without building the whole report (for live enforcement).
    public func explain(accountID: String) -> [String] {
        guard let i = index[accountID] else { return [] }
        return reasons(i, shared: [:], campaignSize: verdict[Int(i)] == .campaign ? groups[findConst(i)]?.members.count : nil)
    }
}

extension DetectionEngine {
    /// The campaign an account is in now, described as in the report (confidence, indicators, evidence);
    /// nil when the account is not in a campaign. Costs one campaign's share of `report()`.
    public func campaign(of accountID: String) -> Report.Campaign? {
        guard let i = index[accountID], verdict[Int(i)] == .campaign,
              let group = groups[findConst(i)], var c = group.campaign else { return nil }
        while let next = campaigns[c].mergedInto { c = next }
        let members = group.members.filter { verdict[Int($0)] == .campaign }
        return describe(campaign: c, members: members).0
    }
}

extension DetectionEngine {
    /// Every account's current extraction score and exchange count (for tools and dashboards).
    public func accountScores() -> [(accountID: String, score: Double, exchanges: Int)] {
        profiles.map { ($0.id, $0.score, $0.exchanges) }
    }

    /// The score's components for one account, by name.
    public func scoreComponents(accountID: String) -> [(String, Double)] {
        guard let i = index[accountID] else { return [] }
        let c = profiles[Int(i)].components(config)
        return [("chainOfThought", c.chainOfThought), ("thinking", c.thinking), ("tools", c.tools),
                ("targetedCapability", c.targetedCapability), ("proxyRotation", c.proxyRotation), ("newAccount", c.newAccount),
                ("program", c.program), ("weakVerification", c.weakVerification), ("templateReuse", c.templateReuse),
                ("singleShot", c.singleShot), ("outputHeavy", c.outputHeavy), ("modelPivot", c.modelPivot), ("flood", c.flood), ("roundTheClock", c.roundTheClock),
                ("exitEvasion", c.exitEvasion)]
    }
}

extension DetectionEngine {
    /// A plain-text dump of what the engine holds about one account (for analysts and tools): score, group,
    /// verdict, values and co-activity records.
    public func inspect(accountID: String) -> String {
        guard let i = index[accountID] else { return "\(accountID): not seen" }
        let p = profiles[Int(i)]
        let root = findConst(i)
        var lines = ["\(accountID): score \(fmt(p.score)) candidate \(candidate[Int(i)]) verdict \(verdict[Int(i)].rawValue) "
                     + "exchanges \(p.exchanges) group \(groups[root]?.members.count ?? 0) flagged \(flaggedAt[Int(i)].map { Timestamp(milliseconds: $0).rfc3339 } ?? "-")",
                     "  kinds \(p.kindCounts) overflow \(p.overflow) join: \(p.joinReason ?? "-")"]
        for r in p.coRecords {
            let st = coactivity.streams[r.stream]
            let value = st.map { describeValue($0.value) } ?? "?"
            lines.append("  co scale \(st?.scale ?? 9) active \(r.activeCells) bursts \(r.burstCells) sync \(r.synchronized) "
                         + "rate \(fmt(coactivity.burstRate(r.stream, now: coactivity.streams[r.stream]?.cell ?? r.lastCell) * 100))% n \(r.behaviour.n) "
                         + "score \(fmt(p.components(config, part: r.behaviour).score(config))) \(value.prefix(90))")
        }
        return lines.joined(separator: "\n")
    }
}
