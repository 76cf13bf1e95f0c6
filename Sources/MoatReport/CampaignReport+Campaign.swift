import MoatCore

extension ReportDocument {
    /// One campaign: facts, evidence, charts, infrastructure, countermeasures and accounts.
    func campaignSection(_ view: CampaignView, _ page: inout HTMLBuffer) {
        let c = view.campaign
        let h = view.anchor
        page.add("<section class=\"campaign\" id=\"\(h)\" aria-labelledby=\"\(h)-h\">\n<h2 id=\"\(h)-h\">Campaign \(c.id)\(operatorTag(c))</h2>\n")
        var lead = "\(Format.count(c.accounts.count)) accounts made \(Format.count(view.exchanges)) exchanges between \(Format.time(view.firstMs)) and \(Format.time(view.lastMs)), "
        lead += "targeting \(topCapabilities(c, 3)). Moat reported the campaign at \(Format.time(view.detectedMs)), \(Format.duration(view.detectedMs - view.firstMs)) after its first exchange"
        if let g = view.group {
            lead += "; until each account was flagged it was served \(Format.count(g.leakedExchanges)) exchanges (\(Format.percent(g.leakedExchanges, of: g.exchanges)) of its traffic) and \(Format.compact(Double(g.leakedOutputTokens))) output tokens"
        }
        page.add("<p class=\"lead\">\(lead).</p>\n")

        page.add("<dl class=\"facts\">")
        fact(&page, "Accounts", "\(Format.count(c.accounts.count))" + (view.group.map { " (\(Format.count($0.accountsSeen)) in this log)" } ?? ""))
        fact(&page, "Exchanges", "\(Format.count(c.exchanges)) in the report" + (view.group.map { "; \(Format.count($0.exchanges)) in this log" } ?? ""))
        fact(&page, "First and last exchange", "\(Format.time(view.firstMs)) to \(Format.time(view.lastMs))")
        fact(&page, "Detected", "\(Format.time(view.detectedMs)) (\(Format.duration(view.detectedMs - view.firstMs)) after the first exchange)")
        fact(&page, "Confidence", HTML.number(c.confidence, decimals: 3))
        if let g = view.group {
            fact(&page, "Served before flagging", "\(Format.count(g.leakedExchanges)) exchanges, \(Format.count(g.leakedOutputTokens)) output tokens (of \(Format.count(g.outputTokens)))")
        }
        if let op = c.operatorID { fact(&page, "Operator", "\(Format.cut(op, options.maxValueLength)) (campaign memory: campaigns with this operator id were tied to one operator)") }
        if let related = c.relatedCampaigns, !related.isEmpty {
            fact(&page, "Related campaigns", related.prefix(50).map { Format.cut($0, 40) }.joined(separator: ", "))
        }
        page.add("</dl>\n")

        page.add("<h3 id=\"\(h)-evidence\">Evidence</h3>\n")
        if c.evidence.isEmpty {
            page.add("<p class=\"muted\">The report gives no evidence sentence for this campaign.</p>\n")
        } else {
            page.add("<ul class=\"evidence\" aria-labelledby=\"\(h)-evidence\">")
            for e in c.evidence.prefix(100) { page.add("<li>\(Format.cut(e, options.maxSentenceLength))</li>") }
            page.add("</ul>\n")
        }

        page.add("<h3>Timeline</h3>\n")
        timeline(view, &page)
        page.add("<h3>Sign-up waves</h3>\n")
        signups(view, &page)
        page.add("<h3>Model pivot</h3>\n")
        modelPivot(view, &page)
        page.add("<h3>Capability mix</h3>\n")
        capabilityMix(view, &page)
        page.add("<h3>Infrastructure</h3>\n")
        infrastructure(view, &page)
        page.add("<h3>Content and request fingerprints</h3>\n")
        fingerprints(c, &page)
        if log.fromGateway, view.group != nil {
            page.add("<h3>Countermeasures applied</h3>\n")
            countermeasures(view, &page)
        }
        page.add("<h3 id=\"\(h)-accounts-h\">Accounts</h3>\n")
        let verdicts = view.verdicts + missingVerdicts(view)
        accountsTable(verdicts, id: "\(h)-accounts", labelledBy: "\(h)-accounts-h", &page)
        page.add("</section>\n")
    }

