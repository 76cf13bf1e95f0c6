import Foundation
import MoatCore

enum ReportOutput {
    static func write(_ report: Report, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(report)
        if path == "-" {
            FileHandle.standardOutput.write(data)
            FileHandle.standardOutput.write(Data("\n".utf8))
        } else {
            try data.write(to: URL(fileURLWithPath: path))
        }
    }

    /// A readable summary: campaigns, sizes, spans, capability mix, top indicators.
    static func table(_ report: Report, maxCampaigns: Int = 20) -> String {
        let s = report.summary
        var lines: [String] = []
        lines.append("\(Console.count(s.exchanges)) exchanges from \(Console.count(s.accounts)) accounts, \(s.firstTs ?? "-") to \(s.lastTs ?? "-")"
                     + (s.invalidLines > 0 ? " (\(s.invalidLines) invalid lines skipped)" : ""))
        let suspicious = report.accounts.filter { $0.verdict == "suspicious" }.count
        lines.append("\(s.campaigns) campaign(s), \(s.flaggedAccounts) flagged account(s)" + (suspicious > 0 ? " (\(suspicious) suspicious without a campaign)" : ""))
        guard !report.campaigns.isEmpty else { return lines.joined(separator: "\n") }
        lines.append("")
        lines.append("campaign  accounts  exchanges  detected at               span        capabilities")
        for c in report.campaigns.prefix(maxCampaigns) {
            let span = hours(c.firstSeen, c.lastSeen)
            let caps = c.capabilities.sorted { $0.value > $1.value }.filter { $0.value >= 0.05 }
                .map { "\($0.key) \(Int(($0.value * 100).rounded()))%" }.joined(separator: ", ")
            lines.append(c.id.padding(toLength: 10, withPad: " ", startingAt: 0) + Console.count(c.accounts.count).leftPad(8)
                         + Console.count(c.exchanges).leftPad(11) + "  " + c.detectedAt.padding(toLength: 26, withPad: " ", startingAt: 0)
                         + span.padding(toLength: 12, withPad: " ", startingAt: 0) + caps)
        }
        if report.campaigns.count > maxCampaigns { lines.append("... \(report.campaigns.count - maxCampaigns) more") }
        for c in report.campaigns.prefix(maxCampaigns) {
            lines.append("")
            lines.append("\(c.id): \(c.accounts.count) accounts, confidence \(c.confidence)")
            let i = c.indicators
            for (name, values) in [("payment", i.paymentFingerprints), ("e-mail", i.emailDomains), ("prefixes", i.ipPrefixes),
                                   ("user agents", i.userAgents), ("TLS", i.tlsFingerprints), ("templates", i.promptTemplates)]
            where !values.isEmpty {
                lines.append("  \(name): " + values.prefix(4).map { String($0.prefix(70)) }.joined(separator: " · "))
            }
            for e in c.evidence.prefix(8) { lines.append("  - " + e) }
        }
        return lines.joined(separator: "\n")
    }

    static func hours(_ a: String, _ b: String) -> String {
        guard let x = Timestamp(rfc3339: a), let y = Timestamp(rfc3339: b) else { return "-" }
        let h = Double(y.milliseconds - x.milliseconds) / 3_600_000
        return h >= 48 ? String(format: "%.1f days", h / 24) : String(format: "%.1f h", h)
    }
}
