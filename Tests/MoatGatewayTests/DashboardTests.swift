import AsyncHTTPClient
import Foundation
import HummingbirdTesting
import MoatCore
import MoatGateway
import MoatStore
import NIOCore
import NIOHTTP1
import Testing

/// The operator dashboard (`/ui` on the admin listener) over a real loopback port: sessions, CSRF, pages.
/// The browser tests (tests/browser/test_dashboard.py) drive the same pages in Chromium.
@Suite("moat serve: operator dashboard")
struct DashboardTests {
    struct Browser {
        let port: Int
        var session: String?

        func call(_ method: HTTPMethod, _ path: String, form: [String: String]? = nil, headers: [(String, String)] = [],
                  cookies: [String: String] = [:]) async throws -> GatewayHarness.Reply {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
            request.method = method
            var jar = cookies
            if let session { jar["moat_session"] = session }
            if !jar.isEmpty { request.headers.add(name: "cookie", value: jar.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")) }
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let form {
                request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
                let body = form.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&")
                request.body = .bytes(ByteBuffer(string: body))
            }
            let response = try await Self.client.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 16 << 20)
            var h: [String: String] = [:]
            for (name, value) in response.headers {
                let key = name.lowercased()
                h[key] = h[key].map { $0 + "\n" + value } ?? value
            }
            return GatewayHarness.Reply(status: Int(response.status.code), headers: h, body: String(buffer: bytes))
        }

        /// A client that does not follow redirects (the dashboard answers with 303s), alive for the whole run.
        static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

        static func encode(_ s: String) -> String {
            s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
        }

        /// Logs in with `token` through the login form (its nonce cookie included); returns the session id.
        func login(_ token: String) async throws -> (reply: GatewayHarness.Reply, session: String?) {
            let page = try await call(.GET, "/ui/login")
            let nonce = try #require(Self.value(of: "login_nonce", in: page.body))
            let cookie = try #require(Self.cookie("moat_login", in: page.headers["set-cookie"] ?? ""))
            let reply = try await call(.POST, "/ui/login", form: ["token": token, "login_nonce": nonce, "next": "/ui/keys"],
                                       cookies: ["moat_login": cookie])
            return (reply, Self.cookie("moat_session", in: reply.headers["set-cookie"] ?? ""))
        }

        /// This browser, logged in with the right token.
        func loggedIn() async throws -> Browser {
            var b = self
            b.session = try await login("admin-token").session
            guard b.session != nil else { throw LoginFailed() }
            return b
        }

        struct LoginFailed: Error {}

        static func value(of field: String, in html: String) -> String? {
            guard let r = html.range(of: "name=\"\(field)\" value=\"") else { return nil }
            return String(html[r.upperBound...].prefix { $0 != "\"" })
        }

        static func cookie(_ name: String, in setCookie: String) -> String? {
            for line in setCookie.split(separator: "\n") where line.hasPrefix(name + "=") {
                let value = line.dropFirst(name.count + 1).prefix { $0 != ";" }
                return value.isEmpty ? nil : String(value)
            }
            return nil
        }
    }

    static func withDashboard(_ body: @escaping @Sendable (GatewayHarness, Browser) async throws -> Void) async throws {
        try await GatewayAdminTests.withAdmin { h, admin in
            try await body(h, Browser(port: admin.port))
        }
    }

    @Test func everyPageRedirectsToTheLoginPageWithoutASession() async throws {
        try await Self.withDashboard { h, anonymous in
            for path in ["/ui", "/ui/campaigns", "/ui/review", "/ui/accounts", "/ui/accounts/acct-1", "/ui/overrides", "/ui/keys", "/ui/audit"] {
                let reply = try await anonymous.call(.GET, path)
                #expect(reply.status == 303, "\(path)")
                #expect(reply.headers["location"]?.hasPrefix("/ui/login?next=") == true, "\(path)")
                #expect(!reply.body.contains("acct-1"))
                var forged = anonymous
                forged.session = "0123456789abcdef"
                #expect(try await forged.call(.GET, path).status == 303, "\(path) with a made-up session")
            }
            #expect(try await anonymous.call(.GET, "/ui/overview.json").status == 401)
            let revoke = try await anonymous.call(.POST, "/ui/keys/\(h.key.id)/revoke", form: ["csrf": "x"])
            #expect(revoke.status == 401)
            #expect(try h.store.keys(account: "acct-1").allSatisfy(\.isActive))
        }
    }