    func fact(_ page: inout HTMLBuffer, _ name: String, _ value: String) {
        page.add("<dt>\(name)</dt><dd>\(value)</dd>")
    }

    /// Members listed by the campaign but absent from the report's accounts (flagged at detection).
    func missingVerdicts(_ view: CampaignView) -> [Report.AccountVerdict] {
        let listed = Set(view.verdicts.map(\.accountID))
        return view.campaign.accounts.filter { !listed.contains($0) }.map {
            Report.AccountVerdict(accountID: $0, verdict: "campaign", score: 0, campaign: view.campaign.id,
                                  flaggedAt: view.campaign.detectedAt, reasons: [])
        }
    }

    func campaignAxis(_ view: CampaignView, extendTo extra: [Int64] = [], maxBuckets: Int? = nil) -> TimeAxis {
        let first = ([view.firstMs] + extra).min() ?? view.firstMs
        let last = ([view.lastMs] + extra).max() ?? view.lastMs
        return TimeAxis.fitting(firstMs: first, lastMs: last, maxBuckets: maxBuckets ?? options.maxTimeBuckets)
    }

    // MARK: - Timeline

    func timeline(_ view: CampaignView, _ page: inout HTMLBuffer) {
        guard let g = view.group else {
            page.add("<p class=\"muted\">No exchange of this campaign is in the log given.</p>\n")
            return
        }
        let axis = campaignAxis(view)
        let perHour = axis.sum(g.hourly).map { $0 / Double(axis.hours) }
        let active = axis.maxOf(g.activeAccounts)
        let flagged = axis.histogram((view.verdicts + missingVerdicts(view)).compactMap { Timestamp(rfc3339: $0.flaggedAt)?.milliseconds })
        let peak = perHour.indices.max(by: { perHour[$0] < perHour[$1] }) ?? 0
        let chart = TimeChart(
            id: "\(view.anchor)-timeline", kind: "timeline", title: "Campaign \(view.campaign.id): exchanges and active accounts per hour",
            summary: "Exchanges per hour from \(Format.time(axis.startMs)) to \(Format.time(axis.endMs)); the busiest \(axis.bucketName) (\(TimeChart.label(axis, peak))) averaged \(Format.count(Int(perHour[peak].rounded()))) exchanges per hour. Up to \(Format.count(Int(active.max() ?? 0))) accounts were active in one hour. Detected at \(Format.time(view.detectedMs)); \(Format.count(Int(flagged.reduce(0, +)))) accounts flagged in all, shown in the lower panel.",
            caption: "Area: the campaign's exchanges per hour\(axis.hours > 1 ? " (mean over each \(axis.bucketName) bucket)" : ""). Line: distinct accounts active in an hour\(axis.hours > 1 ? " (busiest hour of the bucket)" : ""). Lower panel: accounts whose flagged_at falls in the bucket. Red line: the campaign's detected_at.",
            axis: axis, stacked: [ChartSeries(name: "exchanges per hour", color: view.color, values: perHour)],
            yLabel: "exchanges per hour",
            line: ChartSeries(name: "accounts active", color: view.color == 5 ? 6 : 5, values: active), lineLabel: "accounts active",
            markers: [ChartMarker(ms: view.detectedMs, label: "detected \(Format.time(view.detectedMs))", style: .detection)],
            lower: ChartSeries(name: "accounts flagged", color: 7, values: flagged), lowerLabel: "flagged",
            integerY: axis.hours == 1)
        page.add(chart.render())
    }

    // MARK: - Sign-ups

