import Foundation
import HTTPTypes
import Hummingbird
import MoatCore
import MoatReport
import MoatStore
import NIOCore
import NIOPosix

extension Gateway {
    /// Adds the operator dashboard (`/ui`) to the admin listener's router.
    func addDashboard(to router: Router<GatewayRequestContext>) {
        Dashboard(gateway: self).register(on: router)
    }
}

/// The operator dashboard, served by the admin listener at `/ui`: server-rendered HTML pages over the
/// same state as the admin API (verdicts, campaigns, the review queue, overrides, the audit trail, keys),
/// with one small script for the live overview and sortable tables.
///
/// Login is with the admin token, which becomes a session cookie (`DashboardSessions`); every state
/// change is a POST form that must carry the session's CSRF token (and, when the browser sends them, an
/// `Origin` of this host and no cross-site `Sec-Fetch-Site`). Every page but the login page needs a session.
final class Dashboard: Sendable {
    let gateway: Gateway
    let sessions = DashboardSessions()
    let traffic = TrafficSampler()
    let live = LiveReportCache()
    /// Who the audit trail names for changes made here.
    static let actor = "dashboard"

    init(gateway: Gateway) { self.gateway = gateway }

    var store: MoatStore { gateway.store }
    var actions: ActionTable { gateway.actions }

    func register(on router: Router<GatewayRequestContext>) {
        router.get("/ui/assets/dashboard.css") { _, _ in Self.asset(DashboardAssets.css, type: "text/css; charset=utf-8") }
        router.get("/ui/assets/dashboard.js") { _, _ in Self.asset(DashboardAssets.script, type: "text/javascript; charset=utf-8") }
        router.get("/ui/login") { request, _ in self.loginPage(request) }
        router.post("/ui/login") { request, _ in try await self.login(request) }
        action(router, "/ui/logout") { _, _, session, _ in
            self.sessions.end(session.id)
            var response = Self.redirect("/ui/login?notice=logged-out")
            response.setCookie(Cookie(name: DashboardSessions.cookie, value: "", maxAge: 0, path: "/ui", httpOnly: true, sameSite: .strict))
            return response
        }
        registerOverview(router)
        registerCampaigns(router)
        registerAccounts(router)
        registerReview(router)
        registerOverrides(router)
        registerAudit(router)
        registerKeys(router)
    }

    // MARK: - Pages and actions behind a session

    /// A GET page that needs a session: without one, the browser goes to the login page.
    func page(_ router: Router<GatewayRequestContext>, _ path: RouterPath,
              _ body: @escaping @Sendable (Request, GatewayRequestContext, DashboardSessions.Session) async throws -> Response) {
        router.get(path) { request, context in
            guard let session = self.sessions.session(request.cookies[DashboardSessions.cookie]?.value) else {
                return Self.redirect("/ui/login?next=" + Self.formEncode(request.uri.path))
            }
            return try await body(request, context, session)
        }
    }

    /// A POST form that changes state: needs a session, the session's CSRF token in the form's `csrf`
    /// field, and no sign of a cross-site request. Refused with 403 otherwise, before anything changes.
    func action(_ router: Router<GatewayRequestContext>, _ path: RouterPath,
                _ body: @escaping @Sendable (Request, GatewayRequestContext, DashboardSessions.Session, [String: String]) async throws -> Response) {
        router.post(path) { request, context in
            guard let session = self.sessions.session(request.cookies[DashboardSessions.cookie]?.value) else {
                return self.refusal(.unauthorized, "Not logged in", "Log in to the dashboard first.", session: nil)
            }
            if let why = Self.crossSite(request) {
                return self.refusal(.forbidden, "Refused", "This request came from another site (\(why)); nothing was changed.", session: session)
            }
            let form = try await Self.form(request)
            guard let presented = form["csrf"], AdminAuth.same(presented, session.csrf) else {
                return self.refusal(.forbidden, "Refused: missing or wrong CSRF token",
                                    "The form did not carry this session's CSRF token, so nothing was changed. Reload the page and try again.",
                                    session: session)
            }
            do {
                return try await body(request, context, session, form)
            } catch let error as HTTPError {
                return self.refusal(error.status, "Could not do that", error.body ?? "\(error.status)", session: session)
            }
        }
    }

    /// Why a request looks cross-site: an `Origin` that is not this host, or `Sec-Fetch-Site: cross-site`.
    static func crossSite(_ request: Request) -> String? {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site == "cross-site" { return "Sec-Fetch-Site: cross-site" }
        if let origin = request.headers[HTTPField.Name("Origin")!], origin != "null" {
            let host = request.head.authority ?? ""
            guard origin == "http://" + host || origin == "https://" + host else { return "Origin \(origin)" }
        }
        return nil
    }

    // MARK: - Login

