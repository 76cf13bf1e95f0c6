import MoatCore

extension DetectionEngine {
    /// Counts account `a`'s use of a soft value in the co-activity windows, and credits the accounts of any
    /// burst that closed.
    mutating func observeCoactivity(_ a: Int32, kind: LinkKind, value: UInt64?, ts: Int64, _ e: Exchange, _ f: ExchangeFeatures,
                                    _ changes: inout [VerdictChange]) {
        guard let value, let v = links.values[value], v.common || v.members.count >= 2 else { return }
        let i = Int(a)
        // Scratch buffers kept across calls: this runs three times per exchange.
        scratchCells.removeAll(keepingCapacity: true)
        for s in coactivity.scales.indices {
            let key = CoActivity.streamKey(value, scale: s)
            scratchCells.append(profiles[i].lastCells.first { $0.stream == key }?.cell)
        }
        closedBursts.removeAll(keepingCapacity: true)
        scratchEntered.removeAll(keepingCapacity: true)
        coactivity.observe(a, kind: kind, value: value, ts: ts, lastCells: scratchCells, &closedBursts, entered: &scratchEntered)
        for (stream, cell) in scratchEntered {
            noteWindow(a, stream: stream, cell: cell)
            // Remember the window, so the account counts once per window (a small most-recent-first list).
            if let k = profiles[i].lastCells.firstIndex(where: { $0.stream == stream }) { profiles[i].lastCells.remove(at: k) }
            profiles[i].lastCells.insert((stream, cell), at: 0)
            if profiles[i].lastCells.count > 12 { profiles[i].lastCells.removeLast() }
        }
        for s in coactivity.scales.indices {
            let key = CoActivity.streamKey(value, scale: s)
            if let r = profiles[i].coRecords.firstIndex(where: { $0.stream == key }) { profiles[i].coRecords[r].behaviour.add(e, f) }
        }
        guard !closedBursts.isEmpty else { return }
        let bursts = closedBursts
        for b in bursts { credit(b, ts: ts, &changes) }
    }

    /// One more window in which the account used the stream's value (counted once the account has a record).
    mutating func noteWindow(_ a: Int32, stream: UInt64, cell: Int64) {
        let i = Int(a)
        guard let r = profiles[i].coRecords.firstIndex(where: { $0.stream == stream }) else { return }
        profiles[i].coRecords[r].activeCells += 1
        profiles[i].coRecords[r].lastCell = cell
    }

    /// The account's record of a stream, created when it first takes part in one of the stream's bursts
    /// (values never in a burst cost nothing per account). Returns nil when the budget is full of records
    /// that are synchronized or busier.
    mutating func record(_ a: Int32, stream: UInt64, cell: Int64) -> Int? {
        let i = Int(a)
        if let r = profiles[i].coRecords.firstIndex(where: { $0.stream == stream }) { return r }
        var record = CoActivity.Record(stream: stream, lastCell: cell)
        record.activeCells = 1
        if profiles[i].coRecords.count < config.coactivityRecordsPerAccount {
            profiles[i].coRecords.append(record)
            return profiles[i].coRecords.count - 1
        }
        var victim: Int?
        for (k, r) in profiles[i].coRecords.enumerated() where !r.synchronized && r.burstCells <= 1 {
            if victim == nil || r.activeCells < profiles[i].coRecords[victim!].activeCells { victim = k }
        }
        guard let victim else { return nil }
        profiles[i].coRecords[victim] = record
        return victim
    }

