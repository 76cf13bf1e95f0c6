/// The report's only style sheet and script, inline in the page. No data is ever interpolated into them;
/// the page's Content-Security-Policy allows exactly these two (by SHA-256) and nothing from the network.
enum ReportAssets {
    /// Okabe–Ito based palette, darkened where needed for 3:1 contrast against white.
    static let palette = ["#0072B2", "#D55E00", "#007A5E", "#AA4499", "#8C6D00", "#332288", "#5A5A5A", "#882255", "#117799", "#6A3D9A"]

    /// The style sheet; `printedRows` account rows per table are printed.
    static func css(printedRows: Int) -> String {
        var s = """
            :root{--ink:#1b1f24;--muted:#4d5560;--line:#d5d9de;--soft:#f4f6f8;--accent:#0b5cad;--alert:#b00020}
            *{box-sizing:border-box}
            html{-webkit-text-size-adjust:100%}
            body{margin:0;color:var(--ink);background:#fff;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
            main,header.masthead,footer{max-width:1080px;margin:0 auto;padding:0 24px}
            a{color:var(--accent)}
            a:focus-visible,button:focus-visible{outline:3px solid #f5b400;outline-offset:2px}
            .skip{position:absolute;left:-9999px}.skip:focus{left:8px;top:8px;background:#fff;padding:6px;z-index:9}
            header.masthead{padding-top:28px;padding-bottom:12px;border-bottom:4px solid var(--ink)}
            .kicker{margin:0;text-transform:uppercase;letter-spacing:.08em;font-size:12px;color:var(--muted);font-weight:600}
            h1{font-size:28px;line-height:1.2;margin:6px 0 8px}
            h2{font-size:22px;margin:40px 0 8px;padding-top:8px;border-top:1px solid var(--line)}
            h3{font-size:17px;margin:28px 0 6px}
            h4{font-size:15px;margin:16px 0 4px}
            p{margin:8px 0}
            .meta,.muted,figcaption,.note{color:var(--muted)}
            .meta{font-size:13px;margin:0}
            .lead{font-size:16.5px}
            nav.toc{margin:16px 0;padding:10px 16px;background:var(--soft);border-radius:6px;font-size:14px}
            nav.toc ol{margin:4px 0;padding-left:20px;columns:2}
            .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:10px;margin:16px 0;padding:0}
            .card{border:1px solid var(--line);border-radius:6px;padding:10px 12px;margin:0}
            .card dt{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
            .card dd{margin:2px 0 0;font-size:22px;font-weight:650}
            .card dd small{display:block;font-size:12.5px;font-weight:400;color:var(--muted)}
            .callout{border-left:4px solid var(--alert);background:#fff5f5;padding:8px 12px;margin:12px 0}
            .warn{border-left:4px solid #8C6D00;background:#fffaf0;padding:8px 12px;margin:12px 0}
            dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:12px 0}
            dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
            ul.evidence li{margin:3px 0}
            .table-wrap{overflow-x:auto;margin:8px 0 12px}
            table{border-collapse:collapse;width:100%;font-size:13.5px}
            caption{text-align:left;font-weight:600;padding:4px 0;color:var(--ink)}
            th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
            thead th{background:var(--soft);font-weight:600;border-bottom:2px solid #aab1ba}
            td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
            td.n{white-space:nowrap}
            thead th{vertical-align:bottom}
            td.v,th.v{overflow-wrap:anywhere;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px}
            td.t{white-space:nowrap}
            td.reasons{font-size:12.5px;color:var(--muted);min-width:440px}
            table.accounts td.t{font-size:12.5px}
            th button{font:inherit;color:inherit;background:none;border:0;padding:0;margin:0;cursor:pointer;text-align:inherit;display:inline-flex;gap:4px;align-items:center}
            th button::after{content:"↕";color:#8a939d;font-size:11px}
            th[aria-sort=ascending] button::after{content:"▲";color:var(--ink)}
            th[aria-sort=descending] button::after{content:"▼";color:var(--ink)}
            .grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:4px 24px}
            .tag{display:inline-block;font-size:11px;padding:0 5px;border-radius:3px;background:#e8eef6;color:#123;margin-left:4px;white-space:nowrap}
            figure.chart{margin:12px 0 20px}
            svg.chart-svg{display:block;width:100%;height:auto;overflow:visible}
            svg text{font:11px system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;fill:#3b424a}
            svg .axis-label{font-size:11.5px;fill:#4d5560}
            svg .row-label{font-size:12.5px;fill:var(--ink)}
            svg .value{font-size:12.5px;fill:var(--ink);font-weight:600}
            svg .grid line{stroke:#e3e6ea;stroke-width:1}
            svg .baseline,svg .xtick{stroke:#7b838c;stroke-width:1}
            svg .track{fill:#eef1f4}
            svg .area{stroke:#fff;stroke-width:.4}
            svg .line{fill:none;stroke-width:1.6}
            svg .marker line{stroke-width:1.4}
            svg .marker.detection line{stroke:#b00020}
            svg .marker.detection text{fill:#b00020;font-weight:600}
            svg .marker.release line{stroke:#1b1f24;stroke-dasharray:4 3}
            svg .marker.event line{stroke:#4d5560;stroke-dasharray:2 2}
            svg .muted{fill:#5a626b}
            ul.legend{list-style:none;padding:0;margin:4px 0 0;display:flex;flex-wrap:wrap;gap:4px 16px;font-size:13px;color:var(--ink)}
            .sw{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
            .sw.line{height:3px;vertical-align:3px}
            .sw.marker-detection{width:3px;background:#b00020}
            .sw.marker-release{width:3px;background:repeating-linear-gradient(#1b1f24 0 3px,transparent 3px 5px)}
            .sw.marker-event{width:3px;background:#4d5560}
            code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12.5px;overflow-wrap:anywhere}
            ol.method li,ul.method li{margin:4px 0}
            footer{margin-top:40px;padding-top:12px;padding-bottom:40px;border-top:1px solid var(--line);font-size:13px;color:var(--muted)}
            .visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
            .print-only{display:none}
            @media print{
              @page{size:A4;margin:14mm 12mm 16mm}
              body{font-size:10.5pt;print-color-adjust:exact;-webkit-print-color-adjust:exact}
              main,header.masthead,footer{max-width:none;padding:0}
              a{color:inherit;text-decoration:none}
              .skip,nav.toc{display:none}
              section.campaign,section.appendix{break-before:page}
              h2,h3,h4{break-after:avoid}
              figure.chart,.cards,dl.facts,tr,.callout{break-inside:avoid}
              thead{display:table-header-group}
              .table-wrap{overflow:visible}
              th button::after{content:none}
              table{font-size:8pt}
              th,td{padding:2px 4px}
              td.t,td.n,th.n{white-space:normal}
              table.accounts{font-size:7.5pt;table-layout:fixed}
              table.accounts .reasons{width:34%}
              table.accounts .clamp{display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:3;overflow:hidden}
              table.accounts .np{display:none}
              td.reasons{min-width:0;font-size:7pt}
              td.v,th.v{font-size:7.5pt}
              table.accounts tbody tr:nth-child(n+\(printedRows + 1)){display:none}
              .print-only{display:block}
              .grid2{grid-template-columns:1fr 1fr}
            }

            """
        for (i, color) in palette.enumerated() {
            s += "svg .f\(i){fill:\(color)}svg .s\(i){stroke:\(color)}.sw.b\(i){background:\(color)}\n"
        }
        return s
    }

