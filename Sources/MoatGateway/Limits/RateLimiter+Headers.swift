import Foundation
import MoatCore

/// Rate-limit headers in each API's native form.
extension RateLimiter.Status {
    /// `anthropic-ratelimit-{requests|tokens|input-tokens|output-tokens}-{limit|remaining|reset}`, reset as RFC 3339.
    public func anthropicHeaders(now: Double) -> [(String, String)] {
        var out: [(String, String)] = []
        func add(_ name: String, _ w: RateLimiter.Window?) {
            guard let w else { return }
            out.append(("anthropic-ratelimit-\(name)-limit", String(w.limit)))
            out.append(("anthropic-ratelimit-\(name)-remaining", String(w.remaining)))
            out.append(("anthropic-ratelimit-\(name)-reset", Timestamp(seconds: (now + w.resetSeconds).rounded(.up)).rfc3339NoFraction))
        }
        add("requests", requests)
        add("tokens", tokens)
        add("input-tokens", inputTokens)
        add("output-tokens", outputTokens)
        return out
    }

    /// `x-ratelimit-{limit|remaining|reset}-{requests|tokens}`, reset as a duration such as `6m0s`.
    public func openAIHeaders() -> [(String, String)] {
        var out: [(String, String)] = []
        func add(_ name: String, _ w: RateLimiter.Window?) {
            guard let w else { return }
            out.append(("x-ratelimit-limit-\(name)", String(w.limit)))
            out.append(("x-ratelimit-remaining-\(name)", String(w.remaining)))
            out.append(("x-ratelimit-reset-\(name)", RateLimiter.goDuration(w.resetSeconds)))
        }
        add("requests", requests)
        add("tokens", tokens)
        return out
    }
}

extension RateLimiter {
    /// `6m0s`, `1.5s`, `20ms`, `1h2m3s`: the duration format OpenAI's headers use.
    public static func goDuration(_ seconds: Double) -> String {
        if seconds <= 0 { return "0s" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded(.up)))ms" }
        var s = seconds
        var out = ""
        let hours = Int(s / 3600)
        if hours > 0 { out += "\(hours)h"; s -= Double(hours) * 3600 }
        let minutes = Int(s / 60)
        if minutes > 0 || hours > 0 { out += "\(minutes)m"; s -= Double(minutes) * 60 }
        let rounded = (s * 1000).rounded() / 1000
        out += rounded == rounded.rounded() ? "\(Int(rounded))s" : "\(rounded)s"
        return out
    }
}

extension Timestamp {
    /// `2026-04-22T08:15:03Z`
    var rfc3339NoFraction: String {
        let full = rfc3339
        guard let dot = full.lastIndex(of: ".") else { return full }
        return String(full[..<dot]) + "Z"
    }
}
