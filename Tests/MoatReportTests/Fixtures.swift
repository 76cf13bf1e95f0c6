import MoatCore
@testable import MoatReport

/// Small hand-built inputs for the report's tests.
enum Fixture {
    static let t0 = Timestamp(rfc3339: "2026-04-20T00:00:00Z")!.milliseconds
    static let hour = Timestamp.hour

    static func exchange(_ account: String, at ms: Int64, model: String = "m-old", output: Int = 10, ip: String? = "203.0.113.7",
                         asn: Int? = 64500, asnOrg: String? = "Example Hosting", ua: String? = "bot/1.0", tls: String? = "t13d",
                         country: String? = "NL", status: Int? = nil, countermeasure: String? = nil) -> Exchange {
        Exchange(id: "\(account)-\(ms)", ts: Timestamp(milliseconds: ms), accountID: account, model: model, inputTokens: 5,
                 outputTokens: output, status: status,
                 client: Exchange.Client(ip: ip, asn: asn, asnOrg: asnOrg, country: country, userAgent: ua, tlsFingerprint: tls),
                 countermeasure: countermeasure)
    }

    static func campaign(_ id: String = "C-0001", accounts: [String], detected: Int64, first: Int64, last: Int64,
                         evidence: [String] = ["3 accounts share one card."], indicators: Report.Indicators = Report.Indicators(ipPrefixes: ["203.0.113.0/24"], asns: [64500])) -> Report.Campaign {
        Report.Campaign(id: id, accounts: accounts, exchanges: 0, firstSeen: Timestamp(milliseconds: first).rfc3339,
                        lastSeen: Timestamp(milliseconds: last).rfc3339, detectedAt: Timestamp(milliseconds: detected).rfc3339,
                        confidence: 0.9, capabilities: ["agentic": 0.5, "coding": 0.3, "reasoning": 0.1, "planning": 0.05, "other": 0.05],
                        indicators: indicators, evidence: evidence)
    }

    static func verdict(_ id: String, campaign: String?, flagged: Int64, reasons: [String] = ["member of a campaign"]) -> Report.AccountVerdict {
        Report.AccountVerdict(accountID: id, verdict: campaign == nil ? "suspicious" : "campaign", score: 0.9, campaign: campaign,
                              flaggedAt: Timestamp(milliseconds: flagged).rfc3339, reasons: reasons)
    }

    /// A campaign of three accounts over two days, a release of `m-new` on day 2, one suspicious account and
    /// ordinary traffic; with `gateway`, refusals and countermeasures after detection.
    static func scenario(gateway: Bool = false) -> (Report, [Account], [Exchange]) {
        let members = ["atk-1", "atk-2", "atk-3"]
        let detected = t0 + 10 * hour
        var exchanges: [Exchange] = []
        for h in 0..<48 {
            let ms = t0 + Int64(h) * hour
            exchanges.append(exchange("user-\(h % 5)", at: ms + 5 * 60_000, model: h >= 30 && h % 7 == 0 ? "m-new" : "m-old",
                                      ip: "198.51.100.\(h % 5)", asn: 3320, asnOrg: "Big ISP", ua: "Mozilla/5.0", tls: "t13x"))
            for (k, a) in members.enumerated() {
                let at = ms + Int64(k) * 60_000
                let refused = gateway && at >= detected + hour
                exchanges.append(exchange(a, at: at, model: h >= 24 ? "m-new" : "m-old", output: 100,
                                          ip: "203.0.113.\(k + 1)", status: gateway ? (refused ? 403 : 200) : nil,
                                          countermeasure: gateway && at >= detected && !refused ? "withhold_reasoning" : nil))
            }
        }
        exchanges.append(exchange("loner", at: t0 + 3 * hour, output: 50, ip: "192.0.2.9", asn: 64501, asnOrg: "Other Cloud"))
        let report = Report(
            summary: Report.Summary(exchanges: exchanges.count, accounts: 9, firstTs: Timestamp(milliseconds: t0).rfc3339,
                                    lastTs: Timestamp(milliseconds: t0 + 48 * hour).rfc3339, campaigns: 1, flaggedAccounts: 4),
            campaigns: [campaign(accounts: members, detected: detected, first: t0, last: t0 + 47 * hour + 120_000)],
            accounts: [verdict("atk-1", campaign: "C-0001", flagged: detected), verdict("atk-2", campaign: "C-0001", flagged: detected),
                       verdict("atk-3", campaign: "C-0001", flagged: detected + 2 * hour),
                       verdict("loner", campaign: nil, flagged: t0 + 3 * hour, reasons: ["extraction score 0.99"])])
        var accounts = members.enumerated().map { k, a in
            Account(accountID: a, createdAt: Timestamp(milliseconds: t0 - Int64(2 - k % 2) * Timestamp.day), emailDomain: "mailinator.test",
                    paymentFingerprint: "pm_shared", program: k == 0 ? "startup" : "education")
        }
        accounts += (0..<5).map { Account(accountID: "user-\($0)", createdAt: Timestamp(milliseconds: t0 - 30 * Timestamp.day),
                                          emailDomain: "example.com", paymentFingerprint: "pm_\($0)", program: "standard") }
        accounts.append(Account(accountID: "other-card-holder", paymentFingerprint: "pm_shared"))
        return (report, accounts, exchanges)
    }

    static func aggregate(_ report: Report, _ exchanges: [Exchange], options: ReportOptions = ReportOptions()) throws -> LogAggregate {
        var aggregator = try LogAggregator(report: report, options: options)
        for e in exchanges { aggregator.add(e) }
        return aggregator.finish()
    }

    static func html(_ report: Report, _ accounts: [Account], _ exchanges: [Exchange], options: ReportOptions = ReportOptions()) throws -> String {
        let log = try aggregate(report, exchanges, options: options)
        return String(decoding: CampaignReport.html(report: report, accounts: accounts, log: log, options: options), as: UTF8.self)
    }
}

extension String {
    func occurrences(of needle: String) -> Int {
        var count = 0
        var rest = self[...]
        while let r = rest.firstRange(of: needle) {
            count += 1
            rest = rest[r.upperBound...]
        }
        return count
    }
}
