import MoatCore

extension ReportDocument {
    /// The opening section: what a policy reader needs first.
    func summary(_ page: inout HTMLBuffer) {
        let totalExchanges = log.exchanges > 0 ? log.exchanges : report.summary.exchanges
        let totalAccounts = log.accounts > 0 ? log.accounts : report.summary.accounts
        let campaignAccounts = campaigns.reduce(0) { $0 + $1.campaign.accounts.count }
        let campaignExchanges = campaigns.reduce(0) { $0 + $1.exchanges }
        let leaked = campaigns.reduce(0) { $0 + ($1.group?.leakedExchanges ?? 0) }
        let leakedTokens = campaigns.reduce(0) { $0 + ($1.group?.leakedOutputTokens ?? 0) }
        let inLog = campaigns.reduce(0) { $0 + ($1.group?.exchanges ?? 0) }

        page.add("<section id=\"summary\" aria-labelledby=\"summary-h\">\n<h2 id=\"summary-h\">Summary</h2>\n")
        var lead = ""
        if let firstMs, let lastMs {
            lead += "Between \(Format.time(firstMs)) and \(Format.time(lastMs)) (\(Format.duration(lastMs - firstMs))), "
        }
        lead += "the exchange log holds \(Format.count(totalExchanges)) exchanges from \(Format.count(totalAccounts)) accounts. "
        if campaigns.isEmpty {
            lead += "Moat found no campaign of coordinated accounts extracting the model's answers."
        } else {
            lead += "Moat found \(campaigns.count == 1 ? "one campaign" : "\(campaigns.count) campaigns") of coordinated accounts "
            lead += "extracting the model's answers: \(Format.count(campaignAccounts)) accounts (\(Format.percent(campaignAccounts, of: totalAccounts)) of all) "
            lead += "that made \(Format.count(campaignExchanges)) exchanges (\(Format.percent(campaignExchanges, of: totalExchanges)) of all traffic)."
        }
        if !suspicious.isEmpty {
            lead += " \(Format.count(suspicious.count)) more account\(suspicious.count == 1 ? " was" : "s were") flagged as suspicious on \(suspicious.count == 1 ? "its" : "their") own."
        }
        page.add("<p class=\"lead\">\(lead)</p>\n")
        if inLog > 0 {
            page.add("<p class=\"callout\"><strong>What leaked before detection:</strong> before each campaign account was flagged, the campaigns were served \(Format.count(leaked)) exchanges (\(Format.percent(leaked, of: inLog)) of their traffic) and \(Format.compact(Double(leakedTokens))) output tokens. Everything after an account's flag time could be refused.</p>\n")
        }

        // Key figures.
        page.add("<dl class=\"cards\">")
        card(&page, "Campaigns", Format.count(campaigns.count), campaigns.isEmpty ? "" : "\(Format.count(campaignAccounts)) accounts")
        card(&page, "Flagged accounts", Format.count(report.accounts.count), "\(Format.count(suspicious.count)) suspicious outside campaigns")
        card(&page, "Campaign exchanges", Format.compact(Double(campaignExchanges)), "\(Format.percent(campaignExchanges, of: totalExchanges)) of \(Format.compact(Double(totalExchanges)))")
        if inLog > 0 {
            card(&page, "Served before flagging", Format.percent(leaked, of: inLog), "\(Format.count(leaked)) exchanges")
        }
        if let firstMs, let lastMs {
            card(&page, "Window", Format.duration(lastMs - firstMs), "\(Format.day(firstMs)) to \(Format.day(lastMs))")
        }
        if let fastest = campaigns.map({ $0.detectedMs - $0.firstMs }).min() {
            card(&page, "Fastest detection", Format.duration(fastest), "after a campaign's first exchange")
        }
        page.add("</dl>\n")
        consistencyNotes(&page)

        guard !campaigns.isEmpty else {
            overviewChart(&page)
            gatewayOverview(&page)
            page.add("</section>\n")
            return
        }

        // One row per campaign.
        page.add("<h3 id=\"campaigns-table-h\">Campaigns at a glance</h3>\n<div class=\"table-wrap\"><table aria-labelledby=\"campaigns-table-h\"><thead><tr>")
        for (name, numeric) in [("Campaign", false), ("Accounts", true), ("Exchanges", true), ("Detected (UTC)", false),
                                ("Time to detect", true), ("Served before flag", true),
                                ("Output tokens before flag", true), ("Confidence", true), ("Targeted", false)] {
            page.add("<th scope=\"col\"\(numeric ? HTML(" class=\"n\"") : HTML.empty)>\(name)</th>")
        }
        page.add("</tr></thead><tbody>\n")
        for view in campaigns {
            let c = view.campaign
            let leakedHere = view.group.map { "\(Format.count($0.leakedExchanges)) (\(Format.percent($0.leakedExchanges, of: $0.exchanges)))" } ?? "–"
            page.add("""
                <tr><th scope="row"><a href="#\(view.anchor)">\(c.id)</a>\(operatorTag(c))</th>\
                <td class="n">\(Format.count(c.accounts.count))</td>\
                <td class="n">\(Format.count(view.exchanges))</td>\
                <td class="t">\(Format.stamp(view.detectedMs))</td>\
                <td class="n">\(Format.duration(view.detectedMs - view.firstMs))</td>\
                <td class="n">\(leakedHere)</td>\
                <td class="n">\(view.group.map { Format.compact(Double($0.leakedOutputTokens)) } ?? "–")</td>\
                <td class="n">\(HTML.number(c.confidence, decimals: 2))</td>\
                <td>\(topCapabilities(c, 2))</td></tr>

                """)
        }
        page.add("</tbody></table></div>\n")

