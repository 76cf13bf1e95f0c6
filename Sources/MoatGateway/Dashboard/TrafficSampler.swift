import Foundation
import Synchronization

/// Request counts read from the gateway's own Prometheus counters (`moat_requests_total` by api, status
/// and outcome), sampled each time the overview asks, so the dashboard shows the live request rate and
/// refusals by reason without a second set of counters on the request path.
final class TrafficSampler: Sendable {
    struct Counts: Sendable, Equatable {
        var total: Double = 0
        /// Refused requests (status 400 and above) by outcome and status.
        var refusals: [Refusal: Double] = [:]
    }

    struct Refusal: Hashable, Sendable, Comparable {
        var outcome: String
        var status: Int
        static func < (a: Refusal, b: Refusal) -> Bool { (a.outcome, a.status) < (b.outcome, b.status) }
    }

    struct Sample: Sendable {
        var at: Date
        var total: Double
    }

    private let samples = Mutex([Sample]())
    static let kept = 240

    /// Records `counts` at `now`; returns the request rate (per second) over the last `window` seconds
    /// (nil until two samples at least half a second apart exist) and recent rates between samples.
    func record(_ counts: Counts, now: Date = Date(), window: TimeInterval = 10) -> (rate: Double?, history: [Double]) {
        samples.withLock { s in
            if let last = s.last, now.timeIntervalSince(last.at) < 0.25 {
                s[s.count - 1] = Sample(at: last.at, total: counts.total)
            } else {
                s.append(Sample(at: now, total: counts.total))
            }
            if s.count > Self.kept { s.removeFirst(s.count - Self.kept) }
            let current = s[s.count - 1]
            let base = s.last { now.timeIntervalSince($0.at) >= window } ?? s.first!
            let dt = current.at.timeIntervalSince(base.at)
            let rate: Double? = dt >= 0.5 ? max(0, current.total - base.total) / dt : nil
            var history: [Double] = []
            for i in s.indices.dropFirst().suffix(60) {
                let d = s[i].at.timeIntervalSince(s[i - 1].at)
                history.append(d > 0 ? max(0, s[i].total - s[i - 1].total) / d : 0)
            }
            return (rate, history)
        }
    }

    /// Parses the `moat_requests_total` series of a Prometheus text exposition.
    static func parse(_ text: String) -> Counts {
        var counts = Counts()
        let prefix = "moat_requests_total{"
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
            guard let close = line.lastIndex(of: "}"), let value = Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)) else { continue }
            let labels = Self.labels(line[line.index(line.startIndex, offsetBy: prefix.count)..<close])
            counts.total += value
            if let status = labels["status"].flatMap({ Int($0) }), status >= 400 {
                counts.refusals[Refusal(outcome: labels["outcome"] ?? "?", status: status), default: 0] += value
            }
        }
        return counts
    }

    /// `a="x",b="y"` as a dictionary (label values here never hold quotes or commas).
    static func labels(_ s: Substring) -> [String: String] {
        var out: [String: String] = [:]
        for pair in s.split(separator: ",") {
            guard let eq = pair.firstIndex(of: "=") else { continue }
            let name = pair[..<eq].trimmingCharacters(in: .whitespaces)
            out[name] = pair[pair.index(after: eq)...].trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        }
        return out
    }
}