    /// A burst closed: each of its accounts took part in one more, and may now be synchronized with the value.
    mutating func credit(_ b: CoActivity.Burst, ts: Int64, _ changes: inout [VerdictChange]) {
        guard let scale = coactivity.streams[b.stream].map({ Int($0.scale) }) else { return }
        let cellMs = coactivity.scales[scale].cellMilliseconds
        let burstTs = b.cell * cellMs
        for m in b.members {
            let i = Int(m)
            guard let r = record(m, stream: b.stream, cell: b.cell) else { continue }
            var rec = profiles[i].coRecords[r]
            rec.burstCells += 1
            rec.firstBurstTs = min(rec.firstBurstTs, burstTs)
            rec.lastBurstTs = max(rec.lastBurstTs, burstTs)
            rec.recentBursts.append(b.cell)
            if rec.recentBursts.count > 32 { rec.recentBursts.removeFirst(rec.recentBursts.count - 32) }
            var newlySynchronized = false
            // Once a cluster is established on the value, an account that keeps to its schedule needs less.
            let known = coactivity.established(b.stream, config)
            let minBursts = known ? config.syncJoinMinBursts : config.syncMinBursts
            let minSpan = known ? config.syncJoinMinSpanHours : config.syncMinSpanHours
            let alpha = known ? config.syncJoinAlpha : config.syncAlpha
            if !rec.synchronized, Int(rec.burstCells) >= minBursts,
               Double(rec.lastBurstTs - rec.firstBurstTs) >= minSpan * Double(Timestamp.hour),
               Double(rec.burstCells) >= config.syncMinShare * Double(rec.activeCells) {
                // The record began at a burst: that first burst is not evidence, so it is left out of the test.
                let p = min(1, config.syncNullInflation * coactivity.burstRate(b.stream, now: b.cell))
                if CoActivity.binomialTail(Int(rec.burstCells) - 1, n: Int(rec.activeCells) - 1, p: p) <= alpha {
                    rec.synchronized = true
                    newlySynchronized = true
                }
            }
            profiles[i].coRecords[r] = rec
            if newlySynchronized {
                updateScore(m, ts: ts, &changes)
                synchronized(m, record: rec, ts: ts, &changes)
            }
        }
    }

    /// An account is synchronized with a value: it joins the cluster of accounts whose bursts it shares.
    mutating func synchronized(_ a: Int32, record: CoActivity.Record, ts: Int64, _ changes: inout [VerdictChange]) {
        guard var st = coactivity.streams[record.stream] else { return }
        let mine = Set(record.recentBursts)
        let expected = Double(record.activeCells) * coactivity.burstRate(record.stream, now: record.lastCell)
        var best: (Int, Double)?
        for (k, c) in st.clusters.enumerated() {
            let overlap = c.overlap(mine)
            if overlap >= config.syncClusterOverlap, overlap > (best?.1 ?? -1) { best = (k, overlap) }
        }
        var joins: [(Int32, Int32)] = []
        var established: Int?
        if let (k, _) = best {
            st.clusters[k].members += 1
            // Below the minimum size, members wait; at it, they all join; past it, each joins at once. They join
            // a member that extracts (the hub), so that one member that does not yet cannot hold up the others.
            if st.clusters[k].members < config.syncClusterMinAccounts {
                st.clusters[k].waiting.append(a)
            } else {
                let everyone = [st.clusters[k].root] + st.clusters[k].anchors + st.clusters[k].waiting + [a]
                let hub = everyone.first(where: eligible) ?? st.clusters[k].root
                for x in everyone where x != hub && !joins.contains(where: { $0.0 == x }) { joins.append((x, hub)) }
                st.clusters[k].waiting = []
                if st.clusters[k].members == config.syncClusterMinAccounts { established = k }
            }
            for x in [a] + st.clusters[k].waiting where eligible(x) && st.clusters[k].anchors.count < CoActivity.Cluster.maxAnchors
                && !st.clusters[k].anchors.contains(x) {
                st.clusters[k].anchors.append(x)
            }
            st.clusters[k].cells.formUnion(mine)
            if st.clusters[k].cells.count > 4_096 { st.clusters[k].cells = Set(st.clusters[k].cells.sorted().suffix(2_048)) }
            st.clusters[k].firstBurst = min(st.clusters[k].firstBurst, record.firstBurstTs)
            st.clusters[k].lastBurst = max(st.clusters[k].lastBurst, record.lastBurstTs)
            st.clusters[k].burstWindows += Int(record.burstCells)
            st.clusters[k].activeWindows += Int(record.activeCells)
            st.clusters[k].expected += expected
        } else {
            st.clusters.append(CoActivity.Cluster(root: a, members: 1, anchors: eligible(a) ? [a] : [], cells: mine, firstBurst: record.firstBurstTs,
                                                  lastBurst: record.lastBurstTs, burstWindows: Int(record.burstCells),
                                                  activeWindows: Int(record.activeCells), expected: expected))
        }
        coactivity.streams[record.stream] = st
        let what = describeValue(st.value)
        for (x, root) in joins where x != root {
            let reason = "bursts of the \(what) shared with \(profiles[Int(root)].id) and others"
            if !joinCampaign(x, root, ts: ts, &changes, why: reason) { join(x, root, ts: ts, &changes, merge: true, why: reason) }
        }
        if let k = established { mergeClusters(record.stream, k, ts: ts, &changes) }
    }

