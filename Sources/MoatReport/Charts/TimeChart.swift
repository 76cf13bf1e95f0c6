import MoatCore

/// One series of a chart: a value per bucket (or per row), with its palette colour.
struct ChartSeries: Sendable {
    var name: String
    var color: Int
    var values: [Double]
}

/// A labelled moment marked across a time chart.
struct ChartMarker: Sendable {
    enum Style: String, Sendable { case detection, release, event }
    var ms: Int64
    var label: String
    var style: Style
}

/// Geometry shared by the charts (SVG user units; the SVG scales to the page width).
enum ChartGeometry {
    static let width = 880.0
    static let left = 64.0
    static let rightWithAxis = 64.0
    static let right = 20.0
    static let charWidth = 6.9  // at the 11px tick font (bold), to place labels
    /// Rows of marker labels above a time chart; a label that fits in none is left out (its line keeps a tooltip).
    static let markerRows = 3
    static let palette = 10
}

/// A chart over time: stacked areas or bars, an optional line on a right-hand axis, labelled markers
/// (detection, model releases) and an optional small panel below (e.g. accounts flagged per bucket).
/// Drawn as inline SVG; every drawn data element has class `mark`, and the figure carries their number in
/// `data-marks` so a browser test can check that the chart rendered.
struct TimeChart {
    enum Style { case area, bars }

    var id: String
    var kind: String
    var title: String
    var summary: String
    var caption: String = ""
    var axis: TimeAxis
    var stacked: [ChartSeries]
    var style: Style = .area
    var normalized = false
    var yLabel: String
    var line: ChartSeries?
    var lineLabel: String = ""
    var markers: [ChartMarker] = []
    var lower: ChartSeries?
    var lowerLabel: String = ""
    var integerY = true
    /// The legend's name for `.event` markers.
    var eventName = "event"

