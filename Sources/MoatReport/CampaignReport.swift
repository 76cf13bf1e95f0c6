import MoatCore

/// The self-contained HTML campaign report: a view of a detection report (contract section 4) for legal
/// and policy readers, with figures recomputed from the exchange log (streamed through `LogAggregator`)
/// and the accounts file (contract section 2).
///
/// One HTML file with its CSS, its charts (inline SVG) and a small script for sortable tables; it loads
/// nothing from the network (its Content-Security-Policy forbids it) and prints well (A4, page breaks,
/// vector charts). Pure: no I/O and no clock.
public enum CampaignReport {
    /// The HTML document, UTF-8.
    public static func html(report: Report, accounts: [Account], log: LogAggregate,
                            options: ReportOptions = ReportOptions()) -> [UInt8] {
        ReportDocument(report: report, accounts: accounts, log: log, options: options).render()
    }
}

/// Everything the sections share, computed once.
struct ReportDocument {
    let report: Report
    let log: LogAggregate
    let options: ReportOptions
    let accountsByID: [String: Account]
    let hasAccountsFile: Bool
    let verdictsByCampaign: [String: [Report.AccountVerdict]]
    let suspicious: [Report.AccountVerdict]
    /// Holders of each payment fingerprint and e-mail domain among all accounts of the accounts file.
    let paymentHolders: [String: Int]
    let emailHolders: [String: Int]
    let campaigns: [CampaignView]
    /// The window: the log's, or the report's when the log was empty.
    let firstMs: Int64?
    let lastMs: Int64?
    /// Models whose first exchange is after the log's first day: their inferred release.
    let releases: [(index: Int, model: ModelInfo)]

    init(report: Report, accounts: [Account], log: LogAggregate, options: ReportOptions) {
        self.report = report
        self.log = log
        self.options = options
        var byID: [String: Account] = [:]
        var payments: [String: Int] = [:]
        var emails: [String: Int] = [:]
        for a in accounts {
            byID[a.accountID] = a
            if let p = a.paymentFingerprint { payments[p, default: 0] += 1 }
            if let d = a.emailDomain { emails[d, default: 0] += 1 }
        }
        accountsByID = byID
        hasAccountsFile = !accounts.isEmpty
        paymentHolders = payments
        emailHolders = emails
        var byCampaign: [String: [Report.AccountVerdict]] = [:]
        var loners: [Report.AccountVerdict] = []
        let campaignIDs = Set(report.campaigns.map(\.id))
        for v in report.accounts {
            if let c = v.campaign, campaignIDs.contains(c) {
                byCampaign[c, default: []].append(v)
            } else {
                loners.append(v)
            }
        }
        verdictsByCampaign = byCampaign
        suspicious = loners
        firstMs = log.firstMs ?? report.summary.firstTs.flatMap { Timestamp(rfc3339: $0)?.milliseconds }
        lastMs = log.lastMs ?? report.summary.lastTs.flatMap { Timestamp(rfc3339: $0)?.milliseconds }
        if let first = log.firstMs {
            let firstDay = TimeAxis.floorDiv(first, Timestamp.day)
            releases = log.models.enumerated()
                .filter { TimeAxis.floorDiv($0.element.firstMs, Timestamp.day) > firstDay }
                .map { (index: $0.offset, model: $0.element) }
                .sorted { $0.model.firstMs < $1.model.firstMs }
        } else {
            releases = []
        }
        var views: [CampaignView] = []
        for (i, c) in report.campaigns.enumerated() {
            let group = i < log.campaigns.count ? log.campaigns[i] : nil
            views.append(CampaignView(index: i, campaign: c, group: group, verdicts: byCampaign[c.id] ?? [], log: log))
        }
        campaigns = views
    }

    func render() -> [UInt8] {
        var page = HTMLBuffer(capacity: 1 << 20)
        head(&page)
        page.add("<body>\n<a class=\"skip\" href=\"#summary\">Skip to the summary</a>\n")
        masthead(&page)
        page.add("<main id=\"main\">\n")
        tableOfContents(&page)
        summary(&page)
        for view in campaigns { campaignSection(view, &page) }
        if !suspicious.isEmpty { suspiciousSection(&page) }
        methodology(&page)
        page.add("</main>\n")
        footer(&page)
        page.add("<script>\(HTML(bytes: Array(ReportAssets.script.utf8)))</script>\n</body>\n</html>\n")
        return page.bytes
    }

