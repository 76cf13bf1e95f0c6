import Foundation
import Hummingbird
import MoatCore
import MoatReport

extension Dashboard {
    func registerCampaigns(_ router: Router<GatewayRequestContext>) {
        page(router, "/ui/campaigns") { _, _, session in
            let report = await self.gateway.enforcer.report()
            let pending = self.pendingByCampaign()
            var page = HTMLBuffer()
            page.add("<p>Campaigns that live detection has found in the traffic this gateway served, newest first. Each links to its timeline, evidence and accounts.</p>")
            if report.campaigns.isEmpty {
                page.add("<p class=\"muted\">No campaign detected yet.</p>")
            } else {
                page.add("""
                    <div class="table-wrap"><table class="sortable" id="campaigns" aria-label="Campaigns"><thead><tr><th scope="col">Campaign</th>
                    <th scope="col" class="num">Accounts</th><th scope="col" class="num">Exchanges</th><th scope="col" class="num">Confidence</th>
                    <th scope="col">First exchange</th><th scope="col">Detected</th><th scope="col" class="num">Waiting for review</th><th scope="col">Targets</th></tr></thead><tbody>
                    """)
                for c in report.campaigns.sorted(by: { $0.detectedAt > $1.detectedAt }) {
                    let targets = c.capabilities.sorted { $0.value > $1.value }.prefix(3).map { "\($0.key) \(Int(($0.value * 100).rounded()))%" }.joined(separator: ", ")
                    page.add("<tr><td><a href=\"/ui/campaigns/\(Self.segment(c.id))\">\(c.id)</a></td><td class=\"num\">\(Self.count(c.accounts.count))</td><td class=\"num\">\(Self.count(c.exchanges))</td><td class=\"num\">\(Self.number(c.confidence, 3))</td><td>\(Self.time(c.firstSeen))</td><td>\(Self.time(c.detectedAt))</td><td class=\"num\">\(Self.count(pending[c.id] ?? 0))</td><td>\(targets)</td></tr>")
                }
                page.add("</tbody></table></div>")
            }
            return self.render(title: "Campaigns", session: session, current: .campaigns, body: page)
        }
        page(router, "/ui/campaigns/{id}") { request, context, session in
            let id = try context.parameters.require("id")
            let snapshot = try await self.live.snapshot(self.gateway)
            guard let campaign = snapshot.report.campaigns.first(where: { $0.id == id }) else {
                return self.refusal(.notFound, "No such campaign", "Live detection has no campaign \(id).", session: session)
            }
            let pending = self.pendingByCampaign()[id] ?? 0
            var page = HTMLBuffer()
            if pending > 0 {
                page.add("<p class=\"warn\">\(Self.count(pending)) of its accounts wait for review (campaign confidence \(Self.number(campaign.confidence, 3))). ")
                page.add(self.button(session, action: "/ui/review/campaign/\(Self.segment(id))/approve", label: "Approve all \(Self.count(pending))", back: "/ui/campaigns/\(Self.segment(id))"))
                page.add(self.button(session, action: "/ui/review/campaign/\(Self.segment(id))/dismiss", label: "Dismiss all", back: "/ui/campaigns/\(Self.segment(id))", danger: true))
                page.add("</p>")
            }
            page.add("<div class=\"report-embed\">")
            if let section = CampaignReport.campaignSection(id: id, report: snapshot.report, accounts: snapshot.accounts, log: snapshot.log) {
                page.add(HTML(bytes: section))
            }
            page.add("</div>")
            return self.render(title: "Campaign \(id)", session: session, current: .campaigns, body: page, notice: Self.notice(request))
        }
    }

    func pendingByCampaign() -> [String: Int] {
        var out: [String: Int] = [:]
        for e in actions.entries().values where e.pendingReview { out[e.campaign ?? "", default: 0] += 1 }
        return out
    }
}