    func render() -> HTML {
        var svg = HTMLBuffer(capacity: 16_384)
        var marks = 0
        let w = ChartGeometry.width
        let left = ChartGeometry.left
        let right = line == nil ? ChartGeometry.right : ChartGeometry.rightWithAxis
        let plotW = w - left - right
        let top = markers.isEmpty ? 12.0 : 12.0 + 13.0 * Double(ChartGeometry.markerRows)
        let mainH = 190.0
        let lowerH = lower == nil ? 0.0 : 46.0
        let gap = lower == nil ? 0.0 : 14.0
        let axisH = 34.0
        let height = top + mainH + gap + lowerH + axisH
        let n = max(axis.count, 1)
        func x(_ b: Int) -> Double { left + plotW * Double(b) / Double(n) }

        // Stack.
        var totals = [Double](repeating: 0, count: n)
        for s in stacked { for b in 0..<min(n, s.values.count) { totals[b] += max(0, s.values[b]) } }
        let (yMax, yStep) = normalized ? (1.0, 0.25) : NiceScale.ticks(max: totals.max() ?? 0, integer: integerY)
        func y(_ v: Double) -> Double { top + mainH - mainH * min(max(v / yMax, 0), 1) }

        svg.add("<svg class=\"chart-svg\" role=\"img\" viewBox=\"0 0 \(w) \(height)\" aria-labelledby=\"\(id)-t \(id)-d\" preserveAspectRatio=\"xMidYMid meet\">")
        svg.add("<title id=\"\(id)-t\">\(title)</title><desc id=\"\(id)-d\">\(summary)</desc>")

        // Grid and left axis.
        svg.add("<g class=\"grid\">")
        var t = 0.0
        while t <= yMax + yStep / 2, yStep > 0 {
            let label = normalized ? Format.percent(t) : Format.compact(t)
            svg.add("<line x1=\"\(left)\" x2=\"\(left + plotW)\" y1=\"\(y(t))\" y2=\"\(y(t))\"/>")
            svg.add("<text class=\"tick\" x=\"\(left - 6)\" y=\"\(y(t) + 4)\" text-anchor=\"end\">\(label)</text>")
            t += yStep
        }
        svg.add("</g>")
        svg.add("<text class=\"axis-label\" transform=\"translate(14 \(top + mainH / 2)) rotate(-90)\" text-anchor=\"middle\">\(yLabel)</text>")

        // Data.
        var below = [Double](repeating: 0, count: n)
        for s in stacked {
            var tops = below
            for b in 0..<n {
                let v = b < s.values.count ? max(0, s.values[b]) : 0
                tops[b] = below[b] + (normalized ? (totals[b] > 0 ? v / totals[b] : 0) : v)
            }
            if zip(tops, below).contains(where: { $0 > $1 }) {
                switch style {
                case .area:
                    var d = "M\(HTML.number(x(0), decimals: 1)) \(HTML.number(y(tops[0]), decimals: 1))"
                    for b in 0..<n {
                        d += "H\(HTML.number(x(b + 1), decimals: 1))"
                        if b + 1 < n, tops[b + 1] != tops[b] { d += "V\(HTML.number(y(tops[b + 1]), decimals: 1))" }
                    }
                    d += "V\(HTML.number(y(below[n - 1]), decimals: 1))"
                    for b in stride(from: n - 1, through: 0, by: -1) {
                        d += "H\(HTML.number(x(b), decimals: 1))"
                        if b > 0, below[b - 1] != below[b] { d += "V\(HTML.number(y(below[b - 1]), decimals: 1))" }
                    }
                    d += "Z"
                    svg.add("<path class=\"mark area f\(s.color % ChartGeometry.palette)\" d=\"\(d)\"><title>\(s.name)</title></path>")
                    marks += 1
                case .bars:
                    let bw = max(plotW / Double(n) - (n > 60 ? 0.5 : 2), 0.8)
                    for b in 0..<n where tops[b] > below[b] {
                        let value = tops[b] - below[b]
                        svg.add("<rect class=\"mark bar f\(s.color % ChartGeometry.palette)\" x=\"\(x(b) + (plotW / Double(n) - bw) / 2)\" y=\"\(y(tops[b]))\" width=\"\(bw)\" height=\"\(max(y(below[b]) - y(tops[b]), 0.5))\"><title>\(s.name), \(bucketLabel(b)): \(Format.count(Int(value.rounded())))</title></rect>")
                        marks += 1
                    }
                }
            }
            below = tops
        }

        // Line on the right-hand axis.
        if let line, line.values.contains(where: { $0 > 0 }) {
            let (lMax, lStep) = NiceScale.ticks(max: line.values.max() ?? 0, integer: true)
            func ly(_ v: Double) -> Double { top + mainH - mainH * min(max(v / lMax, 0), 1) }
            var d = ""
            for b in 0..<min(n, line.values.count) {
                d += (b == 0 ? "M" : "L") + HTML.number((x(b) + x(b + 1)) / 2, decimals: 1) + " " + HTML.number(ly(line.values[b]), decimals: 1)
            }
            svg.add("<path class=\"mark line s\(line.color % ChartGeometry.palette)\" d=\"\(d)\"><title>\(line.name)</title></path>")
            marks += 1
            var v = 0.0
            while v <= lMax + lStep / 2 {
                svg.add("<text class=\"tick\" x=\"\(left + plotW + 6)\" y=\"\(ly(v) + 4)\">\(Format.compact(v))</text>")
                v += lStep
            }
            svg.add("<text class=\"axis-label\" transform=\"translate(\(w - 12) \(top + mainH / 2)) rotate(90)\" text-anchor=\"middle\">\(lineLabel)</text>")
        }

        // Lower panel.
        let lowerTop = top + mainH + gap
        if let lower {
            let lMax = max(lower.values.max() ?? 0, 1)
            svg.add("<line class=\"baseline\" x1=\"\(left)\" x2=\"\(left + plotW)\" y1=\"\(lowerTop + lowerH)\" y2=\"\(lowerTop + lowerH)\"/>")
            svg.add("<text class=\"tick\" x=\"\(left - 6)\" y=\"\(lowerTop + lowerH / 2 + 4)\" text-anchor=\"end\">\(lowerLabel)</text>")
            let bw = max(plotW / Double(n) - (n > 60 ? 0 : 1), 1.2)
            for b in 0..<min(n, lower.values.count) where lower.values[b] > 0 {
                let h = max(lowerH * lower.values[b] / lMax, 1.5)
                svg.add("<rect class=\"mark bar f\(lower.color % ChartGeometry.palette)\" x=\"\(x(b))\" y=\"\(lowerTop + lowerH - h)\" width=\"\(bw)\" height=\"\(h)\"><title>\(lower.name), \(bucketLabel(b)): \(Format.count(Int(lower.values[b])))</title></rect>")
                marks += 1
            }
            svg.add("<text class=\"tick\" x=\"\(left + plotW)\" y=\"\(lowerTop - 3)\" text-anchor=\"end\">max \(Format.count(Int(lMax))) per \(axis.bucketName)</text>")
        }

        // X axis.
        let axisY = (lower == nil ? top + mainH : lowerTop + lowerH)
        svg.add("<line class=\"baseline\" x1=\"\(left)\" x2=\"\(left + plotW)\" y1=\"\(top + mainH)\" y2=\"\(top + mainH)\"/>")
        for (ms, label) in xTicks() {
            let px = left + plotW * Double(ms - axis.startMs) / Double(axis.endMs - axis.startMs)
            svg.add("<line class=\"xtick\" x1=\"\(px)\" x2=\"\(px)\" y1=\"\(axisY)\" y2=\"\(axisY + 5)\"/>")
            svg.add("<text class=\"tick\" x=\"\(px)\" y=\"\(axisY + 18)\" text-anchor=\"middle\">\(label)</text>")
        }
        svg.add("<text class=\"tick muted\" x=\"\(left + plotW)\" y=\"\(axisY + 32)\" text-anchor=\"end\">UTC; one bucket = 1 \(axis.bucketName)</text>")

        // Markers, labels staggered in rows.
        var rowEnds = [Double](repeating: -Double.infinity, count: ChartGeometry.markerRows)
        var drawnStyles = Set<ChartMarker.Style>()
        for m in markers.sorted(by: { $0.ms < $1.ms }) {
            guard m.ms >= axis.startMs, m.ms <= axis.endMs else { continue }
            drawnStyles.insert(m.style)
            let px = left + plotW * Double(m.ms - axis.startMs) / Double(axis.endMs - axis.startMs)
            let labelW = Double(m.label.count) * ChartGeometry.charWidth
            let anchorEnd = px + labelW > w - 4
            let start = anchorEnd ? px - labelW : px
            let row = rowEnds.firstIndex { $0 < start - 4 }
            if let row { rowEnds[row] = start + labelW }
            let ly = 12.0 + Double(row ?? 0) * 13
            svg.add("<g class=\"marker \(m.style.rawValue)\"><line class=\"mark\" x1=\"\(px)\" x2=\"\(px)\" y1=\"\(row == nil ? top : ly + 3)\" y2=\"\(axisY)\"><title>\(m.label)</title></line>")
            if row != nil {
                svg.add("<text x=\"\(anchorEnd ? px - 3 : px + 3)\" y=\"\(ly)\" text-anchor=\"\(anchorEnd ? "end" : "start")\">\(m.label)</text>")
            }
            svg.add("</g>")
            marks += 1
        }
        svg.add("</svg>")

        var legend = HTMLBuffer(capacity: 512)
        for s in stacked where s.values.contains(where: { $0 > 0 }) {
            legend.add("<li><span class=\"sw b\(s.color % ChartGeometry.palette)\" aria-hidden=\"true\"></span>\(s.name)</li>")
        }
        if let line, line.values.contains(where: { $0 > 0 }) {
            legend.add("<li><span class=\"sw line b\(line.color % ChartGeometry.palette)\" aria-hidden=\"true\"></span>\(line.name) (right axis)</li>")
        }
        if let lower, lower.values.contains(where: { $0 > 0 }) {
            legend.add("<li><span class=\"sw b\(lower.color % ChartGeometry.palette)\" aria-hidden=\"true\"></span>\(lower.name) (lower panel)</li>")
        }
        for style in [ChartMarker.Style.detection, .release, .event] where drawnStyles.contains(style) {
            let name = style == .detection ? "detection" : (style == .release ? "model first seen (inferred release)" : eventName)
            legend.add("<li><span class=\"sw marker-\(style.rawValue)\" aria-hidden=\"true\"></span>\(name)</li>")
        }
        return """
            <figure class="chart" id="\(id)" data-chart="\(kind)" data-marks="\(marks)">\(HTML(bytes: svg.bytes))\
            <figcaption><strong>\(title).</strong> \(caption)<ul class="legend">\(HTML(bytes: legend.bytes))</ul></figcaption></figure>

            """
    }

