import Foundation
import MoatCore
import Hummingbird
import MoatReport
import NIOCore

extension Dashboard {
    enum Section: String, CaseIterable {
        case overview, campaigns, review, accounts, overrides, keys, audit

        var title: String {
            switch self {
            case .overview: "Overview"
            case .campaigns: "Campaigns"
            case .review: "Review queue"
            case .accounts: "Accounts"
            case .overrides: "Overrides and allowlist"
            case .keys: "Keys"
            case .audit: "Audit trail"
            }
        }

        var path: String { self == .overview ? "/ui" : "/ui/" + rawValue }
    }

    /// A whole page: head (the report's style sheet, the dashboard's, its script), the navigation bar
    /// with the logout form, then `body` inside `<main>`.
    func render(title: String, session: DashboardSessions.Session?, current: Section?, body: HTMLBuffer,
                status: HTTPResponse.Status = .ok, notice: String? = nil) -> Response {
        var page = HTMLBuffer(capacity: body.bytes.count + 8192)
        page.add("""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="no-referrer">
            <title>\(title) · Moat dashboard</title>
            <link rel="stylesheet" href="/ui/assets/dashboard.css">
            <script src="/ui/assets/dashboard.js" defer></script>
            </head>
            <body>
            <a class="skip" href="#main">Skip to the content</a>
            <header class="bar">
            <a class="brand" href="/ui">Moat</a>

            """)
        if let session {
            page.add("<nav aria-label=\"Dashboard\"><ul>")
            for s in Section.allCases {
                page.add("<li><a href=\"\(s.path)\"\(s == current ? HTML(stringLiteral: " aria-current=\"page\"") : .empty)>\(s.title)</a></li>")
            }
            page.add("</ul></nav>")
            page.add("<form class=\"logout\" method=\"post\" action=\"/ui/logout\">\(csrfField(session))<button type=\"submit\">Log out</button></form>")
        }
        page.add("</header>\n<main id=\"main\">\n<h1>\(title)</h1>\n")
        if let notice { page.add("<p class=\"notice\" role=\"status\">\(notice)</p>\n") }
        page.add(HTML(bytes: body.bytes))
        page.add("\n</main>\n</body>\n</html>\n")
        var headers = Self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: page.bytes)))
    }

    func csrfField(_ session: DashboardSessions.Session) -> HTML {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(session.csrf)\">"
    }

    /// A one-button POST form (approve, dismiss, revoke, remove), with the CSRF token and where to go back to.
    func button(_ session: DashboardSessions.Session, action: String, label: String, back: String,
                fields: [(String, String)] = [], danger: Bool = false, describedBy: String? = nil) -> HTML {
        var html: HTML = "<form class=\"inline\" method=\"post\" action=\"\(action)\">\(csrfField(session))<input type=\"hidden\" name=\"back\" value=\"\(back)\">"
        for (name, value) in fields { html = "\(html)<input type=\"hidden\" name=\"\(name)\" value=\"\(value)\">" }
        let cls: HTML = danger ? " class=\"danger\"" : ""
        var described = HTML.empty
        if let describedBy { described = " aria-describedby=\"\(describedBy)\"" }
        return "\(html)<button type=\"submit\"\(cls)\(described)>\(label)</button></form>"
    }

    /// The notice a redirect asked for (`?notice=CODE`): only known codes, so a link cannot put words on the page.
    static func notice(_ request: Request) -> String? {
        switch request.uri.queryParameters.get("notice").map({ String($0) }) {
        case "approved"?: "Approved: the verdicts are enforced now."
        case "dismissed"?: "Dismissed: the accounts are allowed."
        case "override-set"?: "Override saved."
        case "override-removed"?: "Override removed."
        case "key-revoked"?: "Key revoked: requests with it now get 401."
        default: nil
        }
    }

    /// Where a form asked to go back to (a dashboard path), with a notice.
    static func back(_ form: [String: String], _ fallback: String, notice: String) -> Response {
        let path = Self.safeNext(form["back"] ?? fallback)
        return redirect(path + (path.contains("?") ? "&" : "?") + "notice=" + notice)
    }

    // MARK: - Formatting

    static func count(_ n: Int) -> String {
        let s = String(abs(n))
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0, (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func time(_ date: Date) -> String {
        String(Timestamp(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded())).rfc3339.prefix(19)).replacingOccurrences(of: "T", with: " ") + " UTC"
    }

    static func time(_ rfc3339: String) -> String {
        String(rfc3339.prefix(19)).replacingOccurrences(of: "T", with: " ") + " UTC"
    }

    static func number(_ x: Double, _ decimals: Int = 2) -> String { HTML.number(x, decimals: decimals) }

    /// A verdict or action as a badge (text, never colour alone).
    static func badge(_ text: String) -> HTML {
        let kind: String
        switch text {
        case "campaign", "block": kind = "bad"
        case "suspicious", "throttle", "withhold_reasoning", "review": kind = "warn"
        default: kind = "ok"
        }
        return "<span class=\"badge \(kind)\">\(text)</span>"
    }
}

