import Foundation
import Hummingbird
import MoatCore
import MoatReport

extension Dashboard {
    /// What the overview shows; also served as JSON to the page's poller.
    struct Overview: Encodable {
        struct RefusalRow: Encodable {
            var outcome: String
            var status: Int
            var count: Int
        }

        struct CampaignRow: Encodable {
            var id: String
            var accounts: Int
            var exchanges: Int
            var confidence: Double
            var detectedAt: String
            var pendingReview: Int

            enum CodingKeys: String, CodingKey {
                case id, accounts, exchanges, confidence
                case detectedAt = "detected_at"
                case pendingReview = "pending_review"
            }
        }

        var rate: Double?
        var history: [Double]
        var requests: Int
        var refused: Int
        var refusals: [RefusalRow]
        var campaigns: [CampaignRow]
        var flaggedAccounts: Int
        var pendingReview: Int
        var updatedAt: String

        enum CodingKeys: String, CodingKey {
            case rate, history, requests, refused, refusals, campaigns
            case flaggedAccounts = "flagged_accounts"
            case pendingReview = "pending_review"
            case updatedAt = "updated_at"
        }
    }

    func overview() async -> Overview {
        let counts = TrafficSampler.parse(String(decoding: gateway.metrics.render(), as: UTF8.self))
        let (rate, history) = traffic.record(counts)
        let report = await gateway.enforcer.report()
        let entries = actions.entries()
        var pendingByCampaign: [String: Int] = [:]
        var pending = 0
        for e in entries.values where e.pendingReview {
            pending += 1
            if let c = e.campaign { pendingByCampaign[c, default: 0] += 1 }
        }
        let refusals = counts.refusals.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .map { Overview.RefusalRow(outcome: $0.key.outcome, status: $0.key.status, count: Int($0.value)) }
        let campaigns = report.campaigns.sorted { $0.detectedAt > $1.detectedAt }.map {
            Overview.CampaignRow(id: $0.id, accounts: $0.accounts.count, exchanges: $0.exchanges, confidence: $0.confidence,
                                 detectedAt: Self.time($0.detectedAt), pendingReview: pendingByCampaign[$0.id] ?? 0)
        }
        return Overview(rate: rate, history: history, requests: Int(counts.total), refused: refusals.reduce(0) { $0 + $1.count },
                        refusals: refusals, campaigns: campaigns, flaggedAccounts: report.accounts.count, pendingReview: pending,
                        updatedAt: Self.time(Date()))
    }

    func registerOverview(_ router: Router<GatewayRequestContext>) {
        page(router, "/ui") { _, _, session in
            let o = await self.overview()
            var page = HTMLBuffer()
            page.add("""
                <div data-live-overview>
                <p class="live-status" aria-live="polite"><span data-live="updated">Updated \(o.updatedAt)</span> · refreshes every 2 seconds while open.</p>
                <dl class="cards">
                <div class="card"><dt>Requests per second</dt><dd data-live="rate">\(o.rate.map { Self.number($0, 1) } ?? "measuring")</dd></div>
                <div class="card"><dt>Requests</dt><dd data-live="requests">\(Self.count(o.requests))</dd></div>
                <div class="card"><dt>Refused</dt><dd data-live="refused">\(Self.count(o.refused))</dd></div>
                <div class="card"><dt>Campaigns detected</dt><dd data-live="campaigns">\(Self.count(o.campaigns.count))</dd></div>
                <div class="card"><dt>Flagged accounts</dt><dd data-live="flagged">\(Self.count(o.flaggedAccounts))</dd></div>
                <div class="card"><dt>Waiting for review</dt><dd><a href="/ui/review" data-live="pending">\(Self.count(o.pendingReview))</a></dd></div>
                </dl>
                <h2 id="rate-h">Request rate</h2>
                <svg class="spark" viewBox="0 0 520 60" role="img" aria-labelledby="rate-h rate-d"><desc id="rate-d">Requests per second over the last samples.</desc>
                <line x1="10" y1="55" x2="510" y2="55"></line><polyline data-live-spark points=""></polyline></svg>
                <h2 id="campaigns-h">Campaigns detected</h2>
                <p data-live-none\(o.campaigns.isEmpty ? HTML.empty : " hidden") class="muted">No campaign detected yet.</p>
                <div class="table-wrap"><table aria-labelledby="campaigns-h"><thead><tr><th scope="col">Campaign</th><th scope="col" class="num">Accounts</th>
                <th scope="col" class="num">Exchanges</th><th scope="col" class="num">Confidence</th><th scope="col">Detected</th><th scope="col" class="num">Waiting for review</th></tr></thead>
                <tbody data-live-rows="campaigns">
                """)
            for c in o.campaigns {
                page.add("<tr><td><a href=\"/ui/campaigns/\(Self.segment(c.id))\">\(c.id)</a></td><td class=\"num\">\(Self.count(c.accounts))</td><td class=\"num\">\(Self.count(c.exchanges))</td><td class=\"num\">\(Self.number(c.confidence, 3))</td><td>\(c.detectedAt)</td><td class=\"num\">\(Self.count(c.pendingReview))</td></tr>")
            }
            page.add("""
                </tbody></table></div>
                <h2 id="refusals-h">Refusals by reason</h2>
                <div class="table-wrap"><table aria-labelledby="refusals-h"><thead><tr><th scope="col">Reason</th><th scope="col" class="num">Status</th><th scope="col" class="num">Requests</th></tr></thead>
                <tbody data-live-rows="refusals">
                """)
            for r in o.refusals {
                page.add("<tr><td>\(r.outcome)</td><td class=\"num\">\(r.status)</td><td class=\"num\">\(Self.count(r.count))</td></tr>")
            }
            page.add("</tbody></table></div>\n</div>\n")
            return self.render(title: "Overview", session: session, current: .overview, body: page)
        }
        router.get("/ui/overview.json") { request, _ in
            guard self.sessions.session(request.cookies[DashboardSessions.cookie]?.value) != nil else {
                var headers = Self.securityHeaders
                headers[.contentType] = "application/json"
                return Response(status: .unauthorized, headers: headers, body: .init(byteBuffer: .init(string: "{\"error\":\"log in at /ui/login\"}")))
            }
            return try self.json(await self.overview())
        }
    }
}
