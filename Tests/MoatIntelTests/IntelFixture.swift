import MoatCore
@testable import MoatIntel

/// Two labs' worth of traffic made by hand: lab A's campaign (six accounts behind one residential
/// network and one AS, one client stack, one system prompt, shared payment and e-mail domain) among
/// ordinary customers, and lab B's traffic where the same operator comes back with new accounts.
enum IntelFixture {
    static let t0 = Timestamp(rfc3339: "2026-04-20T00:00:00Z")!
    static let key = try! TrustGroupKey(group: "frontier", keyID: "frontier-2026-04", secret: (0..<32).map(UInt8.init))
    static let campaignAccounts = (1...6).map { "acct-alpha-0\($0)" }
    static let ordinaryAccounts = (1...40).map { "cust-\($0)" }
    static let campaignIPs = (1...6).map { "198.51.100.\(20 + $0)" }
    static let stackUA = "distil-harvester/3.1 (+orchestrator)"
    static let stackTLS = "t13d1516h2_8daaf6152771_02713d6af862"
    static let systemPrompt = "You are a meticulous data generator. Answer with full reasoning."
    static let payment = "pf_77aa3c19"
    static let emailDomain = "mailbox-orbit.io"

    static func exchange(_ id: String, _ account: String, minutes: Int64, ip: String, asn: Int, ua: String, tls: String,
                         systemPrompt: String? = nil) -> Exchange {
        Exchange(id: id, ts: t0.adding(milliseconds: minutes * Timestamp.minute), accountID: account, model: "atlas-2-pro",
                 inputTokens: 100, outputTokens: 900, systemPrompt: systemPrompt, prompt: "Explain step by step.",
                 client: .init(ip: ip, asn: asn, asnOrg: asn == 16509 ? "AMAZON-02" : asn == 64500 ? "Orbit Hosting" : "Orbit Broadband", country: "NL",
                               userAgent: ua, tlsFingerprint: tls))
    }

    /// Lab A's log: the campaign's exchanges (some through AS16509, which ordinary customers use too) and
    /// the ordinary customers' (AS16509, a popular SDK's user agent).
    static var labAExchanges: [Exchange] {
        var out: [Exchange] = []
        for (i, a) in campaignAccounts.enumerated() {
            for k in 0..<10 {
                let viaCloud = k == 9
                out.append(exchange("a-\(i)-\(k)", a, minutes: Int64(i * 3 + k * 30), ip: viaCloud ? "3.5.140.\(i + 2)" : campaignIPs[i],
                                    asn: viaCloud ? 16509 : 64500, ua: stackUA, tls: stackTLS, systemPrompt: systemPrompt))
            }
        }
        for (i, a) in ordinaryAccounts.enumerated() {
            out.append(exchange("o-\(i)", a, minutes: Int64(i * 7), ip: "3.5.\(141 + i % 3).\(i + 1)", asn: 16509,
                                ua: "python-requests/2.31", tls: "t13d_common", systemPrompt: "You are a helpful assistant."))
        }
        return out
    }

    static var labAAccounts: [Account] {
        campaignAccounts.map { Account(accountID: $0, createdAt: t0, orgID: "org-alpha", emailDomain: emailDomain, paymentFingerprint: payment) }
            + ordinaryAccounts.enumerated().map { i, a in
                Account(accountID: a, emailDomain: i % 2 == 0 ? "gmail.com" : "uni-\(i).edu", paymentFingerprint: "pf_cust_\(i)")
            }
    }

    static func report(operatorID: String? = nil) -> Report {
        let indicators = Report.Indicators(
            ipPrefixes: ["198.51.100.0/24"], asns: [64500], userAgents: [stackUA], tlsFingerprints: [stackTLS],
            paymentFingerprints: [payment], emailDomains: [emailDomain], systemPromptHashes: ["3fa1"],
            promptTemplates: ["Explain step by step, then"], systemPromptFamilies: ["9c0ffee1"], promptFamilies: ["a11ce5"],
            requestShapes: ["max_tokens=8192 temperature=0 tools=0 thinking=1 stream=1"])
        let evidence = [
            "6 accounts made 60 exchanges; the most shared payment value, \(payment), is used by 6 of its accounts.",
            "acct-alpha-01 and acct-alpha-02 signed up within a minute (ops@\(emailDomain)), from \(campaignIPs[0]) and \(campaignIPs[1]).",
            "The most shared template, \"Explain step by step, then\", is used by 6 accounts; prefix 198.51.100.0/24.",
        ]
        let c1 = Report.Campaign(
            id: "C-0001", accounts: campaignAccounts, exchanges: 60, firstSeen: t0.rfc3339,
            lastSeen: t0.adding(milliseconds: 5 * Timestamp.hour).rfc3339, detectedAt: t0.adding(milliseconds: 2 * Timestamp.hour).rfc3339,
            confidence: 0.9, capabilities: ["reasoning": 0.7, "coding": 0.3, "agentic": 0, "planning": 0, "other": 0],
            indicators: indicators, evidence: evidence, operatorID: operatorID)
        var campaigns = [c1]
        if let operatorID {
            campaigns.append(Report.Campaign(
                id: "C-0002", accounts: ["acct-beta-01", "acct-beta-02"], exchanges: 20,
                firstSeen: t0.adding(milliseconds: 24 * Timestamp.hour).rfc3339, lastSeen: t0.adding(milliseconds: 30 * Timestamp.hour).rfc3339,
                detectedAt: t0.adding(milliseconds: 25 * Timestamp.hour).rfc3339, confidence: 0.8, capabilities: ["coding": 1],
                evidence: ["Came back after the takedown of C-0001."], operatorID: operatorID, relatedCampaigns: ["C-0001"]))
        }
        let verdicts = campaignAccounts.map {
            Report.AccountVerdict(accountID: $0, verdict: "campaign", score: 0.9, campaign: "C-0001", flaggedAt: t0.rfc3339, reasons: [])
        }
        return Report(summary: .init(exchanges: 100, accounts: 46, firstTs: t0.rfc3339, lastTs: t0.adding(milliseconds: 30 * Timestamp.hour).rfc3339,
                                     campaigns: campaigns.count, flaggedAccounts: verdicts.count),
                      campaigns: campaigns, accounts: verdicts)
    }

    static func digest(_ report: Report, _ exchanges: [Exchange]) -> ExchangeDigest {
        var d = ExchangeDigest(report: report)
        for e in exchanges { d.collect(e) }
        for e in exchanges { d.countOthers(e) }
        return d
    }

    static func bundle(tlp: TLP = .amber, key: TrustGroupKey? = key, atlas: ATLASMode = .objects, raw: Bool = false,
                       operatorID: String? = nil, withLog: Bool = true) throws -> ExportedBundle {
        let r = report(operatorID: operatorID)
        return try BundleBuilder(report: r, settings: ExportSettings(tlp: tlp, producer: Producer(name: "Lab A"), key: key, atlas: atlas,
                                                                  rawIdentifiers: raw),
                                 digest: withLog ? digest(r, labAExchanges) : nil, accounts: withLog ? labAAccounts : []).build()
    }

    /// Every raw personal or customer value of lab A's inputs.
    static var rawValues: [String] {
        var v = campaignAccounts + ordinaryAccounts + campaignIPs + [payment, emailDomain, "org-alpha", "ops@" + emailDomain]
        v += labAExchanges.compactMap(\.client.ip)
        v += labAAccounts.compactMap(\.paymentFingerprint)
        v += labAAccounts.compactMap(\.emailDomain)
        return Array(Set(v))
    }
}
