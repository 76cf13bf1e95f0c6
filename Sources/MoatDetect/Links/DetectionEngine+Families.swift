import MoatCore

/// Families across groups, and campaign memory.
///
/// Text an operator writes and reuses (a system-prompt family, the framing of its prompts) ties groups that
/// have no infrastructure in common: groups of one campaign spread over several
/// prefixes merge when a value is held mostly by them; a candidate account outside any campaign joins the
/// campaign that holds most of the value's holders. When that campaign has gone silent (taken down), the
/// accounts that come back with its families form a new campaign of the same operator instead.
extension DetectionEngine {
    /// Values that can tie groups: system-prompt families, request shapes, client stacks, and the heads of
    /// prompt templates (the framing; the rest of a prompt is payload that unrelated users share).
    func isFamilyValue(_ value: UInt64, _ kind: LinkKind) -> Bool {
        kind.isAuthored && (kind != .template || headTemplates.contains(value))
    }

    struct ValueHolders {
        var holders = 0
        /// Holders that are candidates or campaign members: the value's extraction-like holders.
        var extracting = 0
        /// Holders per live campaign (by index).
        var byCampaign: [Int: Int] = [:]
        /// Holders that qualify as candidates but are in no campaign.
        var loose: [Int32] = []
    }

    func holdersOf(_ value: UInt64) -> ValueHolders? {
        guard let v = links.values[value], !v.common, v.members.count >= config.familyMinHolders else { return nil }
        var out = ValueHolders()
        out.holders = v.members.count
        for m in v.members {
            if let c = groups[findConst(m)]?.campaign {
                out.byCampaign[resolve(c), default: 0] += 1
                out.extracting += 1
            } else if profiles[Int(m)].score >= config.familyLinkGate {
                out.loose.append(m)
                out.extracting += 1
            }
        }
        // A value most of whose holders do not extract is shared with ordinary customers: it ties nothing.
        guard Double(out.extracting) >= config.familyExtractingShare * Double(out.holders) else { return nil }
        return out
    }

    func isSilent(_ c: Int, at ts: Int64) -> Bool {
        Double(ts - campaigns[c].lastActive) > config.memoryGapHours * Double(Timestamp.hour)
    }

    /// A value was just registered by `holder`: merge or attach through it.
    mutating func reconcile(value: UInt64, holder: Int32, ts: Int64, _ changes: inout [VerdictChange]) {
        guard !campaigns.isEmpty, profiles[Int(holder)].score >= config.familyLinkGate || groups[find(holder)]?.campaign != nil,
              let h = holdersOf(value) else { return }
        decide(value: value, holders: h, accounts: [holder], ts: ts, &changes)
    }

    /// An account became a candidate: its earlier values may tie it to a campaign now.
    mutating func reconcile(account a: Int32, ts: Int64, _ changes: inout [VerdictChange]) {
        guard !campaigns.isEmpty else { return }
        for value in profiles[Int(a)].values.sorted() {
            guard let kind = links.values[value]?.kind, isFamilyValue(value, kind), let h = holdersOf(value) else { continue }
            decide(value: value, holders: h, accounts: [a], ts: ts, &changes)
        }
    }

    /// A campaign just formed: its families may tie it to other campaigns and to loose candidates.
    mutating func reconcile(campaignRoot root: Int32, ts: Int64, _ changes: inout [VerdictChange]) {
        guard let members = groups[root]?.members else { return }
        var seen: Set<UInt64> = []
        for m in members {
            for value in profiles[Int(m)].values where !seen.contains(value) {
                if let kind = links.values[value]?.kind, isFamilyValue(value, kind) { seen.insert(value) }
            }
        }
        for value in seen.sorted() {
            guard let h = holdersOf(value) else { continue }
            decide(value: value, holders: h, accounts: [members[0]] + h.loose, ts: ts, &changes)
        }
    }