    /// A synchronized account that extracts a little (`familyLinkGate`, as for family ties) joins the campaign
    /// its cluster already belongs to: the campaign is established, what is left is membership.
    @discardableResult
    mutating func joinCampaign(_ x: Int32, _ root: Int32, ts: Int64, _ changes: inout [VerdictChange], why reason: String) -> Bool {
        let i = Int(x)
        guard !eligible(x), profiles[i].score >= config.familyLinkGate, groups[find(root)]?.campaign != nil,
              groups[find(x)]?.campaign == nil else { return false }
        if profiles[i].joinReason == nil { profiles[i].joinReason = reason }
        union(x, root, ts: ts, &changes)
        return true
    }

    /// An account synchronized with an established cluster reached `familyLinkGate`: it joins the cluster's
    /// campaign, if there is one.
    mutating func joinSynchronizedCampaign(_ a: Int32, ts: Int64, _ changes: inout [VerdictChange]) {
        for r in profiles[Int(a)].coRecords where r.synchronized {
            guard let st = coactivity.streams[r.stream] else { continue }
            let mine = Set(r.recentBursts)
            for c in st.clusters where c.members >= config.syncClusterMinAccounts {
                let overlap = c.overlap(mine)
                guard overlap >= config.syncClusterOverlap else { continue }
                let reason = "bursts of the \(describeValue(st.value)) shared with \(profiles[Int(c.root)].id) and others"
                if joinCampaign(a, hub(c), ts: ts, &changes, why: reason) { return }
            }
        }
    }

    /// The member of a cluster that others join: one that extracts, if any does.
    func hub(_ c: CoActivity.Cluster) -> Int32 {
        ([c.root] + c.anchors).first(where: eligible) ?? c.root
    }

    /// A cluster just reached its minimum size: clusters of other values whose bursts are the same windows are
    /// the same scheduler (one operator sending through several client versions or shapes).
    mutating func mergeClusters(_ stream: UInt64, _ k: Int, ts: Int64, _ changes: inout [VerdictChange]) {
        guard let st = coactivity.streams[stream], k < st.clusters.count else { return }
        let mine = st.clusters[k]
        var matches: [(Int32, String)] = []
        for (key, other) in coactivity.streams where key != stream && other.scale == st.scale {
            for c in other.clusters where c.members >= config.syncClusterMinAccounts {
                let shared = mine.cells.intersection(c.cells).count
                guard Double(shared) >= config.clusterMergeOverlap * Double(max(1, min(mine.cells.count, c.cells.count))) else { continue }
                matches.append((hub(c), "the same \(shared) burst windows as the accounts synchronized with the \(describeValue(other.value))"))
            }
        }
        for (root, reason) in matches.sorted(by: { $0.0 < $1.0 }) {
            join(hub(mine), root, ts: ts, &changes, merge: true, why: reason)
        }
    }
}
