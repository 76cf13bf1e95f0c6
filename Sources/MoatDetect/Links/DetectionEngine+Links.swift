import MoatCore

extension DetectionEngine {
    /// Links an account through what it gave at sign-up: payment instrument, e-mail domain, sign-up burst.
    mutating func registerIdentity(_ a: Int32, _ identity: Account, ts: Int64, _ changes: inout [VerdictChange]) {
        let population = max(Double(identityStats.accounts), config.rarityFloorAccounts)
        if let card = identity.paymentFingerprint, let holders = identityStats.payments[card] {
            register(a, key: StableHash.of(card, seed: 21), kind: .payment, label: { card }, ts: ts, &changes,
                     weight: { _ in LinkIndex.rarity(holders: holders, population: population) })
        }
        if let domain = identity.emailDomain?.lowercased(), let holders = identityStats.emailDomains[domain] {
            register(a, key: StableHash.of(domain, seed: 22), kind: .emailDomain, label: { domain }, ts: ts, &changes,
                     weight: { _ in LinkIndex.rarity(holders: holders, population: population) })
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
    mutating func register(_ a: Int32, key: UInt64, kind: LinkKind, label: () -> String, ts: Int64,
                           _ changes: inout [VerdictChange], weight custom: ((Int) -> Double)? = nil, scale: Double = 1) {
        let i = Int(a)
        guard !profiles[i].values.contains(key), profiles[i].values.count < config.maxValuesPerAccount else { return }
        profiles[i].values.insert(key)
        let kindWeight = (config.kindWeights[kind] ?? 0) * scale
        let population = max(Double(profiles.count), config.rarityFloorAccounts)
        let weight = custom ?? { holders in LinkIndex.rarity(holders: holders, population: population) }
        let org = profiles[i].identity?.orgID
        var linked: [(Int32, Double)] = []
        links.add(a, key: key, kind: kind, label: label, cap: config.memberCaps[kind] ?? 128,
                  weight: { kindWeight * weight($0) }) { other, w in linked.append((other, w)) }
        for (other, w) in linked {
            // Accounts of one declared organisation are expected to share infrastructure.
            if let org, profiles[Int(other)].identity?.orgID == org { continue }
            // Already in one group: the link adds nothing, and not storing it keeps memory per account flat.
            if find(a) == find(other) { continue }
            let p = links.strengthen(a, other, kind: kind, weight: w, strong: config.minHardKindWeight)
            if qualifies(p) { join(a, other, ts: ts, &changes, hard: Double(p.hard)) }
        }
    }

    /// Whether a pair's links are strong and varied enough to put the two accounts in one group.
    func qualifies(_ p: LinkIndex.Pair) -> Bool {
        Double(p.hard) >= config.hardLinkThreshold && Double(p.hard + p.soft) >= config.totalLinkThreshold
            && p.strongHardKinds.nonzeroBitCount >= config.minHardKinds
    }

    /// Two strongly linked accounts join one group if both look like extraction; otherwise the link waits.
    mutating func join(_ a: Int32, _ b: Int32, ts: Int64, _ changes: inout [VerdictChange], hard: Double = .infinity) {
        if candidate[Int(a)], candidate[Int(b)] {
            let (ra, rb) = (find(a), find(b))
            if ra != rb, groups[ra]?.campaign != nil, groups[rb]?.campaign != nil, hard < config.campaignMergeHardThreshold {
                return
            }
            union(a, b, ts: ts, &changes)
            return
        }
        for (x, y) in [(a, b), (b, a)] where !candidate[Int(x)] {
            if pending[Int(x)].count < config.maxPendingPartners, !pending[Int(x)].contains(y) { pending[Int(x)].append(y) }
        }
    }

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
        if ga.members.count < gb.members.count { swap(&ra, &rb); swap(&ga, &gb) }
        parent[Int(rb)] = ra
        ga.members.append(contentsOf: gb.members)
        ga.scoreSum += gb.scoreSum
        switch (ga.campaign, gb.campaign) {
        case (let x?, let y?) where x != y:
            let (keep, drop) = campaigns[x].detectedAt <= campaigns[y].detectedAt ? (x, y) : (y, x)
            campaigns[drop].mergedInto = keep
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
        if g.campaign == nil {
            let size = g.members.count
            guard size >= config.minCampaignAccounts, g.scoreSum / Double(size) >= config.campaignMeanScore else { return }
            campaigns.append(CampaignState(id: DetectionEngine.campaignID(campaigns.count + 1), detectedAt: ts))
            g.campaign = campaigns.count - 1
            groups[root] = g
        }
        guard let c = g.campaign else { return }
        for m in g.members where verdict[Int(m)] != .campaign {
            verdict[Int(m)] = .campaign
            if flaggedAt[Int(m)] == nil { flaggedAt[Int(m)] = ts }
            changes.append(VerdictChange(accountID: profiles[Int(m)].id, verdict: .campaign, campaignID: campaigns[c].id,
                                         at: Timestamp(milliseconds: ts), score: profiles[Int(m)].score))
        }
    }

    /// Recomputes an account's extraction score; crossing the gate releases its waiting links.
    mutating func updateScore(_ a: Int32, ts: Int64, _ changes: inout [VerdictChange]) {
        let i = Int(a)
        let old = profiles[i].score
        let new = profiles[i].components(config).score(config)
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
        if groups[root]?.campaign == nil { settle(root, ts: ts, &changes) }
        if verdict[i] == .clear, profiles[i].exchanges >= config.suspiciousMinExchanges, new >= config.suspiciousScore {
            verdict[i] = .suspicious
            flaggedAt[i] = ts
            changes.append(VerdictChange(accountID: profiles[i].id, verdict: .suspicious, campaignID: nil,
                                         at: Timestamp(milliseconds: ts), score: new))
        }
    }

    /// SynchroTrap-style co-activity: candidates active in the same short bucket are linked, more strongly
    /// when the bucket holds more candidates than usual.
    mutating func synchronize(_ a: Int32, ts: Int64, _ changes: inout [VerdictChange]) {
        let bucket = ts / Int64(config.syncBucketSeconds * 1000)
        if bucket != syncBucket {
            if syncBucket != .min { syncBaseline = 0.98 * syncBaseline + 0.02 * Double(syncMembers.count) }
            syncBucket = bucket
            syncMembers = []
        }
        guard !syncMembers.contains(a) else { return }
        let cap = config.memberCaps[.sync] ?? 64
        if syncMembers.count < cap {
            let burst = max(0, 1 - 2 * syncBaseline / Double(syncMembers.count + 1))
            let w = (config.kindWeights[.sync] ?? 0) * burst
            if w > 0 {
                for other in syncMembers where find(a) != find(other) {
                    let p = links.strengthen(a, other, kind: .sync, weight: w, strong: config.minHardKindWeight)
                    if qualifies(p) { join(a, other, ts: ts, &changes, hard: Double(p.hard)) }
                }
            }
            syncMembers.append(a)
        }
    }
}

extension DetectionEngine {
    /// `C-0001`
    static func campaignID(_ n: Int) -> String {
        let digits = String(n)
        return "C-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
