import MoatCore

extension DetectionEngine {
    /// Links an account through what it gave at sign-up: payment instrument, e-mail domain, sign-up burst.
    mutating func registerIdentity(_ a: Int32, _ identity: Account, ts: Int64, _ changes: inout [VerdictChange]) {
        let population = max(Double(identityStats.accounts), config.rarityFloorAccounts)
        let seen = identityStats.accounts
        if let card = identity.paymentFingerprint, let holders = identityStats.payments[card] {
            register(a, key: StableHash.of(card, seed: 21), kind: .payment, label: { card }, ts: ts, &changes,
                     weight: { _ in LinkIndex.rarity(holders: holders, population: population, seen: seen) })
        }
        if let domain = identity.emailDomain?.lowercased(), let holders = identityStats.emailDomains[domain] {
            register(a, key: StableHash.of(domain, seed: 22), kind: .emailDomain, label: { domain }, ts: ts, &changes,
                     weight: { _ in LinkIndex.rarity(holders: holders, population: population, seen: seen) })
        }
        if let created = identity.createdAt?.milliseconds {
            let hour = created / Timestamp.hour
            let holders = identityStats.signupHours[hour] ?? 1
            let expected = config.signupBurstFactor * identityStats.signupsPerHour
            let burst = holders < config.signupBurstMinAccounts ? 0 : max(0, 1 - expected / Double(holders))
            if burst > 0 {
                let label = Timestamp(milliseconds: hour * Timestamp.hour).rfc3339.prefix(13) + ":00Z"
                register(a, key: StableHash.of(String(hour), seed: 23), kind: .signupBurst, label: { String(label) }, ts: ts,
                         &changes, weight: { _ in burst })
            }
        }
    }

    /// Registers that account `a` holds a value, linking it to earlier holders.
    ///
    /// Each kind has its own budget per account: past it, the value is counted as overflow (a flood) but
    /// registers nothing, so flooding one kind never blinds the others.
    mutating func register(_ a: Int32, key: UInt64, kind: LinkKind, label: () -> String, ts: Int64,
                           _ changes: inout [VerdictChange], weight custom: ((Int) -> Double)? = nil, scale: Double = 1) {
        let i = Int(a)
        let k = Int(kind.rawValue)
        guard !profiles[i].values.contains(key) else { return }
        guard Int(profiles[i].kindCounts[k]) < perKind.budget[k] else {
            profiles[i].overflow[k] &+= 1
            return
        }
        profiles[i].values.insert(key)
        if !kind.isHard { profiles[i].softValues.append(key) }
        profiles[i].kindCounts[k] += 1
        let kindWeight = perKind.weight[k] * scale
        let population = max(Double(profiles.count), config.rarityFloorAccounts)
        let seen = profiles.count
        let weight = custom ?? { holders in LinkIndex.rarity(holders: holders, population: population, seen: seen) }
        let org = profiles[i].identity?.orgID
        var linked: [(Int32, Double)] = []
        links.add(a, key: key, kind: kind, label: label, cap: perKind.cap[k],
                  weight: { kindWeight * weight($0) }) { other, w in linked.append((other, w)) }
        let network = kind == .ip || kind == .cloudPrefix
        for (other, linkWeight) in linked {
            // An address weighs by the share of both accounts' traffic it carries: a roaming developer's one
            // session on a cloud /24 is not a campaign's home.
            var w = linkWeight
            if network {
                let shared = (profiles[i].networkShare(key) * profiles[Int(other)].networkShare(key)).squareRoot()
                w *= min(1, shared / config.networkShareFull)
            }
            // Accounts of one declared organisation are expected to share infrastructure.
            if let org, profiles[Int(other)].identity?.orgID == org { continue }
            // Already in one group: the link adds nothing, and not storing it keeps memory per account flat.
            if find(a) == find(other) { continue }
            let authored = isFamilyValue(key, kind)
            // Soft evidence only strengthens pairs that have hard evidence; a pair's first hard link counts the
            // soft values its two accounts already share.
            let p: LinkIndex.Pair
            if let existing = links.strengthenExisting(a, other, kind: kind, weight: w, strong: config.minHardKindWeight,
                                                       authored: authored) {
                p = existing
            } else if kind.isHard {
                p = links.create(a, other, seed: sharedSoftEvidence(a, other), kind: kind, weight: w,
                                 strong: config.minHardKindWeight, authored: authored)
            } else {
                continue
            }
            if qualifies(p) {
                let reason = "links with \(profiles[Int(other)].id) (\(kindNames(p.kinds)); hard weight \(fmt(Double(p.hard))), all \(fmt(Double(p.hard + p.soft))))"
                // Accounts that also share authored text join at a lower score: the group's bar still decides.
                if p.authored, !(candidate[i] && candidate[Int(other)]),
                   profiles[i].score >= config.familyLinkGate, profiles[Int(other)].score >= config.familyLinkGate {
                    union(a, other, ts: ts, &changes)
                    if profiles[i].joinReason == nil { profiles[i].joinReason = reason }
                } else {
                    join(a, other, ts: ts, &changes, hard: Double(p.hard), why: reason)
                }
            }
        }
        if isFamilyValue(key, kind) { reconcile(value: key, holder: a, ts: ts, &changes) }
    }

