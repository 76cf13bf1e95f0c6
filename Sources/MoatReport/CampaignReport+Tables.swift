import MoatCore

extension ReportDocument {
    // MARK: - Infrastructure

    func infrastructure(_ view: CampaignView, _ page: inout HTMLBuffer) {
        let c = view.campaign
        if let g = view.group {
            page.add("<p>What the campaign's exchanges came from, recomputed from the log; a tag marks values the detection report lists as indicators. \"Accounts\" counts the campaign's accounts that used the value at least once.</p>\n")
            page.add("<div class=\"grid2\">")
            valueTable("Network prefixes", header: "Prefix (/24, /48)", tally: g.prefixes, indicators: Set(c.indicators.ipPrefixes),
                       total: g.exchanges, id: "\(view.anchor)-prefixes", &page)
            valueTable("Autonomous systems", header: "ASN", tally: g.asns, indicators: Set(c.indicators.asns.map(String.init)),
                       total: g.exchanges, id: "\(view.anchor)-asns", names: g.asnNames, &page)
            let uas = Set(c.indicators.userAgents)
            let tls = Set(c.indicators.tlsFingerprints)
            valueTable("Client stacks", header: "User agent | TLS fingerprint", tally: g.clientStacks, indicators: [],
                       total: g.exchanges, id: "\(view.anchor)-stacks", isIndicator: { value in
                           uas.contains { value.hasPrefix($0 + " | ") } || tls.contains { value.hasSuffix(" | " + $0) }
                       }, &page)
            valueTable("Countries of the addresses", header: "Country", tally: g.countries, indicators: [],
                       total: g.exchanges, id: "\(view.anchor)-countries", &page)
        } else {
            page.add("<p class=\"muted\">No exchange of this campaign is in the log given; network indicators reported by the engine: \(c.indicators.ipPrefixes.prefix(10).joined(separator: ", ")).</p>\n<div class=\"grid2\">")
        }
        if hasAccountsFile {
            identityTable("Payment clusters", header: "Payment fingerprint", view: view, key: \.paymentFingerprint,
                          holders: paymentHolders, indicators: Set(c.indicators.paymentFingerprints), id: "\(view.anchor)-payments", &page)
            identityTable("Sign-up e-mail domains", header: "E-mail domain", view: view, key: \.emailDomain,
                          holders: emailHolders, indicators: Set(c.indicators.emailDomains), id: "\(view.anchor)-emails", &page)
        } else if !c.indicators.paymentFingerprints.isEmpty {
            page.add("<p>Payment fingerprints the report lists: \(c.indicators.paymentFingerprints.prefix(20).map { Format.cut($0, 60) }.joined(separator: ", ")).</p>")
        }
        page.add("</div>\n")
    }

