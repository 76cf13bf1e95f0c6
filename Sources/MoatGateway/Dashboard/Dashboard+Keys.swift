import Foundation
import Hummingbird
import MoatReport
import MoatStore

extension Dashboard {
    func registerKeys(_ router: Router<GatewayRequestContext>) {
        page(router, "/ui/keys") { request, _, session in
            let account = request.uri.queryParameters.get("account").map { String($0) }?.trimmingCharacters(in: .whitespaces) ?? ""
            let keys = try await self.gateway.directory.keys(account: account.isEmpty ? nil : account)
            var page = HTMLBuffer()
            page.add("""
                <p>API keys of the proxy listener. Only a key's SHA-256 is stored: its secret is shown once, when it is created.</p>
                <form class="row" method="post" action="/ui/keys" aria-label="Create a key">\(self.csrfField(session))
                <div><label for="k-account">Account</label><input id="k-account" name="account" required value="\(account)"></div>
                <div><label for="k-org">Organisation (optional)</label><input id="k-org" name="org"></div>
                <div><label for="k-name">Name (optional)</label><input id="k-name" name="name"></div>
                <button type="submit">Create key</button></form>
                <form class="row" method="get" action="/ui/keys" role="search" aria-label="Filter keys">
                <div><label for="k-filter">Keys of account</label><input id="k-filter" name="account" value="\(account)"></div><button type="submit" class="secondary">Show</button></form>
                <h2 id="keys-h">\(account.isEmpty ? "All keys" : "Keys of \(account)") (\(Self.count(keys.count)))</h2>
                """)
            self.keysTable(keys, session: session, back: "/ui/keys" + (account.isEmpty ? "" : "?account=" + Self.formEncode(account)), &page)
            return self.render(title: "Keys", session: session, current: .keys, body: page, notice: Self.notice(request))
        }
        action(router, "/ui/keys") { _, _, session, form in
            let account = (form["account"] ?? "").trimmingCharacters(in: .whitespaces)
            guard !account.isEmpty, account.count <= 256 else { throw HTTPError(.badRequest, message: "Give the key's account (at most 256 characters).") }
            let org = form["org"].flatMap { $0.isEmpty ? nil : String($0.prefix(256)) }
            let name = form["name"].flatMap { $0.isEmpty ? nil : String($0.prefix(256)) }
            let created = try await self.gateway.directory.createKey(account: account, org: org, name: name)
            try await self.audit("key-created", subject: "key:" + created.id, reasons: ["account \(account)"])
            var page = HTMLBuffer()
            page.add("""
                <p class="notice" role="status">Key <strong data-key-id>\(created.id)</strong> created for account <a href="/ui/accounts/\(Self.segment(account))">\(account)</a>.</p>
                <p id="secret-h"><strong>Copy the secret now: it is shown only this once.</strong> Moat keeps only its SHA-256.</p>
                <output class="secret" id="new-secret" aria-labelledby="secret-h">\(created.secret)</output>
                <p><a href="/ui/keys?account=\(Self.formEncode(account))">Back to the keys of \(account)</a></p>
                """)
            return self.render(title: "Key created", session: session, current: .keys, body: page)
        }
        action(router, "/ui/keys/{id}/revoke") { _, context, _, form in
            let id = try Self.parameter(context, "id")
            guard try await self.gateway.directory.revokeKey(id: id) else { throw HTTPError(.notFound, message: "No active key \(id).") }
            self.gateway.keys.invalidate()
            try await self.audit("key-revoked", subject: "key:" + id, reasons: [])
            return Self.back(form, "/ui/keys", notice: "key-revoked")
        }
    }

    func keysTable(_ keys: [APIKeyRecord], session: DashboardSessions.Session, back: String, _ page: inout HTMLBuffer) {
        guard !keys.isEmpty else {
            page.add("<p class=\"muted\">No key.</p>")
            return
        }
        page.add("<div class=\"table-wrap\"><table class=\"sortable keys\" aria-label=\"Keys\"><thead><tr><th scope=\"col\">Key</th><th scope=\"col\">Account</th><th scope=\"col\">Organisation</th><th scope=\"col\">Name</th><th scope=\"col\">Created</th><th scope=\"col\">State</th><th scope=\"col\">Revoke</th></tr></thead><tbody>")
        for k in keys {
            page.add("<tr data-key=\"\(k.id)\"><td>\(k.id)</td><td><a href=\"/ui/accounts/\(Self.segment(k.account))\">\(k.account)</a></td><td>\(k.org ?? "")</td><td>\(k.name ?? "")</td><td>\(Self.time(k.createdAt))</td>")
            if let revoked = k.revokedAt {
                page.add("<td>\(Self.badge("block")) revoked \(Self.time(revoked))</td><td></td></tr>")
            } else {
                page.add("<td>\(Self.badge("active"))</td><td>")
                page.add(button(session, action: "/ui/keys/\(Self.segment(k.id))/revoke", label: "Revoke \(k.id)", back: back, danger: true))
                page.add("</td></tr>")
            }
        }
        page.add("</tbody></table></div>")
    }
}
