import Foundation
import Hummingbird
import MoatReport
import MoatStore

extension Dashboard {
    func registerAudit(_ router: Router<GatewayRequestContext>) {
        page(router, "/ui/audit") { request, _, session in
            let q = request.uri.queryParameters
            let subject = q.get("subject").map { String($0) } ?? ""
            let action = q.get("action").map { String($0) } ?? ""
            let actor = q.get("actor").map { String($0) } ?? ""
            let limit = min(max(q.get("limit", as: Int.self) ?? 200, 1), 5_000)
            let filter = AuditFilter(subject: subject, action: action, actor: actor, limit: limit)
            let entries = try await self.gateway.operators.audit(filter)
            var page = HTMLBuffer()
            page.add("""
                <p>Every decision made by detection, operators and this dashboard, newest first. The trail is append-only.</p>
                <form class="row" method="get" action="/ui/audit" role="search" aria-label="Filter the audit trail">
                <div><label for="a-subject">Subject contains</label><input id="a-subject" name="subject" value="\(subject)" placeholder="account:acct-1"></div>
                <div><label for="a-action">Action starts with</label><input id="a-action" name="action" value="\(action)" placeholder="review"></div>
                <div><label for="a-actor">Actor</label><input id="a-actor" name="actor" value="\(actor)" placeholder="dashboard"></div>
                <div><label for="a-limit">At most</label><input id="a-limit" name="limit" type="number" min="1" max="5000" value="\(limit)"></div>
                <button type="submit">Filter</button></form>
                <p id="audit-count">\(Self.count(entries.count)) entries\(entries.count == limit ? " (the latest \(limit))" : "").</p>
                <div class="table-wrap"><table class="sortable" id="audit" aria-labelledby="audit-count"><thead><tr><th scope="col">At</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Subject</th><th scope="col">Reasons</th></tr></thead><tbody>
                """)
            for e in entries {
                let reasons = e.reasons.prefix(3).joined(separator: "; ")
                page.add("<tr><td>\(Self.time(e.at))</td><td>\(e.actor)</td><td>\(e.action)</td><td>\(e.subject)</td><td>\(String(reasons.prefix(400)))</td></tr>")
            }
            page.add("</tbody></table></div>")
            return self.render(title: "Audit trail", session: session, current: .audit, body: page)
        }
    }
}