    /// The soft evidence two accounts share (client stacks, system-prompt families, templates, request shapes),
    /// weighed by each value's rarity now: what a pair starts with when its first hard link arrives.
    func sharedSoftEvidence(_ a: Int32, _ b: Int32) -> LinkIndex.Pair {
        var p = LinkIndex.Pair()
        let (x, y) = profiles[Int(a)].softValues.count <= profiles[Int(b)].softValues.count ? (Int(a), Int(b)) : (Int(b), Int(a))
        guard !profiles[x].softValues.isEmpty else { return p }
        let population = max(Double(profiles.count), config.rarityFloorAccounts)
        for key in profiles[x].softValues where profiles[y].values.contains(key) {
            guard let v = links.values[key], !v.common else { continue }
            let w = perKind.weight[Int(v.kind.rawValue)] * LinkIndex.rarity(holders: v.members.count, population: population, seen: profiles.count)
            guard w > 0 else { continue }
            _ = LinkIndex.add(&p, kind: v.kind, weight: w, strong: config.minHardKindWeight, authored: isFamilyValue(key, v.kind))
        }
        return p
    }

    /// Whether a pair's links are strong and varied enough to put the two accounts in one group.
    ///
    /// Network addresses alone are weak: unrelated tenants share a big cloud's /24, and a proxy exit carries
    /// unrelated customers. A pair whose hard evidence is only network needs several shared addresses, or
    /// an address plus two kinds of family evidence (software, system prompt, template, request shape).
    func qualifies(_ p: LinkIndex.Pair) -> Bool {
        let hardNeeded = p.authored ? config.familyHardThreshold : config.hardLinkThreshold
        guard Double(p.hard) >= hardNeeded, Double(p.hard + p.soft) >= config.totalLinkThreshold,
              p.strongHardKinds.nonzeroBitCount >= config.minHardKinds else { return false }
        return p.hasIdentity || Int(p.networkValues) >= config.networkOnlyMinValues
            || p.familyKindCount >= config.networkOnlyMinFamilyKinds
    }

    /// Two strongly linked accounts join one group if both look like extraction; otherwise the link waits.
    /// `hard` is the pair's hard weight: two campaigns merge only on strong hard evidence, unless `merge`
    /// says another kind of evidence (shared families, shared bursts) ties them.
    mutating func join(_ a: Int32, _ b: Int32, ts: Int64, _ changes: inout [VerdictChange], hard: Double = .infinity,
                       merge: Bool = false, why: String = "") {
        if eligible(a), eligible(b) {
            let (ra, rb) = (find(a), find(b))
            if !merge, ra != rb, groups[ra]?.campaign != nil, groups[rb]?.campaign != nil, hard < config.campaignMergeHardThreshold {
                return
            }
            if ra != rb {
                let reason = why
                if !reason.isEmpty {
                    if profiles[Int(a)].joinReason == nil { profiles[Int(a)].joinReason = reason }
                    if profiles[Int(b)].joinReason == nil { profiles[Int(b)].joinReason = reason }
                }
            }
            union(a, b, ts: ts, &changes)
            return
        }
        for (x, y) in [(a, b), (b, a)] where !eligible(x) {
            if pending[Int(x)].count < config.maxPendingPartners, !pending[Int(x)].contains(y) { pending[Int(x)].append(y) }
        }
    }