        // What each wanted, in sentences.
        page.add("<h3>What was targeted, and when it was caught</h3>\n<ul class=\"evidence\">\n")
        for view in campaigns {
            var s = "targeted \(topCapabilities(view.campaign, 3))"
            if let model = mainModel(view) { s += "; \(model)" }
            s += "; detected \(Format.duration(view.detectedMs - view.firstMs)) after its first exchange"
            if let g = view.group {
                s += ", by which time \(Format.count(g.leakedExchanges)) exchanges (\(Format.percent(g.leakedExchanges, of: g.exchanges))) and \(Format.compact(Double(g.leakedOutputTokens))) output tokens had been served to accounts not yet flagged"
            }
            page.add("<li><a href=\"#\(view.anchor)\"><strong>\(view.campaign.id)</strong></a> \(s).</li>\n")
        }
        page.add("</ul>\n")
        overviewChart(&page)
        gatewayOverview(&page)
        page.add("</section>\n")
    }

    func card(_ page: inout HTMLBuffer, _ label: String, _ value: String, _ note: String) {
        page.add("<div class=\"card\"><dt>\(label)</dt><dd>\(value)\(note.isEmpty ? HTML.empty : HTML("<small>\(note)</small>"))</dd></div>")
    }

    func operatorTag(_ c: Report.Campaign) -> HTML {
        guard let op = c.operatorID else { return .empty }
        return "<span class=\"tag\" title=\"operator tied to this campaign by campaign memory\">\(Format.cut(op, 40))</span>"
    }

    /// `agentic 46%, coding 31%`
    func topCapabilities(_ c: Report.Campaign, _ n: Int) -> String {
        let top = c.capabilities.filter { $0.value > 0 }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(n)
        return top.isEmpty ? "–" : top.map { "\(Format.cut($0.key, 30)) \(Format.percent($0.value))" }.joined(separator: ", ")
    }

    /// `62% of its exchanges on atlas-3-pro`
    func mainModel(_ view: CampaignView) -> String? {
        guard let g = view.group else { return nil }
        var perModel = [Int](repeating: 0, count: log.modelSlots)
        for counts in g.modelHourly.values { for (k, n) in counts.enumerated() { perModel[k] += n } }
        guard let best = perModel.indices.max(by: { perModel[$0] < perModel[$1] }), perModel[best] > 0 else { return nil }
        return "\(Format.percent(perModel[best], of: g.exchanges)) of its exchanges on \(modelName(best))"
    }

    func modelName(_ k: Int) -> String {
        k < log.models.count ? Format.cut(log.models[k].name, options.maxValueLength) : "other models"
    }

    /// Differences between the report and the log that a reader must know about.
    func consistencyNotes(_ page: inout HTMLBuffer) {
        var notes: [String] = []
        if log.exchanges == 0 {
            notes.append("The exchange log given holds no exchange: figures that come from the log (timelines, leakage, infrastructure) are missing.")
        } else if report.summary.exchanges > 0, report.summary.exchanges != log.exchanges {
            notes.append("The detection report was built from \(Format.count(report.summary.exchanges)) exchanges; the log given here holds \(Format.count(log.exchanges)). Figures from the log may not match the report's.")
        }
        if report.summary.invalidLines > 0 {
            notes.append("Detection skipped \(Format.count(report.summary.invalidLines)) invalid lines of the log.")
        }
        let missing = campaigns.filter { $0.group == nil && log.exchanges > 0 }.map(\.campaign.id)
        if !missing.isEmpty {
            notes.append("No exchange of campaign\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) is in the log given.")
        }
        if !hasAccountsFile, !campaigns.isEmpty {
            notes.append("No accounts file was given: sign-up waves and payment clusters are not shown.")
        }
        for note in notes { page.add("<p class=\"warn\">\(note)</p>\n") }
    }

    /// All traffic over the window, campaigns stacked on the rest.
    func overviewChart(_ page: inout HTMLBuffer) {
        guard let first = log.firstMs, let last = log.lastMs else { return }
        let axis = TimeAxis.fitting(firstMs: first, lastMs: last, maxBuckets: options.maxTimeBuckets)
        let total = axis.sum(log.hourly)
        var rest = total
        var series: [ChartSeries] = []
        for view in campaigns {
            guard let g = view.group else { continue }
            let values = axis.sum(g.hourly)
            for b in rest.indices { rest[b] -= values[b] }
            series.append(ChartSeries(name: "campaign \(view.campaign.id)", color: view.color, values: values.map { $0 / Double(axis.hours) }))
        }
        if log.suspicious.exchanges > 0 {
            let values = axis.sum(log.suspicious.hourly)
            for b in rest.indices { rest[b] -= values[b] }
            series.append(ChartSeries(name: "suspicious accounts", color: 9, values: values.map { $0 / Double(axis.hours) }))
        }
        series.append(ChartSeries(name: "all other traffic", color: 6, values: rest.map { max(0, $0) / Double(axis.hours) }))
        var markers = campaigns.map { ChartMarker(ms: $0.detectedMs, label: "\(Format.cut($0.campaign.id, 24)) detected", style: .detection) }
        markers += releases.map { ChartMarker(ms: $0.model.firstMs, label: "\(Format.cut($0.model.name, 32)) first seen", style: .release) }
        let peak = total.max() ?? 0
        let chart = TimeChart(
            id: "overview", kind: "overview", title: "All traffic per hour, campaigns highlighted",
            summary: "Exchanges per hour over the whole window, \(campaigns.count) campaign(s) stacked on all other traffic. Busiest \(axis.bucketName): \(Format.count(Int(peak))) exchanges. Campaign traffic: \(Format.count(campaigns.reduce(0) { $0 + ($1.group?.exchanges ?? 0) })) of \(Format.count(log.exchanges)) exchanges.",
            caption: "Exchanges per hour\(axis.hours > 1 ? " (mean over each \(axis.bucketName) bucket)" : ""). Red lines: when each campaign was detected; dashed lines: a model's first exchange in the log.",
            axis: axis, stacked: series, yLabel: "exchanges per hour", markers: markers, integerY: axis.hours == 1)
        page.add("<h3>Traffic over the window</h3>\n")
        page.add(chart.render())
    }

    /// Countermeasures, throttling and refusals per group, when the log comes from the gateway.
    func gatewayOverview(_ page: inout HTMLBuffer) {
        guard log.fromGateway else { return }
        page.add("<h3 id=\"gateway-h\">What the gateway did</h3>\n<p>The log carries the gateway's status codes and countermeasures. Counts of exchanges by what happened to them:</p>\n")
        page.add("<div class=\"table-wrap\"><table aria-labelledby=\"gateway-h\"><thead><tr><th scope=\"col\">Accounts</th>")
        for name in ["Exchanges", "Served", "Served with a countermeasure", "Throttled (429)", "Refused (403)", "Other errors"] {
            page.add("<th scope=\"col\" class=\"n\">\(name)</th>")
        }
        page.add("</tr></thead><tbody>\n")
        var rows: [(String, TrafficCounts)] = campaigns.compactMap { v in v.group.map { ("Campaign \(v.campaign.id)", $0.traffic) } }
        if log.suspicious.exchanges > 0 { rows.append(("Suspicious, outside campaigns", log.suspicious.traffic)) }
        rows.append(("Not flagged", log.unflagged))
        for (name, t) in rows {
            let e = t.enforcement
            page.add("<tr><th scope=\"row\">\(name)</th><td class=\"n\">\(Format.count(t.exchanges))</td><td class=\"n\">\(Format.count(e.served))</td><td class=\"n\">\(Format.count(e.countermeasured))</td><td class=\"n\">\(Format.count(e.throttled))</td><td class=\"n\">\(Format.count(e.refused))</td><td class=\"n\">\(Format.count(e.failed))</td></tr>\n")
        }
        page.add("</tbody></table></div>\n")
    }
}
