import Foundation
import Hummingbird
import MoatCore
import MoatReport
import MoatStore

extension Dashboard {
    static let accountRows = 500

    func registerAccounts(_ router: Router<GatewayRequestContext>) {
        page(router, "/ui/accounts") { request, _, session in
            let q = request.uri.queryParameters.get("q").map { String($0) }?.trimmingCharacters(in: .whitespaces) ?? ""
            let verdict = request.uri.queryParameters.get("verdict").map { String($0) } ?? ""
            var rows = self.actions.entries().filter { id, e in
                (q.isEmpty || id.localizedCaseInsensitiveContains(q) || (e.campaign ?? "").localizedCaseInsensitiveContains(q))
                    && (verdict.isEmpty || e.verdict == verdict || (verdict == "review" && e.pendingReview))
            }.sorted { $0.value.score != $1.value.score ? $0.value.score > $1.value.score : $0.key < $1.key }
            let total = rows.count
            rows = Array(rows.prefix(Self.accountRows))
            var page = HTMLBuffer()
            page.add("""
                <form class="row" method="get" action="/ui/accounts" role="search">
                <div><label for="q">Account or campaign</label><input id="q" name="q" value="\(q)"></div>
                <div><label for="verdict">Verdict</label><select id="verdict" name="verdict">
                """)
            for (value, name) in [("", "any"), ("campaign", "campaign"), ("suspicious", "suspicious"), ("review", "waiting for review")] {
                page.add("<option value=\"\(value)\"\(value == verdict ? HTML(stringLiteral: " selected") : .empty)>\(name)</option>")
            }
            page.add("</select></div><button type=\"submit\">Filter</button></form>")
            page.add("<p>Accounts with a verdict from live detection: \(Self.count(total))\(total > rows.count ? " (the \(Self.accountRows) highest scores shown)" : ""). Any account can be opened by its id: <code>/ui/accounts/ID</code>.</p>")
            page.add("""
                <div class="table-wrap"><table class="sortable" id="accounts" aria-label="Accounts"><thead><tr><th scope="col">Account</th><th scope="col">Verdict</th>
                <th scope="col">Action</th><th scope="col" class="num">Score</th><th scope="col">Campaign</th><th scope="col">Since</th></tr></thead><tbody>
                """)
            for (id, e) in rows {
                page.add("<tr><td><a href=\"/ui/accounts/\(Self.segment(id))\">\(id)</a></td><td>\(Self.badge(e.verdict))</td><td>\(Self.badge(e.pendingReview ? "review" : e.action.rawValue))</td><td class=\"num\">\(Self.number(e.score, 3))</td><td>\(Self.campaignLink(e.campaign))</td><td>\(Self.time(e.since))</td></tr>")
            }
            page.add("</tbody></table></div>")
            return self.render(title: "Accounts", session: session, current: .accounts, body: page)
        }

        page(router, "/ui/accounts/{id}") { request, context, session in
            let id = try Self.parameter(context, "id")
            let store = self.store
            let (recent, exchanges) = try await self.blocking {
                (try store.recentExchanges(account: id, limit: 50), try store.exchangeCount(account: id))
            }
            let keys = try await self.gateway.directory.keys(account: id)
            let overrides = try await self.gateway.operators.overrides()
            let identity = self.gateway.accounts.identity(id)
            let entry = self.actions.entry(id)
            guard identity != nil || !keys.isEmpty || entry != nil || exchanges > 0 else {
                return self.refusal(.notFound, "No such account", "The gateway knows no account \(id).", session: session)
            }
            let org = identity?.orgID ?? keys.first?.org
            let now = self.actions.action(account: id, org: org, key: "")
            let here = "/ui/accounts/\(Self.segment(id))"
            var page = HTMLBuffer()
            page.add("<div class=\"side\"><section aria-labelledby=\"identity-h\"><h2 id=\"identity-h\">Identity</h2><dl class=\"facts\">")
            func fact(_ name: String, _ value: String?) { page.add("<dt>\(name)</dt><dd>\(value ?? "—")</dd>") }
            fact("Account", id)
            fact("Organisation", org)
            fact("Created", identity?.createdAt.map { Self.time($0.rfc3339) })
            fact("E-mail domain", identity?.emailDomain)
            fact("Verification", identity?.verification)
            fact("Program", identity?.program)
            fact("Country", identity?.country)
            fact("Exchanges logged", Self.count(exchanges))
            page.add("</dl></section>")

            page.add("<section aria-labelledby=\"verdict-h\"><h2 id=\"verdict-h\">Verdict</h2><dl class=\"facts\">")
            page.add("<dt>What a request gets now</dt><dd data-action>\(Self.badge(now.rawValue))</dd>")
            if let e = entry {
                page.add("<dt>Verdict</dt><dd>\(Self.badge(e.verdict))\(e.pendingReview ? HTML(stringLiteral: " <span class=\"badge warn\">waiting for review</span>") : .empty)</dd>")
                page.add("<dt>Score</dt><dd>\(Self.number(e.score, 3))</dd>")
                page.add("<dt>Campaign</dt><dd>\(e.campaign == nil ? "—" : Self.campaignLink(e.campaign))</dd>")
                page.add("<dt>Since</dt><dd>\(Self.time(e.since))</dd>")
            } else {
                page.add("<dt>Verdict</dt><dd>none (no verdict from live detection)</dd>")
            }
            page.add("</dl>")
            if let e = entry, !e.reasons.isEmpty {
                page.add("<h3 id=\"reasons-h\">Reasons</h3><ul class=\"evidence\" aria-labelledby=\"reasons-h\">")
                for r in e.reasons.prefix(40) { page.add("<li>\(r)</li>") }
                page.add("</ul>")
            }
            page.add("</section></div>")

            page.add("<section aria-labelledby=\"actions-h\"><h2 id=\"actions-h\">Actions</h2>")
            if entry?.pendingReview == true {
                page.add("<p>")
                page.add(self.button(session, action: "/ui/review/\(Self.segment(id))/approve", label: "Approve the verdict", back: here))
                page.add(self.button(session, action: "/ui/review/\(Self.segment(id))/dismiss", label: "Dismiss the verdict", back: here, danger: true))
                page.add("</p>")
            }
            let mine = overrides.filter { $0.scope == "account" && $0.subject == id }
            for o in mine {
                page.add("<p>Override: \(Self.badge(o.action)) by \(o.actor) at \(Self.time(o.at))\(o.reason.isEmpty ? "" : ": " + o.reason) ")
                page.add(self.button(session, action: "/ui/overrides/remove", label: "Remove override", back: here, fields: [("scope", "account"), ("subject", id)]))
                page.add("</p>")
            }
            page.add("""
                <form class="row" method="post" action="/ui/overrides">\(self.csrfField(session))
                <input type="hidden" name="scope" value="account"><input type="hidden" name="subject" value="\(id)"><input type="hidden" name="back" value="\(here)">
                <div><label for="ov-action">Override</label><select id="ov-action" name="action">
                <option value="block">block (403)</option><option value="throttle">throttle</option><option value="withhold_reasoning">withhold reasoning</option><option value="allow">allow (allowlist)</option>
                </select></div>
                <div><label for="ov-reason">Reason</label><input id="ov-reason" name="reason" required size="36"></div>
                <button type="submit">Set override</button></form>
                """)
            page.add("</section>")

            page.add("<section aria-labelledby=\"keys-h\"><h2 id=\"keys-h\">Keys</h2>")
            self.keysTable(keys, session: session, back: here, &page)
            page.add("""
                <form class="row" method="post" action="/ui/keys">\(self.csrfField(session))
                <input type="hidden" name="account" value="\(id)"><input type="hidden" name="org" value="\(org ?? "")">
                <div><label for="key-name">New key name</label><input id="key-name" name="name"></div>
                <button type="submit">Create a key for \(id)</button></form></section>
                """)

            page.add("<section aria-labelledby=\"recent-h\"><h2 id=\"recent-h\">Recent exchanges</h2><p class=\"hint\">The latest \(recent.count) of \(Self.count(exchanges)), newest first: metadata only (no prompt or answer text).</p>")
            page.add("""
                <div class="table-wrap"><table aria-labelledby="recent-h"><thead><tr><th scope="col">Time</th><th scope="col">API</th><th scope="col">Model</th>
                <th scope="col" class="num">Status</th><th scope="col" class="num">In</th><th scope="col" class="num">Out</th><th scope="col">Countermeasure</th>
                <th scope="col">Key</th><th scope="col">Address</th><th scope="col">ASN</th><th scope="col">Client</th></tr></thead><tbody>
                """)
            for e in recent {
                page.add("<tr><td>\(Self.time(e.ts.rfc3339))</td><td>\(e.endpoint ?? "")</td><td>\(e.model)</td><td class=\"num\">\(e.status.map { String($0) } ?? "")</td><td class=\"num\">\(Self.count(e.inputTokens))</td><td class=\"num\">\(Self.count(e.outputTokens))</td><td>\(e.countermeasure ?? "")</td><td>\(e.apiKeyID ?? "")</td><td>\(e.client.ip ?? "")</td><td>\(e.client.asn.map { String($0) } ?? "")</td><td>\(String((e.client.userAgent ?? "").prefix(60)))</td></tr>")
            }
            page.add("</tbody></table></div></section>")
            return self.render(title: "Account \(id)", session: session, current: .accounts, body: page, notice: Self.notice(request))
        }
    }

    static func campaignLink(_ id: String?) -> HTML {
        guard let id else { return .empty }
        return "<a href=\"/ui/campaigns/\(segment(id))\">\(id)</a>"
    }
}