    func signups(_ view: CampaignView, _ page: inout HTMLBuffer) {
        guard hasAccountsFile else {
            page.add("<p class=\"muted\">No accounts file was given, so sign-up times are unknown.</p>\n")
            return
        }
        var created: [(ms: Int64, program: String)] = []
        for id in view.campaign.accounts {
            if let a = accountsByID[id], let t = a.createdAt { created.append((t.milliseconds, a.program ?? "not given")) }
        }
        guard let lastMs = created.map(\.ms).max(), let firstMs = created.map(\.ms).min() else {
            page.add("<p class=\"muted\">The accounts file gives no sign-up time for this campaign's accounts.</p>\n")
            return
        }
        // From the first sign-up (or the first exchange) to the last sign-up (or detection), at least a week.
        let day = Timestamp.day
        let lastDay = TimeAxis.floorDiv(max(lastMs, view.detectedMs, view.firstMs), day)
        var firstDay = TimeAxis.floorDiv(min(firstMs, view.firstMs), day)
        firstDay = min(firstDay, lastDay - 6)
        firstDay = max(firstDay, lastDay - Int64(max(options.maxSignupDays, 7)) + 1)
        let gathered = created.filter { TimeAxis.floorDiv($0.ms, day) < firstDay }.count
        let axis = TimeAxis(startMs: firstDay * day, bucketMs: day, count: Int(lastDay - firstDay + 1))
        var programCounts: [String: Int] = [:]
        for c in created { programCounts[c.program, default: 0] += 1 }
        let programs = programCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map(\.key)
        var series: [ChartSeries] = []
        for (k, program) in programs.prefix(9).enumerated() {
            var values = [Double](repeating: 0, count: axis.count)
            for c in created where c.program == program || (k == 8 && !programs.prefix(8).contains(c.program)) {
                values[axis.bucket(max(c.ms, axis.startMs)) ?? 0] += 1
            }
            series.append(ChartSeries(name: k == 8 && programs.count > 9 ? "other programs" : "program: \(Format.cut(program, 40))", color: [0, 1, 2, 3, 4, 5, 8, 9, 6][k], values: values))
        }
        // All sign-ups per day, to say how much of a day's sign-ups the campaign was.
        var allPerDay: [Int64: Int] = [:]
        for a in accountsByID.values { if let t = a.createdAt { allPerDay[TimeAxis.floorDiv(t.milliseconds, day), default: 0] += 1 } }
        var perDay = [Int](repeating: 0, count: axis.count)
        for c in created { perDay[axis.bucket(max(c.ms, axis.startMs)) ?? 0] += 1 }
        let busiest = perDay.indices.max(by: { perDay[$0] < perDay[$1] }) ?? 0
        let busiestDay = firstDay + Int64(busiest)
        let daysWithSignups = perDay.filter { $0 > 0 }.count
        let share = Format.percent(perDay[busiest], of: allPerDay[busiestDay] ?? 0)
        var markers: [ChartMarker] = []
        markers.append(ChartMarker(ms: view.firstMs, label: "first exchange", style: .event))
        markers.append(ChartMarker(ms: view.detectedMs, label: "detected", style: .detection))
        let summary = "\(Format.count(created.count)) of \(Format.count(view.campaign.accounts.count)) accounts have a sign-up time; they signed up on \(daysWithSignups) day(s) between \(Format.day(firstMs)) and \(Format.day(lastMs)). Busiest day: \(Format.day(busiestDay * day)), with \(Format.count(perDay[busiest])) accounts (\(share) of all sign-ups that day). Programs: \(programs.prefix(4).map { "\(Format.cut($0, 30)) \(Format.count(programCounts[$0] ?? 0))" }.joined(separator: ", "))."
        let chart = TimeChart(
            id: "\(view.anchor)-signups", kind: "signups", title: "Campaign \(view.campaign.id): accounts created per day",
            summary: summary,
            caption: "Accounts of the campaign by sign-up day (created_at in the accounts file), stacked by program."
                + (gathered > 0 ? " \(Format.count(gathered)) earlier sign-ups are counted in the first day shown." : ""),
            axis: axis, stacked: series, style: .bars, yLabel: "accounts created", markers: markers,
            eventName: "the campaign's first exchange")
        page.add("<p>\(summary)</p>\n")
        page.add(chart.render())
    }