    func valueTable(_ title: String, header: String, tally: ValueTally, indicators: Set<String>, total: Int, id: String,
                    names: [String: String] = [:], isIndicator: ((String) -> Bool)? = nil, _ page: inout HTMLBuffer) {
        let rows = tally.top(options.infrastructureRows)
        let hasNames = !names.isEmpty
        page.add("<div class=\"table-wrap\"><table id=\"\(id)\"><caption>\(title)</caption><thead><tr><th scope=\"col\">\(header)</th>")
        if hasNames { page.add("<th scope=\"col\">Name</th>") }
        page.add("<th scope=\"col\" class=\"n\">Accounts</th><th scope=\"col\" class=\"n\">Exchanges</th><th scope=\"col\" class=\"n\">Share</th></tr></thead><tbody>")
        if rows.isEmpty { page.add("<tr><td colspan=\"\(hasNames ? 5 : 4)\" class=\"muted\">not recorded in the log</td></tr>") }
        for row in rows {
            let tagged = indicators.contains(row.value) || (isIndicator?(row.value) ?? false)
            page.add("<tr><td class=\"v\">\(Format.cut(row.value, options.maxValueLength))\(tagged ? HTML("<span class=\"tag\">indicator</span>") : HTML.empty)</td>")
            if hasNames { page.add("<td>\(Format.cut(names[row.value] ?? "", 60))</td>") }
            page.add("<td class=\"n\">\(Format.count(row.accounts))\(tally.accountsAreLowerBounds ? "+" : "")</td><td class=\"n\">\(Format.count(row.exchanges))</td><td class=\"n\">\(Format.percent(row.exchanges, of: total))</td></tr>")
        }
        page.add("</tbody></table>")
        var notes: [String] = ["\(Format.count(tally.distinctValues)) distinct value\(tally.distinctValues == 1 ? "" : "s")"]
        if tally.valuesOverflowed { notes.append("\(Format.count(tally.otherExchanges)) exchanges with further values not itemised") }
        if tally.missing > 0 { notes.append("\(Format.count(tally.missing)) exchanges without this field") }
        if tally.accountsAreLowerBounds { notes.append("account counts are lower bounds") }
        page.add("<p class=\"note\">\(notes.joined(separator: "; ")).</p></div>")
    }

    /// Accounts of the campaign by a sign-up attribute, with how many accounts outside the campaign share it.
    func identityTable(_ title: String, header: String, view: CampaignView, key: KeyPath<Account, String?>,
                       holders: [String: Int], indicators: Set<String>, id: String, _ page: inout HTMLBuffer) {
        var inCampaign: [String: Int] = [:]
        var programs: [String: [String: Int]] = [:]
        var missing = 0
        for accountID in view.campaign.accounts {
            guard let a = accountsByID[accountID], let value = a[keyPath: key] else { missing += 1; continue }
            inCampaign[value, default: 0] += 1
            programs[value, default: [:]][a.program ?? "not given", default: 0] += 1
        }
        let rows = inCampaign.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        page.add("<div class=\"table-wrap\"><table id=\"\(id)\"><caption>\(title)</caption><thead><tr><th scope=\"col\">\(header)</th><th scope=\"col\" class=\"n\">Campaign accounts</th><th scope=\"col\" class=\"n\">Other accounts</th><th scope=\"col\">Programs</th></tr></thead><tbody>")
        if rows.isEmpty { page.add("<tr><td colspan=\"4\" class=\"muted\">not given in the accounts file</td></tr>") }
        for (value, n) in rows.prefix(options.infrastructureRows) {
            let others = max(0, (holders[value] ?? n) - n)
            let programText = (programs[value] ?? [:]).sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .prefix(3).map { "\(Format.cut($0.key, 20)) \($0.value)" }.joined(separator: ", ")
            page.add("<tr><td class=\"v\">\(Format.cut(value, options.maxValueLength))\(indicators.contains(value) ? HTML("<span class=\"tag\">indicator</span>") : HTML.empty)</td><td class=\"n\">\(Format.count(n))</td><td class=\"n\">\(Format.count(others))</td><td>\(programText)</td></tr>")
        }
        page.add("</tbody></table>")
        var notes = ["\(Format.count(rows.count)) distinct value\(rows.count == 1 ? "" : "s") among \(Format.count(view.campaign.accounts.count - missing)) accounts"]
        if missing > 0 { notes.append("\(Format.count(missing)) accounts without one") }
        page.add("<p class=\"note\">\(notes.joined(separator: "; ")). \"Other accounts\": accounts outside the campaign with the same value.</p></div>")
    }

    // MARK: - Accounts

    /// A sortable table of flagged accounts, the most leaked first.
    func accountsTable(_ verdicts: [Report.AccountVerdict], id: String, labelledBy: String, _ page: inout HTMLBuffer) {
        let stats = log.accountStats
        let sorted = verdicts.sorted {
            let a = stats[$0.accountID]?.leakedExchanges ?? 0
            let b = stats[$1.accountID]?.leakedExchanges ?? 0
            return a != b ? a > b : $0.accountID < $1.accountID
        }
        let shown = sorted.prefix(options.maxAccountRows)
        let gateway = log.fromGateway
        // (heading, numeric, printed)
        var columns: [(String, Bool, Bool)] = [("Account", false, true), ("Verdict", false, true), ("Score", true, true)]
        if hasAccountsFile { columns += [("Signed up (UTC)", true, true), ("Program", false, true), ("Payment", false, false)] }
        columns += [("Flagged at (UTC)", true, true), ("Exchanges", true, true), ("Before flag", true, true),
                    ("Output tokens before flag", true, true), ("First exchange (UTC)", true, false), ("Last exchange (UTC)", true, false)]
        if gateway { columns += [("Refused", true, true), ("Throttled", true, true), ("Counter\u{AD}measures", true, true)] }
        columns.append(("Reasons", false, true))
        let last = columns.count - 1
        page.add("<p>\(Format.count(verdicts.count)) account\(verdicts.count == 1 ? "" : "s"), listed by exchanges served before the account was flagged (most first). Select a column heading to sort.")
        if verdicts.count > shown.count {
            page.add(" The \(Format.count(shown.count)) with the most are listed; the report JSON lists all.")
        }
        page.add("</p>\n")
        if shown.count > options.printedAccountRows {
            page.add("<p class=\"print-only note\">Printed: the first \(options.printedAccountRows) rows of \(Format.count(shown.count)) in the current order, without the payment and first/last exchange columns; the HTML file lists them all.</p>\n")
        }
        page.add("<div class=\"table-wrap\"><p class=\"sort-status visually-hidden\" aria-live=\"polite\"></p><table id=\"\(id)\" class=\"accounts sortable\" aria-labelledby=\"\(labelledBy)\"><thead><tr>")
        for (k, (name, numeric, printed)) in columns.enumerated() {
            let classes = (numeric ? ["n"] : []) + (printed ? [] : ["np"]) + (k == last ? ["reasons"] : [])
            let classAttribute: HTML = classes.isEmpty ? .empty : " class=\"\(classes.joined(separator: " "))\""
            page.add("<th scope=\"col\"\(classAttribute)\(numeric ? HTML(" data-type=\"number\"") : HTML.empty)><button type=\"button\">\(name)</button></th>")
        }
        page.add("</tr></thead><tbody>\n")
        for v in shown {
            let s = stats[v.accountID]
            let account = accountsByID[v.accountID]
            let flagged = Timestamp(rfc3339: v.flaggedAt)?.milliseconds
            var row = HTMLBuffer(capacity: 512)
            row.add("<tr><th scope=\"row\" class=\"v\">\(Format.cut(v.accountID, options.maxValueLength))</th><td>\(Format.cut(v.verdict, 20))</td><td class=\"n\">\(HTML.number(v.score, decimals: 3))</td>")
            if hasAccountsFile {
                row.add(timeCell(account?.createdAt?.milliseconds))
                row.add("<td>\(Format.cut(account?.program ?? "", 24))</td><td class=\"v np\">\(Format.cut(account?.paymentFingerprint ?? "", 24))</td>")
            }
            row.add(timeCell(flagged))
            row.add(numberCell(s?.exchanges))
            row.add(numberCell(s?.leakedExchanges))
            row.add(numberCell(s?.leakedOutputTokens))
            row.add(timeCell(s?.firstMs, printed: false))
            row.add(timeCell(s?.lastMs, printed: false))
            if gateway {
                row.add(numberCell(s?.refused))
                row.add(numberCell(s?.throttled))
                row.add(numberCell(s?.countermeasured))
            }
            row.add("<td class=\"reasons\"><div class=\"clamp\">\(Format.cut(v.reasons.joined(separator: "; "), options.maxReasonsLength))</div></td></tr>\n")
            page.add(HTML(bytes: row.bytes))
        }
        page.add("</tbody></table></div>\n")
    }

    func timeCell(_ ms: Int64?, printed: Bool = true) -> HTML {
        let classes = printed ? "t" : "t np"
        guard let ms else { return "<td class=\"\(classes)\" data-v=\"\">–</td>" }
        return "<td class=\"\(classes)\" data-v=\"\(ms)\">\(Format.stamp(ms))</td>"
    }

    func numberCell(_ n: Int?) -> HTML {
        guard let n else { return "<td class=\"n\" data-v=\"\">–</td>" }
        return "<td class=\"n\" data-v=\"\(n)\">\(Format.count(n))</td>"
    }

    // MARK: - Suspicious accounts

    func suspiciousSection(_ page: inout HTMLBuffer) {
        page.add("<section class=\"campaign\" id=\"suspicious\" aria-labelledby=\"suspicious-h\">\n<h2 id=\"suspicious-h\">Suspicious accounts outside campaigns</h2>\n")
        let g = log.suspicious
        var lead = "\(Format.count(suspicious.count)) account\(suspicious.count == 1 ? " looks" : "s look") like extraction on \(suspicious.count == 1 ? "its" : "their") own, with no campaign found around \(suspicious.count == 1 ? "it" : "them")."
        if g.exchanges > 0 {
            lead += " \(suspicious.count == 1 ? "It" : "They") made \(Format.count(g.exchanges)) exchanges in this log, \(Format.count(g.leakedExchanges)) of them before being flagged."
        }
        page.add("<p>\(lead) An analyst should review them before any action: a single account is weaker evidence than a campaign.</p>\n")
        accountsTable(suspicious, id: "suspicious-accounts", labelledBy: "suspicious-h", &page)
        page.add("</section>\n")
    }
}