    // MARK: - Page frame

    var title: String {
        let n = report.campaigns.count
        let what = n == 0 ? "No distillation campaign found" : (n == 1 ? "1 distillation campaign" : "\(n) distillation campaigns")
        guard let firstMs, let lastMs else { return what }
        return "\(what), \(Format.day(firstMs)) to \(Format.day(lastMs))"
    }

    func head(_ page: inout HTMLBuffer) {
        let css = ReportAssets.css(printedRows: options.printedAccountRows)
        let styleHash = SHA256.base64(SHA256.hash(Array(css.utf8)))
        let scriptHash = SHA256.base64(SHA256.hash(Array(ReportAssets.script.utf8)))
        let policy = "default-src 'none'; style-src 'sha256-\(styleHash)'; script-src 'sha256-\(scriptHash)'; img-src data:; base-uri 'none'; form-action 'none'"
        page.add("""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="\(policy)">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="Moat campaign report">
            <meta name="referrer" content="no-referrer">
            <title>Moat campaign report: \(title)</title>
            <style>\(HTML(bytes: Array(css.utf8)))</style>
            </head>

            """)
    }

    func masthead(_ page: inout HTMLBuffer) {
        var sources: [String] = []
        if let r = options.sources.report { sources.append("detection report \(r)") }
        if let e = options.sources.exchanges {
            sources.append("exchange log \(e)" + (options.sources.exchangesBytes.map { " (\(Format.bytes($0)))" } ?? ""))
        }
        if let a = options.sources.accounts { sources.append("accounts file \(a)") }
        let generated = options.generatedAt.map { "Generated \(Format.time($0.milliseconds))" } ?? "Generated by Moat"
        page.add("""
            <header class="masthead">
            <p class="kicker">Moat · distillation campaign report</p>
            <h1>\(title)</h1>
            <p class="meta">\(generated)\(sources.isEmpty ? "" : " from " + sources.joined(separator: ", ")). Times are UTC.</p>
            </header>

            """)
    }

    func tableOfContents(_ page: inout HTMLBuffer) {
        page.add("<nav class=\"toc\" aria-label=\"Contents\"><strong>Contents</strong><ol>")
        page.add("<li><a href=\"#summary\">Summary</a></li>")
        for view in campaigns {
            page.add("<li><a href=\"#\(view.anchor)\">Campaign \(view.campaign.id)</a> (\(Format.count(view.campaign.accounts.count)) accounts)</li>")
        }
        if !suspicious.isEmpty { page.add("<li><a href=\"#suspicious\">Suspicious accounts outside campaigns</a></li>") }
        page.add("<li><a href=\"#methodology\">Methodology</a></li></ol></nav>\n")
    }

    func footer(_ page: inout HTMLBuffer) {
        page.add("""
            <footer><p>Produced by Moat from the files named above. The detection report (JSON) is the record; this \
            document presents it and recomputes figures from the exchange log. It makes no network requests.</p></footer>

            """)
    }
}

/// One campaign with what its section needs.
struct CampaignView {
    let index: Int
    let campaign: Report.Campaign
    let group: GroupAggregate?
    let verdicts: [Report.AccountVerdict]
    let firstMs: Int64
    let lastMs: Int64
    let detectedMs: Int64
    let color: Int
    let anchor: String

    init(index: Int, campaign: Report.Campaign, group: GroupAggregate?, verdicts: [Report.AccountVerdict], log: LogAggregate) {
        self.index = index
        self.campaign = campaign
        self.group = (group?.exchanges ?? 0) > 0 ? group : nil
        self.verdicts = verdicts
        let reportFirst = Timestamp(rfc3339: campaign.firstSeen)?.milliseconds
        let reportLast = Timestamp(rfc3339: campaign.lastSeen)?.milliseconds
        let detected = Timestamp(rfc3339: campaign.detectedAt)?.milliseconds
        let first = [reportFirst, group?.firstMs].compactMap { $0 }.min() ?? detected ?? 0
        firstMs = first
        lastMs = max([reportLast, group?.lastMs, detected].compactMap { $0 }.max() ?? first, first)
        detectedMs = detected ?? first
        color = [0, 1, 2, 3, 4, 5, 7, 8, 9][index % 9]
        anchor = "campaign-" + Format.slug(campaign.id)
    }

    /// Exchanges per the log (or per the report when the log has none of them).
    var exchanges: Int { group?.exchanges ?? campaign.exchanges }
}