    // MARK: - Model pivot

    func modelPivot(_ view: CampaignView, _ page: inout HTMLBuffer) {
        guard let g = view.group else {
            page.add("<p class=\"muted\">No exchange of this campaign is in the log given.</p>\n")
            return
        }
        var perModel = [Int](repeating: 0, count: log.modelSlots)
        for counts in g.modelHourly.values { for (k, n) in counts.enumerated() { perModel[k] += n } }
        let used = perModel.indices.filter { perModel[$0] > 0 }
        let relevant = releases.filter { perModel[$0.index] > 0 }
        // Shares need enough exchanges per bucket to mean something: about 100 on average.
        let axis = campaignAxis(view, extendTo: relevant.map(\.model.firstMs),
                                maxBuckets: max(12, min(options.maxTimeBuckets, g.exchanges / 100)))
        let bySlot = axis.sum(g.modelHourly, slots: log.modelSlots)
        let modelColors = [0, 1, 2, 3, 4, 5, 7, 8, 9]
        let series = used.map { k in
            ChartSeries(name: modelName(k), color: k == log.modelSlots - 1 ? 6 : modelColors[k % modelColors.count], values: bySlot[k])
        }
        // Sentences: how fast the campaign moved to each newly seen model, against everyone else.
        var sentences: [String] = []
        for r in relevant {
            let start = TimeAxis.floorDiv(r.model.firstMs, Timestamp.hour)
            func share(_ hours: ClosedRange<Int64>) -> (campaign: Double?, others: Double?) {
                var cOn = 0, cAll = 0, oOn = 0, oAll = 0
                for hour in hours {
                    let cm = g.modelHourly[hour]?[r.index] ?? 0
                    let ca = g.hourly[hour] ?? 0
                    cOn += cm
                    cAll += ca
                    oOn += (log.modelHourly[hour]?[r.index] ?? 0) - cm
                    oAll += (log.hourly[hour] ?? 0) - ca
                }
                return (cAll > 0 ? Double(cOn) / Double(cAll) : nil, oAll > 0 ? Double(oOn) / Double(oAll) : nil)
            }
            let day1 = share(start...(start + 23))
            let lastHour = TimeAxis.floorDiv(log.lastMs ?? r.model.firstMs, Timestamp.hour)
            let after = share(start...max(start, lastHour))
            var s = "\(modelName(r.index)) first appears in the log at \(Format.time(r.model.firstMs)), taken as its release."
            if let c = day1.campaign {
                s += " In the 24 hours that followed, \(Format.percent(c)) of this campaign's exchanges used it"
                s += day1.others.map { ", against \(Format.percent($0)) of all other traffic" } ?? ""
                s += "."
            }
            if let c = after.campaign {
                s += " From its release to the end of the log: \(Format.percent(c))"
                s += after.others.map { " against \(Format.percent($0))" } ?? ""
                s += "."
            }
            var hour = start
            while hour <= lastHour {
                let all = g.hourly[hour] ?? 0
                if all > 0, 2 * (g.modelHourly[hour]?[r.index] ?? 0) >= all { break }
                hour += 1
            }
            if hour <= lastHour {
                s += " Half or more of the campaign's traffic was on it from \(Format.time(hour * Timestamp.hour)), \(Format.duration(hour * Timestamp.hour - r.model.firstMs)) after its release."
            }
            sentences.append(s)
        }
        let summary = "Share of the campaign's exchanges per model: " + used.map { "\(modelName($0)) \(Format.percent(perModel[$0], of: g.exchanges))" }.joined(separator: ", ") + "." + (sentences.first.map { " " + $0 } ?? "")
        let chart = TimeChart(
            id: "\(view.anchor)-models", kind: "models", title: "Campaign \(view.campaign.id): share of traffic per model",
            summary: summary,
            caption: "Share of the campaign's exchanges on each model per \(axis.bucketName). Dashed lines: the first exchange of a model in the whole log, taken as its release day.",
            axis: axis, stacked: series, normalized: true, yLabel: "share of exchanges",
            markers: releases.map { ChartMarker(ms: $0.model.firstMs, label: "\(Format.cut($0.model.name, 32)) first seen", style: .release) }
                + [ChartMarker(ms: view.detectedMs, label: "detected", style: .detection)])
        if sentences.isEmpty {
            page.add("<p>No model first appears after the log's first day, so no release falls in the window.</p>\n")
        } else {
            for s in sentences { page.add("<p>\(s)</p>\n") }
        }
        page.add(chart.render())
    }