    @Test func loginWithTheAdminTokenSetsAStrictHttpOnlySessionCookie() async throws {
        try await Self.withDashboard { _, browser in
            let wrong = try await browser.login("admin-tokeX")
            #expect(wrong.reply.status == 401)
            #expect(wrong.session == nil)
            #expect(wrong.reply.body.contains("not the admin token"))
            let right = try await browser.login("admin-token")
            #expect(right.reply.status == 303)
            #expect(right.reply.headers["location"] == "/ui/keys")
            let setCookie = try #require(right.reply.headers["set-cookie"]?.split(separator: "\n").first { $0.hasPrefix("moat_session=") })
            #expect(setCookie.contains("HttpOnly"))
            #expect(setCookie.contains("SameSite=Strict"))
            #expect(setCookie.contains("Path=/ui"))
            var session = browser
            session.session = right.session
            #expect(session.session != nil)
            let keys = try await session.call(.GET, "/ui/keys")
            #expect(keys.status == 200)
            #expect(keys.headers["content-security-policy"]?.contains("default-src 'none'") == true)
            #expect(keys.headers["cache-control"] == "no-store")
            #expect(keys.body.contains("acct-1"))
        }
    }

    @Test func loginNeedsTheLoginFormsOwnToken() async throws {
        try await Self.withDashboard { _, browser in
            let reply = try await browser.call(.POST, "/ui/login", form: ["token": "admin-token"])
            #expect(reply.status == 403)
            #expect(Browser.cookie("moat_session", in: reply.headers["set-cookie"] ?? "") == nil)
        }
    }

    @Test func aStateChangeNeedsTheSessionsCSRFTokenAndThisOrigin() async throws {
        try await Self.withDashboard { h, browser in
            let b = try await browser.loggedIn()
            let page = try await b.call(.GET, "/ui/keys")
            let csrf = try #require(Browser.value(of: "csrf", in: page.body))
            let path = "/ui/keys/\(h.key.id)/revoke"
            #expect(try await b.call(.POST, path, form: [:]).status == 403)
            #expect(try await b.call(.POST, path, form: ["csrf": String(repeating: "0", count: csrf.count)]).status == 403)
            #expect(try await b.call(.POST, path, form: ["csrf": csrf], headers: [("origin", "http://evil.example")]).status == 403)
            #expect(try await b.call(.POST, path, form: ["csrf": csrf], headers: [("sec-fetch-site", "cross-site")]).status == 403)
            #expect(try h.store.keys(account: "acct-1").allSatisfy(\.isActive), "refused requests changed nothing")
            let done = try await b.call(.POST, path, form: ["csrf": csrf, "back": "/ui/keys"], headers: [("origin", "http://127.0.0.1:\(b.port)")])
            #expect(done.status == 303)
            #expect(done.headers["location"] == "/ui/keys?notice=key-revoked")
            #expect(try h.store.keys(account: "acct-1").allSatisfy { !$0.isActive })
            let audit = try h.store.audit(limit: 5)
            #expect(audit.first?.action == "key-revoked")
            #expect(audit.first?.actor == "dashboard")
        }
    }

    @Test func aCreatedKeysSecretIsShownOnceAndWorks() async throws {
        try await Self.withDashboard { h, browser in
            let b = try await browser.loggedIn()
            let csrf = try #require(Browser.value(of: "csrf", in: try await b.call(.GET, "/ui/keys").body))
            let created = try await b.call(.POST, "/ui/keys", form: ["csrf": csrf, "account": "acct-9", "name": "<b>x</b>"])
            #expect(created.status == 200)
            let start = try #require(created.body.range(of: "id=\"new-secret\" aria-labelledby=\"secret-h\">"))
            let secret = String(created.body[start.upperBound...].prefix { $0 != "<" })
            #expect(try h.store.key(secret: secret)?.account == "acct-9")
            let list = try await b.call(.GET, "/ui/keys")
            #expect(!list.body.contains(secret))
            #expect(list.body.contains("&lt;b&gt;x&lt;/b&gt;"))
        }
    }

    @Test func logoutEndsTheSession() async throws {
        try await Self.withDashboard { _, browser in
            let b = try await browser.loggedIn()
            let csrf = try #require(Browser.value(of: "csrf", in: try await b.call(.GET, "/ui").body))
            #expect(try await b.call(.POST, "/ui/logout", form: ["csrf": csrf]).status == 303)
            #expect(try await b.call(.GET, "/ui").status == 303)
        }
    }

    @Test func theOverviewCountsRequestsAndRefusalsFromTheGatewaysOwnCounters() async throws {
        try await Self.withDashboard { h, browser in
            let b = try await browser.loggedIn()
            _ = try await h.send("/v1/messages", GatewayHarness.anthropicBody)
            _ = try await h.send("/v1/messages", GatewayHarness.anthropicBody, key: "sk-wrong")
            let reply = try await b.call(.GET, "/ui/overview.json")
            #expect(reply.status == 200)
            let json = try #require(reply.json)
            #expect(json["requests"] as? Int == 2)
            #expect(json["refused"] as? Int == 1)
            let refusals = try #require(json["refusals"] as? [[String: Any]])
            #expect(refusals.first?["outcome"] as? String == "unauthenticated")
            #expect(refusals.first?["status"] as? Int == 401)
        }
    }
}