    func loginPage(_ request: Request, status: HTTPResponse.Status = .ok, error: String? = nil) -> Response {
        let nonce = DashboardSessions.randomToken()
        let next = Self.safeNext(request.uri.queryParameters.get("next").map { String($0) })
        var page = HTMLBuffer()
        page.add("<form class=\"login\" method=\"post\" action=\"/ui/login\">")
        if let error { page.add("<p class=\"error\" role=\"alert\">\(error)</p>") }
        if let notice = request.uri.queryParameters.get("notice"), notice == "logged-out" {
            page.add("<p class=\"notice\" role=\"status\">You are logged out.</p>")
        }
        page.add("""
            <input type="hidden" name="login_nonce" value="\(nonce)">
            <input type="hidden" name="next" value="\(next)">
            <label for="token">Admin token</label>
            <input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
            <p class="hint" id="token-hint">The token of the gateway's admin listener (<code>admin.token</code> in its configuration).</p>
            <button type="submit">Log in</button>
            </form>
            """)
        var response = render(title: "Log in", session: nil, current: nil, body: page, status: status)
        response.setCookie(Cookie(name: DashboardSessions.loginCookie, value: nonce, maxAge: 600, path: "/ui/login", httpOnly: true, sameSite: .strict))
        return response
    }

    func login(_ request: Request) async throws -> Response {
        let form = try await Self.form(request)
        guard let nonce = request.cookies[DashboardSessions.loginCookie]?.value, let presented = form["login_nonce"],
              AdminAuth.same(nonce, presented), Self.crossSite(request) == nil else {
            return refusal(.forbidden, "Refused: missing or wrong CSRF token", "The login form was not this site's. Reload the login page and try again.", session: nil)
        }
        guard sessions.mayTryLogin() else {
            return loginPage(request, status: .tooManyRequests, error: "Too many failed logins; wait a minute.")
        }
        guard let token = gateway.config.admin.resolvedToken(), let given = form["token"], AdminAuth.same(given, token) else {
            sessions.failedLogin()
            try? await audit("ui-login-failed", subject: "dashboard", reasons: [])
            return loginPage(request, status: .unauthorized, error: gateway.config.admin.resolvedToken() == nil
                                ? "The gateway has no admin token configured: the dashboard is closed."
                                : "That is not the admin token.")
        }
        let session = sessions.create()
        try? await audit("ui-login", subject: "dashboard", reasons: [])
        var response = Self.redirect(Self.safeNext(form["next"]))
        response.setCookie(Cookie(name: DashboardSessions.cookie, value: session.id, maxAge: Int(sessions.lifetime), path: "/ui",
                                  httpOnly: true, sameSite: .strict))
        response.setCookie(Cookie(name: DashboardSessions.loginCookie, value: "", maxAge: 0, path: "/ui/login", httpOnly: true, sameSite: .strict))
        return response
    }

    /// Where to go after login: a dashboard path, never another site.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/ui"), !next.contains("//"), !next.contains("\\"), !next.hasPrefix("/ui/login"),
              next.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else { return "/ui" }
        return next
    }

    // MARK: - Store work off the event loop

    /// Runs blocking store work on NIO's thread pool, never on the admin listener's event loop.
    func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }

    func audit(_ action: String, subject: String, reasons: [String]) async throws {
        let entry = AuditEntry(at: Date(), actor: Self.actor, action: action, subject: subject, reasons: reasons)
        try await gateway.operators.appendAudit(entry)
    }

    // MARK: - Responses

    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        .cacheControl: "no-store",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("Referrer-Policy")!: "no-referrer",
    ]

    static func asset(_ text: String, type: String) -> Response {
        var headers = securityHeaders
        headers[.contentType] = type
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(_ location: String) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    func refusal(_ status: HTTPResponse.Status, _ title: String, _ message: String, session: DashboardSessions.Session?) -> Response {
        var page = HTMLBuffer()
        page.add("<p class=\"error\" role=\"alert\">\(message)</p>")
        page.add(session == nil ? "<p><a href=\"/ui/login\">Log in</a></p>" : "<p><a href=\"/ui\">Back to the overview</a></p>")
        return render(title: title, session: session, current: nil, body: page, status: status)
    }

    func json(_ value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var headers = Self.securityHeaders
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(data: try encoder.encode(value))))
    }

    // MARK: - Forms

    /// An `application/x-www-form-urlencoded` body (at most 64 KiB) as name → value (the last one wins).
    static func form(_ request: Request) async throws -> [String: String] {
        var body = try await request.body.collect(upTo: 64 * 1024)
        let text = body.readString(length: body.readableBytes) ?? ""
        return parseForm(text)
    }

    static func parseForm(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String { s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            out[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return out
    }

    static func formEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A path segment for links (account ids, key ids, campaign ids).
    static func segment(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