    // MARK: - Capabilities

    func capabilityMix(_ view: CampaignView, _ page: inout HTMLBuffer) {
        let c = view.campaign
        var keys = Capability.allCases.map(\.rawValue)
        keys += c.capabilities.keys.filter { !keys.contains($0) }.sorted()
        let rows = keys.enumerated().map { k, key in
            BarChart.Row(label: Format.cut(key, 24), value: c.capabilities[key] ?? 0, color: [0, 1, 2, 3, 6, 4, 5, 8, 9][k % 9],
                         text: "\(Format.percent(c.capabilities[key] ?? 0)) (≈\(Format.count(Int(((c.capabilities[key] ?? 0) * Double(c.exchanges)).rounded()))))")
        }.sorted { $0.value > $1.value }
        let chart = BarChart(
            id: "\(view.anchor)-capabilities", kind: "capabilities", title: "Campaign \(view.campaign.id): capabilities targeted",
            summary: "Share of the campaign's exchanges by the capability they target: " + rows.map { "\($0.label) \(Format.percent($0.value))" }.joined(separator: ", ") + ".",
            caption: "Share of the campaign's exchanges by the capability each prompt targets, as classified by the detection engine (shares sum to 100%; approximate exchange counts in brackets).",
            rows: rows)
        page.add(chart.render())
    }

    // MARK: - Fingerprints

