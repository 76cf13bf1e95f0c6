import Foundation
import Hummingbird
import MoatCore
import MoatReport
import MoatStore

extension Dashboard {
    func registerReview(_ router: Router<GatewayRequestContext>) {
        page(router, "/ui/review") { request, _, session in
            let report = await self.gateway.enforcer.report()
            let campaigns = Dictionary(report.campaigns.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            var groups: [String: [(String, ActionTable.Entry)]] = [:]
            for (account, e) in self.actions.entries() where e.pendingReview { groups[e.campaign ?? "", default: []].append((account, e)) }
            var page = HTMLBuffer()
            page.add("<p>Verdicts held back because their campaign's confidence is below the policy's review threshold (<code>review_below_confidence</code> \(Self.number(self.gateway.config.policy.reviewBelowConfidence, 3))). Nothing is enforced on them until approved. Approving enforces the policy's action; dismissing allows the accounts.</p>")
            if groups.isEmpty { page.add("<p class=\"muted\" id=\"review-empty\">Nothing waits for review.</p>") }
            for (id, members) in groups.sorted(by: { $0.key < $1.key }) {
                let c = campaigns[id]
                let anchor = "review-" + Self.segment(id.isEmpty ? "none" : id)
                page.add("<section class=\"review-campaign\" id=\"\(anchor)\" aria-labelledby=\"\(anchor)-h\" data-campaign=\"\(id)\">")
                page.add("<h2 id=\"\(anchor)-h\">\(id.isEmpty ? "Accounts outside campaigns" : "Campaign \(id)")</h2>")
                page.add("<div class=\"side\"><div>")
                if let c {
                    page.add("<dl class=\"facts\"><dt>Confidence</dt><dd data-confidence>\(Self.number(c.confidence, 3))</dd><dt>Accounts</dt><dd>\(Self.count(c.accounts.count))</dd><dt>Exchanges</dt><dd>\(Self.count(c.exchanges))</dd><dt>Detected</dt><dd>\(Self.time(c.detectedAt))</dd></dl>")
                    page.add("<h3 id=\"\(anchor)-ev\">Evidence</h3><ul class=\"evidence\" aria-labelledby=\"\(anchor)-ev\">")
                    for sentence in c.evidence.prefix(12) { page.add("<li>\(sentence)</li>") }
                    page.add("</ul><p><a href=\"/ui/campaigns/\(Self.segment(id))\">Timeline, infrastructure and all evidence</a></p>")
                }
                page.add("</div><div>")
                page.add("<p>")
                page.add(self.button(session, action: "/ui/review/campaign/\(Self.segment(id))/approve", label: "Approve \(Self.count(members.count)) accounts", back: "/ui/review"))
                page.add(self.button(session, action: "/ui/review/campaign/\(Self.segment(id))/dismiss", label: "Dismiss all", back: "/ui/review", danger: true))
                page.add("</p><div class=\"table-wrap\"><table aria-label=\"Accounts waiting for review in \(id)\"><thead><tr><th scope=\"col\">Account</th><th scope=\"col\">Verdict</th><th scope=\"col\" class=\"num\">Score</th><th scope=\"col\">Reasons</th><th scope=\"col\">Decide</th></tr></thead><tbody>")
                for (account, e) in members.sorted(by: { $0.1.score > $1.1.score }) {
                    let reasons = e.reasons.prefix(2).joined(separator: "; ")
                    page.add("<tr><td><a href=\"/ui/accounts/\(Self.segment(account))\">\(account)</a></td><td>\(Self.badge(e.verdict))</td><td class=\"num\">\(Self.number(e.score, 3))</td><td>\(String(reasons.prefix(300)))</td><td>")
                    page.add(self.button(session, action: "/ui/review/\(Self.segment(account))/approve", label: "Approve", back: "/ui/review"))
                    page.add(self.button(session, action: "/ui/review/\(Self.segment(account))/dismiss", label: "Dismiss", back: "/ui/review", danger: true))
                    page.add("</td></tr>")
                }
                page.add("</tbody></table></div></div></div></section>")
            }
            return self.render(title: "Review queue", session: session, current: .review, body: page, notice: Self.notice(request))
        }
        action(router, "/ui/review/campaign/{id}/{decision}") { request, context, _, form in
            let id = try Self.parameter(context, "id")
            let approve = try Self.decision(request)
            var decided: [(String, ActionTable.Entry)] = []
            for (account, e) in self.actions.entries() where e.pendingReview && (e.campaign ?? "") == id {
                if let entry = self.actions.review(account, approve: approve) { decided.append((account, entry)) }
            }
            guard !decided.isEmpty else { throw HTTPError(.notFound, message: "Nothing from campaign \(id) waits for review.") }
            let entries = decided.map { account, e in
                AuditEntry(at: Date(), actor: Self.actor, action: "review-\(approve ? "approve" : "dismiss")", subject: "account:" + account,
                           reasons: ["campaign \(id)"] + e.reasons)
            }
            try await self.gateway.operators.appendAudit(entries)
            await self.gateway.enforcer.persist(accounts: decided.map(\.0))
            try await self.gateway.publishReviewed(decided.map(\.0))
            return Self.back(form, "/ui/review", notice: approve ? "approved" : "dismissed")
        }
        action(router, "/ui/review/{account}/{decision}") { request, context, _, form in
            let account = try Self.parameter(context, "account")
            let approve = try Self.decision(request)
            guard let entry = self.actions.review(account, approve: approve) else {
                throw HTTPError(.notFound, message: "No verdict waits for review for \(account).")
            }
            try await self.audit("review-\(approve ? "approve" : "dismiss")", subject: "account:" + account, reasons: entry.reasons)
            await self.gateway.enforcer.persist(account: account)
            try await self.gateway.publishReviewed([account])
            return Self.back(form, "/ui/review", notice: approve ? "approved" : "dismissed")
        }
    }

    static func decision(_ request: Request) throws -> Bool {
        switch request.uri.path.split(separator: "/").last {
        case "approve": return true
        case "dismiss": return false
        default: throw HTTPError(.badRequest, message: "The decision is approve or dismiss.")
        }
    }

    /// A path parameter, percent-decoded.
    static func parameter(_ context: GatewayRequestContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        return raw.removingPercentEncoding ?? raw
    }
}