    /// Applies the family rules for `value` to each of `accounts` (holders of it).
    mutating func decide(value: UInt64, holders h: ValueHolders, accounts: [Int32], ts: Int64, _ changes: inout [VerdictChange]) {
        let label = describeValue(value)
        for a in accounts {
            if let own = groups[find(a)]?.campaign.map(resolve) {
                // A campaign meets another through the value: merge while both are active, remember otherwise.
                let mine = h.byCampaign[own] ?? 0
                guard mine >= config.familyMinHolders else { continue }
                for (other, theirs) in h.byCampaign.sorted(by: { $0.key < $1.key })
                where other != own && theirs >= config.familyMinHolders
                    && Double(mine + theirs) >= config.familyMergeShare * Double(h.extracting) {
                    let o = resolve(other), me = resolve(own)
                    guard o != me else { continue }
                    if isSilent(o, at: ts) {
                        tie(me, to: o, label: label, held: theirs, of: h.holders)
                    } else if let anchor = groups[find(campaignAnchor(o))]?.members.first {
                        let sentence = "Groups joined through the \(label): \(mine) holders in \(campaigns[me].id) and \(theirs) in \(campaigns[o].id), of \(h.holders)."
                        campaigns[me].familyEvidence.append(sentence)
                        campaigns[o].familyEvidence.append(sentence)
                        join(a, anchor, ts: ts, &changes, merge: true, why: sentence)
                    }
                }
            } else if profiles[Int(a)].score >= config.familyLinkGate {
                // A loose account that writes the same text, and extracts a little, joins the campaign that holds
                // most of the value's other holders.
                let others = max(1, h.extracting - 1)
                guard let (c, held) = h.byCampaign.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }),
                      held >= config.familyMinHolders, Double(held) >= config.familyAttachShare * Double(others) else { continue }
                let live = resolve(c)
                if isSilent(live, at: ts) {
                    returnTo(live, account: a, label: label, held: held, of: h.holders, ts: ts, &changes)
                } else {
                    let sentence = "Accounts joined through the \(label), \(held) of whose \(h.holders) holders are in the campaign."
                    if !campaigns[live].familyEvidence.contains(sentence) { campaigns[live].familyEvidence.append(sentence) }
                    let reason = "the \(label), used by \(held) accounts of the campaign"
                    if profiles[Int(a)].joinReason == nil { profiles[Int(a)].joinReason = reason }
                    union(a, campaignAnchor(live), ts: ts, &changes)
                }
            }
        }
    }

    /// An account of a remembered campaign comes back: it joins (or founds) the group of returners, which
    /// becomes a campaign of the same operator once it qualifies.
    mutating func returnTo(_ c: Int, account a: Int32, label: String, held: Int, of holders: Int, ts: Int64,
                           _ changes: inout [VerdictChange]) {
        let root = find(a)
        if campaigns[c].memoryEvidence == nil {
            campaigns[c].memoryEvidence = memorySentence(c, label: label, held: held, of: holders)
        }
        if let r = campaigns[c].returnRoot, groups[find(r)] != nil, find(r) != root {
            if profiles[Int(a)].joinReason == nil { profiles[Int(a)].joinReason = "campaign memory: the \(label) of \(campaigns[c].id)" }
            union(a, r, ts: ts, &changes)
        } else {
            campaigns[c].returnRoot = a
            groups[root]?.returnOf = c
            settle(root, ts: ts, &changes)
        }
    }

    /// Ties campaign `c` to the remembered campaign `old`: same operator.
    mutating func tie(_ c: Int, to old: Int, label: String, held: Int, of holders: Int) {
        guard campaigns[c].returnOf == nil, campaigns[old].detectedAt < campaigns[c].detectedAt else { return }
        campaigns[c].returnOf = old
        campaigns[c].operatorID = campaigns[old].operatorID
        campaigns[c].memoryEvidence = memorySentence(old, label: label, held: held, of: holders)
    }

    /// Ties campaign `c`, detected after `old` went silent, to it when links other than families meet them.
    mutating func tieReturn(_ c: Int, to old: Int) {
        guard campaigns[c].returnOf == nil else { return }
        campaigns[c].returnOf = old
        campaigns[c].operatorID = campaigns[old].operatorID
        campaigns[c].memoryEvidence = "Tied by campaign memory to \(campaigns[old].id) (operator \(campaigns[old].operatorID)), "
            + "silent since \(Timestamp(milliseconds: campaigns[old].lastActive).rfc3339), before this campaign was detected: "
            + "their accounts are linked, so they are one operator's, but they are kept apart as a takedown and a return."
    }

    func memorySentence(_ old: Int, label: String, held: Int, of holders: Int) -> String {
        "Tied by campaign memory to \(campaigns[old].id) (operator \(campaigns[old].operatorID)), silent since "
            + "\(Timestamp(milliseconds: campaigns[old].lastActive).rfc3339): these accounts share none of its infrastructure "
            + "but use its \(label), which \(held) of its accounts used (\(held) of \(holders) holders)."
    }

    /// An account in campaign `c`.
    func campaignAnchor(_ c: Int) -> Int32 { campaigns[c].anchor }

    /// `system-prompt family sp:1f2e… ("You are Lumen, a meticulous tutor…", 3 variants, similarity ≥ 0.72)`
    func describeValue(_ value: UInt64) -> String {
        guard let v = links.values[value] else { return "shared value" }
        let raw = links.labels[value] ?? ""
        switch v.kind {
        case .systemPrompt:
            let text = raw.split(separator: " ", maxSplits: 1).last.map(String.init) ?? ""
            let (variants, similarity) = families.describe(value)
            let spread = variants > 1 ? ", \(variants) variants, similarity ≥ \(fmt(similarity))" : ""
            return "system-prompt family sp:\(String(value, radix: 16)) (\"\(text)…\"\(spread))"
        case .template:
            let text = raw.split(separator: " ", maxSplits: 1).last.map(String.init) ?? ""
            return "prompt template \"\(text)…\""
        default:
            return "\(v.kind.name) \(raw)"
        }
    }
}
