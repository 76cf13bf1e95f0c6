import Foundation
import Hummingbird
import MoatCore
import MoatReport
import MoatStore

extension Dashboard {
    func registerOverrides(_ router: Router<GatewayRequestContext>) {
        page(router, "/ui/overrides") { request, _, session in
            let overrides = try await self.gateway.operators.overrides().sorted { ($0.scope, $0.subject) < ($1.scope, $1.subject) }
            let allow = overrides.filter { $0.action == GatewayAction.allow.rawValue }
            let forced = overrides.filter { $0.action != GatewayAction.allow.rawValue }
            var page = HTMLBuffer()
            page.add("<p>Operators' decisions, which win over detection's verdicts: an allowlisted account, organisation or key is never acted on; a forced action applies whatever detection says.</p>")
            page.add("<h2 id=\"allow-h\">Allowlist</h2>")
            self.overridesTable(allow, id: "allowlist", labelledBy: "allow-h", session: session, &page)
            page.add("""
                <form class="row" method="post" action="/ui/overrides" aria-label="Add to the allowlist">\(self.csrfField(session))
                <input type="hidden" name="action" value="allow"><input type="hidden" name="back" value="/ui/overrides">
                <div><label for="al-scope">Scope</label><select id="al-scope" name="scope"><option>account</option><option>org</option><option>key</option></select></div>
                <div><label for="al-subject">Account, organisation or key id</label><input id="al-subject" name="subject" required></div>
                <div><label for="al-reason">Reason</label><input id="al-reason" name="reason" required size="30"></div>
                <button type="submit">Add to the allowlist</button></form>
                """)
            page.add("<h2 id=\"forced-h\">Forced actions</h2>")
            self.overridesTable(forced, id: "forced", labelledBy: "forced-h", session: session, &page)
            page.add("""
                <form class="row" method="post" action="/ui/overrides" aria-label="Force an action">\(self.csrfField(session))
                <input type="hidden" name="back" value="/ui/overrides">
                <div><label for="ov-scope">Scope</label><select id="ov-scope" name="scope"><option>account</option><option>org</option><option>key</option></select></div>
                <div><label for="ov-subject">Account, organisation or key id</label><input id="ov-subject" name="subject" required></div>
                <div><label for="ov-action2">Action</label><select id="ov-action2" name="action"><option value="block">block (403)</option><option value="throttle">throttle</option><option value="withhold_reasoning">withhold reasoning</option></select></div>
                <div><label for="ov-reason2">Reason</label><input id="ov-reason2" name="reason" required size="30"></div>
                <button type="submit">Force the action</button></form>
                """)
            return self.render(title: "Overrides and allowlist", session: session, current: .overrides, body: page, notice: Self.notice(request))
        }
        action(router, "/ui/overrides") { _, _, _, form in
            let scope = form["scope"] ?? "", subject = (form["subject"] ?? "").trimmingCharacters(in: .whitespaces), action = form["action"] ?? ""
            guard Override.scopes.contains(scope) else { throw HTTPError(.badRequest, message: "The scope is account, org or key.") }
            guard !subject.isEmpty, subject.count <= 256 else { throw HTTPError(.badRequest, message: "Give the account, organisation or key id (at most 256 characters).") }
            guard GatewayAction(rawValue: action) != nil else {
                throw HTTPError(.badRequest, message: "The action is one of \(GatewayAction.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            let o = Override(scope: scope, subject: subject, action: action, reason: String((form["reason"] ?? "").prefix(1000)), actor: Self.actor, at: Date())
            try await self.gateway.operators.setOverride(o)
            self.actions.setOverride(o)
            try await self.audit("override-\(o.action)", subject: "\(o.scope):\(o.subject)", reasons: [o.reason])
            return Self.back(form, "/ui/overrides", notice: "override-set")
        }
        action(router, "/ui/overrides/remove") { _, _, _, form in
            let scope = form["scope"] ?? "", subject = form["subject"] ?? ""
            guard try await self.gateway.operators.removeOverride(scope: scope, subject: subject) else {
                throw HTTPError(.notFound, message: "No override for \(scope) \(subject).")
            }
            self.actions.removeOverride(scope: scope, subject: subject)
            try await self.audit("override-removed", subject: "\(scope):\(subject)", reasons: [])
            return Self.back(form, "/ui/overrides", notice: "override-removed")
        }
    }

    func overridesTable(_ list: [Override], id: String, labelledBy: String, session: DashboardSessions.Session, _ page: inout HTMLBuffer) {
        guard !list.isEmpty else {
            page.add("<p class=\"muted\">None.</p>")
            return
        }
        page.add("<div class=\"table-wrap\"><table class=\"sortable\" id=\"\(id)\" aria-labelledby=\"\(labelledBy)\"><thead><tr><th scope=\"col\">Scope</th><th scope=\"col\">Subject</th><th scope=\"col\">Action</th><th scope=\"col\">Reason</th><th scope=\"col\">By</th><th scope=\"col\">At</th><th scope=\"col\">Remove</th></tr></thead><tbody>")
        for o in list {
            let subject: HTML = o.scope == "account" ? "<a href=\"/ui/accounts/\(Self.segment(o.subject))\">\(o.subject)</a>" : "\(o.subject)"
            page.add("<tr><td>\(o.scope)</td><td>\(subject)</td><td>\(Self.badge(o.action))</td><td>\(o.reason)</td><td>\(o.actor)</td><td>\(Self.time(o.at))</td><td>")
            page.add(button(session, action: "/ui/overrides/remove", label: "Remove", back: "/ui/overrides", fields: [("scope", o.scope), ("subject", o.subject)], danger: true))
            page.add("</td></tr>")
        }
        page.add("</tbody></table></div>")
    }
}