    /// `Apr 22 06:00–09:00` style name of a bucket, for tooltips.
    func bucketLabel(_ b: Int) -> String {
        let ms = axis.startMs + Int64(b) * axis.bucketMs
        if axis.bucketMs >= Timestamp.day {
            return axis.bucketMs == Timestamp.day ? Format.day(ms) : "\(Format.day(ms)) to \(Format.day(ms + axis.bucketMs - Timestamp.day))"
        }
        return "\(Format.day(ms)) \(Format.clock(ms))–\(Format.clock(ms + axis.bucketMs))"
    }

    /// Tick positions and labels: days, or hours for short windows.
    func xTicks() -> [(Int64, String)] {
        let span = axis.endMs - axis.startMs
        let days = Double(span) / Double(Timestamp.day)
        var out: [(Int64, String)] = []
        if days <= 3 {
            let step = days <= 1.5 ? 3 * Timestamp.hour : 6 * Timestamp.hour
            var ms = TimeAxis.floorDiv(axis.startMs + step - 1, step) * step
            while ms <= axis.endMs {
                out.append((ms, ms % Timestamp.day == 0 ? Format.shortDay(ms) : Format.clock(ms)))
                ms += step
            }
        } else {
            let stepDays = Int64(max(1, Int((days / 10).rounded(.up))))
            let step = stepDays * Timestamp.day
            var ms = TimeAxis.floorDiv(axis.startMs + Timestamp.day - 1, Timestamp.day) * Timestamp.day
            while ms <= axis.endMs {
                out.append((ms, Format.shortDay(ms)))
                ms += step
            }
        }
        return out
    }
}

extension HTML {
    public init(bytes: [UInt8]) { self.bytes = bytes }
}
