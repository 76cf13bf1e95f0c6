import Foundation
import MoatCore
import MoatReport

/// Streams an exchange log through the report's aggregation and writes the HTML campaign report.
enum CampaignReportFile {
    struct Written {
        var bytes: Int
        var exchanges: Int
        var skipped: [ContractError]
    }

    static func write(report: Report, reportPath: String, exchangesPath: String, accounts: [Account], accountsPath: String?,
                      to out: String, skipInvalid: Bool = false, progressLabel: String) throws -> Written {
        var aggregator = try LogAggregator(report: report, reportFile: reportPath)
        let reader = try ExchangeReader(path: exchangesPath, skipInvalid: skipInvalid, fields: .withoutText)
        let size = exchangesPath == "-" ? 0 : ((try? FileManager.default.attributesOfItem(atPath: exchangesPath)[.size] as? Int64) ?? 0)
        let bar = ProgressBar(label: progressLabel)
        var n = 0
        while let e = try reader.next() {
            aggregator.add(e)
            n += 1
            if n & 0xFFFF == 0 {
                bar.update(fraction: size > 0 ? Double(reader.bytesRead) / Double(size) : 0,
                           detail: "\(Console.count(n)) exchanges  \(Console.bytes(reader.bytesRead))")
            }
        }
        bar.update(fraction: 1, detail: "\(Console.count(n)) exchanges  \(Console.bytes(reader.bytesRead))")
        bar.finish()
        var options = ReportOptions()
        options.sources = ReportOptions.Sources(report: name(reportPath), exchanges: exchangesPath == "-" ? "standard input" : name(exchangesPath),
                                                accounts: accountsPath.map(name), exchangesBytes: size > 0 ? size : nil)
        options.generatedAt = Timestamp(milliseconds: Int64(Date().timeIntervalSince1970 * 1000))
        let html = CampaignReport.html(report: report, accounts: accounts, log: aggregator.finish(), options: options)
        do {
            try Data(html).write(to: URL(fileURLWithPath: out), options: .atomic)
        } catch {
            throw ContractError(file: out, message: "cannot write the report: \(error.localizedDescription)")
        }
        return Written(bytes: html.count, exchanges: n, skipped: reader.firstErrors)
    }

    /// The file's name without its directory.
    static func name(_ path: String) -> String { (path as NSString).lastPathComponent }
}
