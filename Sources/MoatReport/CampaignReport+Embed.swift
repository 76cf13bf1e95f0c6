import MoatCore

extension CampaignReport {
    /// The report's style sheet, for a page that embeds its sections (the operator dashboard).
    public static func stylesheet(options: ReportOptions = ReportOptions()) -> String {
        ReportAssets.css(printedRows: options.printedAccountRows)
    }

    /// The report's script (sortable tables), for a page that embeds its sections.
    public static var script: String { ReportAssets.script }

    /// One campaign's section of the report — facts, evidence, timeline, sign-up waves, model pivot,
    /// capability mix, infrastructure, countermeasures and accounts — as an HTML fragment for another page.
    /// Nil when the report has no campaign `id`.
    public static func campaignSection(id: String, report: Report, accounts: [Account], log: LogAggregate,
                                       options: ReportOptions = ReportOptions()) -> [UInt8]? {
        let document = ReportDocument(report: report, accounts: accounts, log: log, options: options)
        guard let view = document.campaigns.first(where: { $0.campaign.id == id }) else { return nil }
        var page = HTMLBuffer(capacity: 1 << 18)
        document.campaignSection(view, &page)
        return page.bytes
    }
}
