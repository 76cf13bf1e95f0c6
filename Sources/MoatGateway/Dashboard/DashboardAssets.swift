import MoatReport

/// The dashboard's style sheet and script, served from the admin listener (no build step, no network).
enum DashboardAssets {
    /// The report's style sheet (cards, tables, charts, print) and the dashboard's additions.
    static let css: String = reportCSS + "\n" + """
        header.bar{display:flex;flex-wrap:wrap;align-items:center;gap:8px 20px;padding:8px 24px;background:#1b1f24;color:#fff}
        header.bar a{color:#fff}
        header.bar .brand{font-weight:700;font-size:18px;text-decoration:none;margin-right:8px}
        header.bar nav ul{display:flex;flex-wrap:wrap;gap:4px 16px;list-style:none;margin:0;padding:0}
        header.bar nav a{text-decoration:none;padding:4px 2px;border-bottom:3px solid transparent}
        header.bar nav a[aria-current=page]{border-bottom-color:#f5b400}
        header.bar nav a:hover{text-decoration:underline}
        header.bar form.logout{margin-left:auto}
        header.bar button{background:#fff;color:#1b1f24}
        main{padding-bottom:48px}
        main h1{margin-top:20px}
        a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible{outline:3px solid #f5b400;outline-offset:2px}
        button{font:inherit;padding:5px 12px;border:1px solid #0b5cad;border-radius:4px;background:#0b5cad;color:#fff;cursor:pointer}
        button.danger{background:#b00020;border-color:#b00020}
        button.secondary{background:#fff;color:#0b5cad}
        input,select{font:inherit;padding:4px 6px;border:1px solid #6b737d;border-radius:4px;background:#fff;color:#1b1f24}
        label{font-weight:600;display:block;font-size:14px;margin:6px 0 2px}
        form.inline{display:inline;margin:0 4px 0 0}
        form.row{display:flex;flex-wrap:wrap;align-items:flex-end;gap:8px 14px;margin:10px 0;padding:10px 12px;background:#f4f6f8;border-radius:6px}
        form.row label{margin-top:0}
        form.login{max-width:420px;margin:24px 0;padding:16px 20px;border:1px solid #d5d9de;border-radius:6px}
        form.login input{width:100%;margin-bottom:8px}
        .hint{font-size:13px;color:#4d5560}
        .error{border-left:4px solid #b00020;background:#fff5f5;padding:8px 12px}
        .notice{border-left:4px solid #007A5E;background:#f0faf6;padding:8px 12px}
        .secret{font:16px/1.4 ui-monospace,monospace;padding:10px 12px;background:#fffaf0;border:2px dashed #8C6D00;word-break:break-all;display:block}
        .badge{display:inline-block;padding:0 6px;border-radius:3px;font-size:12.5px;font-weight:650;border:1px solid}
        .badge.bad{color:#8a0019;border-color:#8a0019;background:#fff5f5}
        .badge.warn{color:#6b5300;border-color:#6b5300;background:#fffaf0}
        .badge.ok{color:#005c46;border-color:#005c46;background:#f0faf6}
        .side{display:grid;grid-template-columns:minmax(0,2fr) minmax(0,3fr);gap:20px;align-items:start}
        @media (max-width:800px){.side{grid-template-columns:1fr}}
        .review-campaign{border:1px solid #d5d9de;border-radius:6px;padding:4px 16px 12px;margin:16px 0}
        .review-campaign h2{border-top:0;margin-top:12px}
        td a{white-space:nowrap}
        svg.spark{width:100%;max-width:520px;height:60px;display:block}
        svg.spark polyline{fill:none;stroke:#0b5cad;stroke-width:2}
        svg.spark line{stroke:#d5d9de}
        td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        .live-status{font-size:13px;color:#4d5560}
        """

    static let reportCSS = CampaignReportAssets.css

    /// Live overview (polls `/ui/overview.json` every 2 s while the page is open and writes text only),
    /// then the report's sortable tables.
    static let script: String = """
        (function () {
          "use strict";
          var root = document.querySelector("[data-live-overview]");
          if (root) {
            var busy = false;
            var text = function (name, value) {
              var el = root.querySelector('[data-live="' + name + '"]');
              if (el && el.textContent !== value) { el.textContent = value; }
            };
            var row = function (cells, link) {
              var tr = document.createElement("tr");
              cells.forEach(function (c, i) {
                var td = document.createElement("td");
                if (i === 0 && link) { var a = document.createElement("a"); a.href = link; a.textContent = c; td.appendChild(a); }
                else { td.textContent = c; }
                if (typeof c === "number" || /^[0-9.,]+$/.test(c)) { td.className = "num"; }
                tr.appendChild(td);
              });
              return tr;
            };
            var fill = function (name, rows) {
              var body = root.querySelector('[data-live-rows="' + name + '"]');
              if (!body) { return; }
              while (body.firstChild) { body.removeChild(body.firstChild); }
              rows.forEach(function (r) { body.appendChild(r); });
            };
            var spark = function (values) {
              var line = root.querySelector("[data-live-spark]");
              if (!line) { return; }
              var max = Math.max.apply(null, [1].concat(values));
              var pts = values.map(function (v, i) {
                var x = values.length > 1 ? i * 500 / (values.length - 1) : 0;
                return (10 + x).toFixed(1) + "," + (55 - 50 * v / max).toFixed(1);
              });
              line.setAttribute("points", pts.join(" "));
            };
            var fmt = function (n) { return Math.round(n).toLocaleString("en-US"); };
            var poll = function () {
              if (busy || document.hidden) { return; }
              busy = true;
              fetch("/ui/overview.json", {credentials: "same-origin", cache: "no-store"}).then(function (r) {
                if (r.status === 401) { window.location.href = "/ui/login?next=/ui"; throw new Error("logged out"); }
                return r.json();
              }).then(function (d) {
                text("rate", d.rate === null ? "measuring" : d.rate.toFixed(1));
                text("requests", fmt(d.requests));
                text("refused", fmt(d.refused));
                text("campaigns", fmt(d.campaigns.length));
                text("flagged", fmt(d.flagged_accounts));
                text("pending", fmt(d.pending_review));
                text("updated", "Updated " + d.updated_at);
                fill("refusals", d.refusals.map(function (x) { return row([x.outcome, String(x.status), fmt(x.count)]); }));
                fill("campaigns", d.campaigns.map(function (c) {
                  return row([c.id, fmt(c.accounts), fmt(c.exchanges), c.confidence.toFixed(3), c.detected_at, fmt(c.pending_review)],
                             "/ui/campaigns/" + encodeURIComponent(c.id));
                }));
                var none = root.querySelector("[data-live-none]");
                if (none) { none.hidden = d.campaigns.length > 0; }
                spark(d.history);
              }).catch(function () {}).then(function () { busy = false; });
            };
            poll();
            setInterval(poll, 2000);
          }
        })();

        """ + CampaignReportAssets.script
}

/// The report's assets, as the dashboard reuses them.
enum CampaignReportAssets {
    static let css = CampaignReport.stylesheet()
    static let script = CampaignReport.script
}
