/// Horizontal bars, one per row, with the value written beside each bar (e.g. the capability mix).
struct BarChart {
    struct Row: Sendable {
        var label: String
        var value: Double
        var color: Int
        var text: String
    }

    var id: String
    var kind: String
    var title: String
    var summary: String
    var caption: String = ""
    var rows: [Row]
    /// The value of a full-width bar (1 for shares).
    var scaleMax: Double = 1

    func render() -> HTML {
        var svg = HTMLBuffer(capacity: 4096)
        var marks = 0
        let w = ChartGeometry.width
        let labelW = 150.0
        let valueW = 170.0
        let rowH = 26.0
        let top = 8.0
        let height = top * 2 + rowH * Double(max(rows.count, 1))
        let plotW = w - labelW - valueW - 10
        let maxValue = max(scaleMax, rows.map(\.value).max() ?? 0, 1e-12)
        svg.add("<svg class=\"chart-svg\" role=\"img\" viewBox=\"0 0 \(w) \(height)\" aria-labelledby=\"\(id)-t \(id)-d\">")
        svg.add("<title id=\"\(id)-t\">\(title)</title><desc id=\"\(id)-d\">\(summary)</desc>")
        for (i, row) in rows.enumerated() {
            let y = top + Double(i) * rowH
            svg.add("<text class=\"row-label\" x=\"\(labelW - 8)\" y=\"\(y + rowH / 2 + 4)\" text-anchor=\"end\">\(row.label)</text>")
            svg.add("<rect class=\"track\" x=\"\(labelW)\" y=\"\(y + 5)\" width=\"\(plotW)\" height=\"\(rowH - 10)\"/>")
            if row.value > 0 {
                let bw = max(plotW * row.value / maxValue, 1.5)
                svg.add("<rect class=\"mark bar f\(row.color % ChartGeometry.palette)\" x=\"\(labelW)\" y=\"\(y + 5)\" width=\"\(bw)\" height=\"\(rowH - 10)\"><title>\(row.label): \(row.text)</title></rect>")
                marks += 1
            }
            svg.add("<text class=\"value\" x=\"\(labelW + plotW + 8)\" y=\"\(y + rowH / 2 + 4)\">\(row.text)</text>")
        }
        svg.add("</svg>")
        return """
            <figure class="chart" id="\(id)" data-chart="\(kind)" data-marks="\(marks)">\(HTML(bytes: svg.bytes))\
            <figcaption><strong>\(title).</strong> \(caption)</figcaption></figure>

            """
    }
}
