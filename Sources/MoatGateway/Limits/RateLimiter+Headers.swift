import Foundation
import MoatCore

/// Rate-limit headers in each API's native form. Header names are static strings; values are formatted
/// without interpolation (this runs on every answered request).
extension RateLimiter.Status {
    static let anthropicNames: [(String, String, String)] = ["requests", "tokens", "input-tokens", "output-tokens"].map {
        ("anthropic-ratelimit-\($0)-limit", "anthropic-ratelimit-\($0)-remaining", "anthropic-ratelimit-\($0)-reset")
    }
    static let openAINames: [(String, String, String)] = ["requests", "tokens"].map {
        ("x-ratelimit-limit-\($0)", "x-ratelimit-remaining-\($0)", "x-ratelimit-reset-\($0)")
    }

    /// `anthropic-ratelimit-{requests|tokens|input-tokens|output-tokens}-{limit|remaining|reset}`, reset as RFC 3339.
    public func anthropicHeaders(now: Double) -> [(String, String)] {
        var out: [(String, String)] = []
        out.reserveCapacity(12)
        for (i, w) in [requests, tokens, inputTokens, outputTokens].enumerated() {
            guard let w else { continue }
            let names = Self.anthropicNames[i]
            out.append((names.0, String(w.limit)))
            out.append((names.1, String(w.remaining)))
            out.append((names.2, Timestamp(seconds: (now + w.resetSeconds).rounded(.up)).rfc3339NoFraction))
        }
        return out
    }

    /// `x-ratelimit-{limit|remaining|reset}-{requests|tokens}`, reset as a duration such as `6m0s`.
    public func openAIHeaders() -> [(String, String)] {
        var out: [(String, String)] = []
        out.reserveCapacity(6)
        for (i, w) in [requests, tokens].enumerated() {
            guard let w else { continue }
            let names = Self.openAINames[i]
            out.append((names.0, String(w.limit)))
            out.append((names.1, String(w.remaining)))
            out.append((names.2, RateLimiter.goDuration(w.resetSeconds)))
        }
        return out
    }
}

extension RateLimiter {
    /// `6m0s`, `1.5s`, `20ms`, `1h2m3s`: the duration format OpenAI's headers use.
    public static func goDuration(_ seconds: Double) -> String {
        if seconds <= 0 { return "0s" }
        var out: [UInt8] = []
        out.reserveCapacity(12)
        func digits(_ v: Int) { JSONBuffer.appendInt(Int64(v), to: &out) }
        if seconds < 1 {
            digits(Int((seconds * 1000).rounded(.up)))
            out.append(UInt8(ascii: "m")); out.append(UInt8(ascii: "s"))
            return String(decoding: out, as: UTF8.self)
        }
        // Whole milliseconds, rounded to the nearest.
        var ms = Int((seconds * 1000).rounded())
        let hours = ms / 3_600_000
        ms -= hours * 3_600_000
        let minutes = ms / 60_000
        ms -= minutes * 60_000
        if hours > 0 { digits(hours); out.append(UInt8(ascii: "h")) }
        if minutes > 0 || hours > 0 { digits(minutes); out.append(UInt8(ascii: "m")) }
        digits(ms / 1000)
        var fraction = ms % 1000
        if fraction > 0 {
            out.append(UInt8(ascii: "."))
            var width = 3
            while fraction % 10 == 0 { fraction /= 10; width -= 1 }
            let text = Array(String(fraction).utf8)
            out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - text.count))
            out.append(contentsOf: text)
        }
        out.append(UInt8(ascii: "s"))
        return String(decoding: out, as: UTF8.self)
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