    /// An account may be joined to others: it extracts, or it is already in a campaign.
    func eligible(_ x: Int32) -> Bool { candidate[Int(x)] || verdict[Int(x)] == .campaign }

    mutating func find(_ x: Int32) -> Int32 {
        var r = x
        while parent[Int(r)] != r { r = parent[Int(r)] }
        var c = x
        while parent[Int(c)] != r {
            let next = parent[Int(c)]
            parent[Int(c)] = r
            c = next
        }
        return r
    }

    mutating func union(_ a: Int32, _ b: Int32, ts: Int64, _ changes: inout [VerdictChange]) {
        var ra = find(a), rb = find(b)
        guard ra != rb, var ga = groups[ra], var gb = groups[rb] else { return }
        // Two campaigns, one of which had gone silent before the other was detected: a takedown and a return.
        // They stay two campaigns of one operator, tied by memory, whatever links them (not only families).
        if let x = ga.campaign.map(resolve), let y = gb.campaign.map(resolve), x != y {
            let (old, new) = campaigns[x].detectedAt <= campaigns[y].detectedAt ? (x, y) : (y, x)
            if Double(campaigns[new].detectedAt - campaigns[old].lastActive) > config.memoryGapHours * Double(Timestamp.hour) {
                tieReturn(new, to: old)
                return
            }
        }
        if ga.members.count < gb.members.count { swap(&ra, &rb); swap(&ga, &gb) }
        parent[Int(rb)] = ra
        ga.members.append(contentsOf: gb.members)
        ga.scoreSum += gb.scoreSum
        ga.returnOf = ga.returnOf ?? gb.returnOf
        switch (ga.campaign.map(resolve), gb.campaign.map(resolve)) {
        case (let x?, let y?) where x != y:
            let (keep, drop) = campaigns[x].detectedAt <= campaigns[y].detectedAt ? (x, y) : (y, x)
            campaigns[drop].mergedInto = keep
            campaigns[keep].lastActive = max(campaigns[keep].lastActive, campaigns[drop].lastActive)
            campaigns[keep].familyEvidence += campaigns[drop].familyEvidence
            ga.campaign = keep
        case (nil, let y?):
            ga.campaign = y
        default:
            break
        }
        groups[rb] = nil
        groups[ra] = ga
        settle(ra, ts: ts, &changes)
    }

    /// Makes a group a campaign once it qualifies, and flags every member not yet flagged.
    mutating func settle(_ root: Int32, ts: Int64, _ changes: inout [VerdictChange]) {
        guard var g = groups[root] else { return }
        var formed = false
        if g.campaign == nil {
            let size = g.members.count
            let mean = g.scoreSum / Double(max(size, 1))
            guard size >= config.minCampaignAccounts, mean >= config.familyGroupMeanScore else { return }
            if mean < config.campaignMeanScore {
                // A group most of whose members also write the same system prompt or prompt framing needs less.
                if g.familyCheckedAt != size {
                    g.familyCheckedAt = size
                    g.sharesFamily = sharesAuthoredFamily(g.members)
                    groups[root] = g
                }
                guard g.sharesFamily else { return }
            }
            let n = campaigns.count + 1
            var state = CampaignState(id: DetectionEngine.campaignID(n), detectedAt: ts, anchor: root, lastActive: ts,
                                      operatorID: DetectionEngine.operatorID(n))
            if let remembered = g.returnOf.map(resolve) {
                state.operatorID = campaigns[remembered].operatorID
                state.returnOf = remembered
                state.memoryEvidence = campaigns[remembered].memoryEvidence
            }
            campaigns.append(state)
            g.campaign = campaigns.count - 1
            groups[root] = g
            formed = true
        }
        guard let c = g.campaign.map(resolve) else { return }
        for m in g.members where verdict[Int(m)] != .campaign {
            verdict[Int(m)] = .campaign
            if flaggedAt[Int(m)] == nil { flaggedAt[Int(m)] = ts }
            changes.append(VerdictChange(accountID: profiles[Int(m)].id, verdict: .campaign, campaignID: campaigns[c].id,
                                         at: Timestamp(milliseconds: ts), score: profiles[Int(m)].score))
        }
        // A campaign that formed, or grew by half since it last looked, checks its families again.
        let size = groups[root]?.members.count ?? 0
        if formed || Double(size) >= 1.5 * Double(campaigns[c].reconciledAtSize) {
            campaigns[c].reconciledAtSize = size
            reconcile(campaignRoot: root, ts: ts, &changes)
        }
    }