    func fingerprints(_ c: Report.Campaign, _ page: inout HTMLBuffer) {
        let i = c.indicators
        let lists: [(String, [String])] = [
            ("System prompts (hash of the exact text)", i.systemPromptHashes),
            ("System prompt families (near-duplicate signatures)", i.systemPromptFamilies ?? []),
            ("Prompt templates (masked)", i.promptTemplates),
            ("Prompt families (near-duplicate signatures)", i.promptFamilies ?? []),
            ("Request shapes", i.requestShapes ?? []),
            ("User agents", i.userAgents),
            ("TLS fingerprints", i.tlsFingerprints),
        ]
        let present = lists.filter { !$0.1.isEmpty }
        guard !present.isEmpty else {
            page.add("<p class=\"muted\">The report lists no content or request indicator for this campaign.</p>\n")
            return
        }
        page.add("<p>Indicators the detection engine reported for this campaign (values are shortened to \(options.maxValueLength) characters; the report JSON has them in full).</p>\n<dl class=\"facts\">")
        for (name, values) in present {
            var items = HTMLBuffer(capacity: 256)
            for v in values.prefix(20) { items.add("<li><code>\(Format.cut(v, options.maxValueLength))</code></li>") }
            page.add("<dt>\(name)</dt><dd><ul>\(HTML(bytes: items.bytes))</ul>\(values.count > 20 ? HTML("<span class=\"muted\">and \(values.count - 20) more</span>") : HTML.empty)</dd>")
        }
        page.add("</dl>\n")
    }

    // MARK: - Countermeasures

    func countermeasures(_ view: CampaignView, _ page: inout HTMLBuffer) {
        guard let g = view.group else { return }
        let e = g.traffic.enforcement
        var after = Enforcement()
        let detectedHour = TimeAxis.floorDiv(view.detectedMs, Timestamp.hour)
        for (hour, counts) in g.enforcementHourly where hour >= detectedHour { after = after + counts }
        var text = "Of the campaign's \(Format.count(e.total)) exchanges in the log, the gateway served \(Format.count(e.served)) as asked, \(Format.count(e.countermeasured)) with a countermeasure, throttled \(Format.count(e.throttled)) (429) and refused \(Format.count(e.refused)) (403)."
        if after.total > 0 {
            text += " From the hour of detection on: \(Format.percent(after.refused, of: after.total)) refused, \(Format.percent(after.throttled, of: after.total)) throttled, \(Format.percent(after.countermeasured, of: after.total)) served with a countermeasure, \(Format.percent(after.served, of: after.total)) served as asked."
        }
        page.add("<p>\(text)</p>\n")
        let axis = campaignAxis(view)
        var values = [[Double]](repeating: [Double](repeating: 0, count: axis.count), count: 5)
        for (hour, counts) in g.enforcementHourly {
            guard let b = axis.bucket(hour * Timestamp.hour) else { continue }
            for (k, n) in [counts.served, counts.countermeasured, counts.throttled, counts.refused, counts.failed].enumerated() {
                values[k][b] += Double(n) / Double(axis.hours)
            }
        }
        let names = ["served as asked", "served with a countermeasure", "throttled (429)", "refused (403)", "other errors"]
        let colors = [0, 4, 1, 7, 6]
        let chart = TimeChart(
            id: "\(view.anchor)-enforcement", kind: "enforcement", title: "Campaign \(view.campaign.id): what the gateway did with its requests",
            summary: text, caption: "The campaign's exchanges per hour by what the gateway did with them (status and countermeasure fields of the log).",
            axis: axis, stacked: (0..<5).map { ChartSeries(name: names[$0], color: colors[$0], values: values[$0]) },
            yLabel: "exchanges per hour",
            markers: [ChartMarker(ms: view.detectedMs, label: "detected", style: .detection)], integerY: axis.hours == 1)
        page.add(chart.render())
        page.add("<div class=\"grid2\">")
        categoryTable("Countermeasures", g.traffic.countermeasures, total: g.exchanges, id: "\(view.anchor)-cm", &page)
        categoryTable("HTTP statuses", g.traffic.statuses, total: g.exchanges, id: "\(view.anchor)-status", &page)
        if !g.traffic.outcomes.isEmpty { categoryTable("Outcomes", g.traffic.outcomes, total: g.exchanges, id: "\(view.anchor)-outcome", &page) }
        page.add("</div>\n")
    }

    func categoryTable(_ title: String, _ counts: CategoryCounts, total: Int, id: String, _ page: inout HTMLBuffer) {
        page.add("<div class=\"table-wrap\"><table id=\"\(id)\"><caption>\(title)</caption><thead><tr><th scope=\"col\">Value</th><th scope=\"col\" class=\"n\">Exchanges</th><th scope=\"col\" class=\"n\">Share</th></tr></thead><tbody>")
        if counts.isEmpty {
            page.add("<tr><td colspan=\"3\" class=\"muted\">none recorded</td></tr>")
        }
        for (key, n) in counts.sorted.prefix(options.infrastructureRows) {
            page.add("<tr><td class=\"v\">\(Format.cut(key, options.maxValueLength))</td><td class=\"n\">\(Format.count(n))</td><td class=\"n\">\(Format.percent(n, of: total))</td></tr>")
        }
        if counts.other > 0 {
            page.add("<tr><td class=\"muted\">other values</td><td class=\"n\">\(Format.count(counts.other))</td><td class=\"n\">\(Format.percent(counts.other, of: total))</td></tr>")
        }
        page.add("</tbody></table></div>")
    }
}

extension TimeChart {
    static func label(_ axis: TimeAxis, _ b: Int) -> String {
        TimeChart(id: "", kind: "", title: "", summary: "", axis: axis, stacked: [], yLabel: "").bucketLabel(b)
    }
}