    /// Sortable tables: a button in each sortable column header; numbers sort by `data-v`.
    static let script = """
        (function () {
          "use strict";
          var tables = document.querySelectorAll("table.sortable");
          Array.prototype.forEach.call(tables, function (table) {
            var heads = table.tHead.rows[0].cells;
            Array.prototype.forEach.call(heads, function (th, col) {
              var button = th.querySelector("button");
              if (!button) { return; }
              button.addEventListener("click", function () {
                var ascending = th.getAttribute("aria-sort") !== "ascending";
                Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
                th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
                var numeric = th.getAttribute("data-type") === "number";
                var body = table.tBodies[0];
                var rows = Array.prototype.slice.call(body.rows);
                var keyed = rows.map(function (row, i) {
                  var cell = row.cells[col];
                  var raw = cell ? (cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent) : "";
                  return { row: row, key: numeric ? parseFloat(raw) : raw.toLowerCase(), i: i };
                });
                keyed.sort(function (a, b) {
                  var x = a.key, y = b.key, r;
                  if (numeric) {
                    if (isNaN(x)) { x = -Infinity; }
                    if (isNaN(y)) { y = -Infinity; }
                    r = x - y;
                  } else {
                    r = x < y ? -1 : (x > y ? 1 : 0);
                  }
                  if (r === 0) { r = a.i - b.i; return r; }
                  return ascending ? r : -r;
                });
                var fragment = document.createDocumentFragment();
                keyed.forEach(function (k) { fragment.appendChild(k.row); });
                body.appendChild(fragment);
                var status = table.parentNode.querySelector(".sort-status");
                if (status) { status.textContent = "Sorted by " + button.textContent + (ascending ? ", ascending" : ", descending"); }
              });
            });
          });
        })();
        """
}