    /// Recomputes an account's extraction score; crossing the gate releases its waiting links.
    mutating func updateScore(_ a: Int32, ts: Int64, _ changes: inout [VerdictChange]) {
        let i = Int(a)
        let old = profiles[i].score
        // The profile is read in place: the array's getter would copy it whole (a dozen references) per call.
        var new = profiles.withUnsafeBufferPointer { $0[i].components(config).score(config) }
        // Traffic an account sends in step with others is scored on its own: cover traffic cannot dilute it.
        // Once it is synchronized with one value, so is its traffic with any other value on whose bursts an
        // established cluster formed and in which it took part (a campaign's system prompt beside its client).
        let coordinated = profiles[i].coRecords.contains { $0.synchronized }
        for r in profiles[i].coRecords
        where r.synchronized || (coordinated && Int(r.burstCells) >= config.syncPartMinBursts && coactivity.established(r.stream, config)) {
            new = max(new, profiles.withUnsafeBufferPointer { $0[i].components(config, part: r.behaviour).score(config) })
        }
        profiles[i].score = new
        let root = find(a)
        groups[root]?.scoreSum += new - old
        let wasCandidate = candidate[i]
        candidate[i] = new >= config.linkGate
        if candidate[i], !wasCandidate {
            let partners = pending[i]
            pending[i] = []
            for p in partners { join(a, p, ts: ts, &changes) }
        }
        // Values registered while the account did not qualify may tie it to a campaign now.
        if old < config.familyLinkGate, new >= config.familyLinkGate {
            reconcile(account: a, ts: ts, &changes)
            if !candidate[i] { joinSynchronizedCampaign(a, ts: ts, &changes) }
        }
        if groups[find(a)]?.campaign == nil { settle(find(a), ts: ts, &changes) }
        if verdict[i] == .clear, profiles[i].exchanges >= config.suspiciousMinExchanges, new >= config.suspiciousScore {
            verdict[i] = .suspicious
            flaggedAt[i] = ts
            changes.append(VerdictChange(accountID: profiles[i].id, verdict: .suspicious, campaignID: nil,
                                         at: Timestamp(milliseconds: ts), score: new))
        }
    }
}

extension DetectionEngine {
    /// Whether at least `familyGroupShare` of the members hold one authored family value.
    func sharesAuthoredFamily(_ members: [Int32]) -> Bool {
        var counts: [UInt64: Int] = [:]
        for m in members {
            for v in profiles[Int(m)].values {
                guard let kind = links.values[v]?.kind, isFamilyValue(v, kind) else { continue }
                counts[v, default: 0] += 1
            }
        }
        let need = config.familyGroupShare * Double(members.count)
        return counts.values.contains { Double($0) >= need }
    }

    /// `IP address, payment fingerprint`
    func kindNames(_ mask: UInt16) -> String {
        LinkKind.allCases.filter { mask & (1 << UInt16($0.rawValue)) != 0 }.map(\.name).joined(separator: ", ")
    }

    /// `C-0001`
    static func campaignID(_ n: Int) -> String { "C-" + padded(n) }
    /// `OP-0001`
    static func operatorID(_ n: Int) -> String { "OP-" + padded(n) }

    static func padded(_ n: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
