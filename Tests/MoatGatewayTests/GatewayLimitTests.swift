import Foundation
import MoatGateway
import Testing

@Suite("moat serve: usage limits")
struct GatewayLimitTests {
    static func tight(_ rpm: Int) -> (inout GatewayConfig) -> Void {
        { c in
            c.limits.tiers["standard"] = .init(account: .init(requestsPerMinute: rpm, inputTokensPerMinute: 1_000_000,
                                                              outputTokensPerMinute: 1_000_000, tokensPerDay: 10_000_000))
        }
    }

    @Test func a429CarriesTheNativeBodyAndHeaders() async throws {
        try await GatewayHarness.with(configure: Self.tight(2)) { h in
            for _ in 0..<2 { #expect(try await h.send("/v1/messages", GatewayHarness.anthropicBody).status == 200) }
            let a = try await h.send("/v1/messages", GatewayHarness.anthropicBody)
            #expect(a.status == 429)
            #expect((a.json?["error"] as? [String: Any])?["type"] as? String == "rate_limit_error")
            #expect(Int(a.headers["retry-after"] ?? "") ?? 0 >= 1)
            #expect(a.headers["anthropic-ratelimit-requests-limit"] == "2")
            #expect(a.headers["anthropic-ratelimit-requests-remaining"] == "0")
            let reset = try #require(a.headers["anthropic-ratelimit-requests-reset"])
            #expect(reset.hasSuffix("Z") && reset.contains("T"), "reset is RFC 3339: \(reset)")
            let o = try await h.send("/v1/chat/completions", GatewayHarness.openAIBody)
            #expect(o.status == 429)
            let error = try #require(o.json?["error"] as? [String: Any])
            #expect(error["code"] as? String == "rate_limit_exceeded")
            #expect(error["type"] as? String == "requests")
            #expect(error.keys.contains("param"))
            #expect(o.headers["x-ratelimit-limit-requests"] == "2")
            #expect(o.headers["x-ratelimit-remaining-requests"] == "0")
            let resetOpenAI = try #require(o.headers["x-ratelimit-reset-requests"])
            #expect(resetOpenAI.hasSuffix("s"), "reset is a duration: \(resetOpenAI)")
            #expect(o.headers["retry-after"] != nil)
        }
    }

    @Test func concurrentRequestsNeverExceedTheLimit() async throws {
        let limit = 10
        try await GatewayHarness.with(configure: Self.tight(limit)) { h in
            let started = ContinuousClock.now
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<60 { group.addTask { try await h.send("/v1/chat/completions", GatewayHarness.openAIBody).status } }
                var all: [Int] = []
                for try await s in group { all.append(s) }
                return all
            }
            // The bucket refills continuously (limit per minute): a slow, loaded run may earn a few more.
            let elapsed = ContinuousClock.now - started
            let refilled = Int(Double(elapsed.components.seconds) * Double(limit) / 60)
            let served = statuses.filter { $0 == 200 }.count
            #expect(served >= limit && served <= limit + refilled, "\(served) served in \(elapsed)")
            #expect(statuses.filter { $0 == 429 }.count == 60 - served)
            #expect(try await h.logged().count == served)
        }
    }

    @Test func outputTokensAreReservedThenCorrected() {
        var limiter = RateLimiter()
        let limits = LimitsConfig.Limits(outputTokensPerMinute: 1_000)
        let subjects = RateLimiter.Subjects(account: .init(.init(0), .account, "a", limits))
        guard case .admitted(let r, _) = limiter.admit(.init(subjects: subjects, inputTokens: 10, reservedOutputTokens: 800), now: 0) else {
            Issue.record("first request refused")
            return
        }
        // 800 reserved: a second request reserving 800 is refused...
        guard case .limited = limiter.admit(.init(subjects: subjects, inputTokens: 10, reservedOutputTokens: 800), now: 0) else {
            Issue.record("second request should be limited while 800 tokens are reserved")
            return
        }
        // ...until the first one ends having used only 50.
        limiter.settle(r, inputTokens: 10, outputTokens: 50, now: 0)
        guard case .admitted = limiter.admit(.init(subjects: subjects, inputTokens: 10, reservedOutputTokens: 800), now: 0) else {
            Issue.record("after correction 950 tokens are free")
            return
        }
    }

    @Test func bucketsRefillWithTheInjectedClock() {
        var limiter = RateLimiter()
        let subjects = RateLimiter.Subjects(key: .init(.init(3), .key, "k", LimitsConfig.Limits(requestsPerMinute: 60)))
        for _ in 0..<60 {
            guard case .admitted = limiter.admit(.init(subjects: subjects, inputTokens: 1, reservedOutputTokens: 1), now: 100) else {
                Issue.record("within the limit")
                return
            }
        }
        guard case .limited(_, let kind, let retry, _) = limiter.admit(.init(subjects: subjects, inputTokens: 1, reservedOutputTokens: 1), now: 100) else {
            Issue.record("61st request in the same instant must be limited")
            return
        }
        #expect(kind == .requests)
        #expect(abs(retry - 1) < 0.01)
        guard case .admitted = limiter.admit(.init(subjects: subjects, inputTokens: 1, reservedOutputTokens: 1), now: 101) else {
            Issue.record("one second later one request is available")
            return
        }
    }

    @Test func dailyCapDoesNotOvershoot() {
        var limiter = RateLimiter()
        let subjects = RateLimiter.Subjects(org: .init(.init(1), .org, "o", LimitsConfig.Limits(tokensPerDay: 1_000)))
        var admitted = 0
        for _ in 0..<20 {
            if case .admitted = limiter.admit(.init(subjects: subjects, inputTokens: 100, reservedOutputTokens: 100), now: 50) {
                admitted += 1
            }
        }
        #expect(admitted == 5)
        #expect(RateLimiter.goDuration(360) == "6m0s")
        #expect(RateLimiter.goDuration(1.5) == "1.5s")
        #expect(RateLimiter.goDuration(0.02) == "20ms")
    }
}

extension GatewayLimitTests {
    /// Subjects are interned once; the limiter's tables grow with new subjects only, and a request charges
    /// each of its (up to three) subjects.
    @Test func internedSubjectsKeepTheirBucketsApart() {
        let table = SubjectTable()
        let a = table.id(.account, "a"), b = table.id(.account, "b")
        #expect(table.id(.account, "a") == a)
        #expect(a != b)
        #expect(table.id(.key, "a") != a, "scopes do not share ids")
        var limiter = RateLimiter()
        let limits = LimitsConfig.Limits(requestsPerMinute: 1)
        let onA = RateLimiter.Request(subjects: .init(account: .init(a, .account, "a", limits)), inputTokens: 1, reservedOutputTokens: 1)
        let onB = RateLimiter.Request(subjects: .init(account: .init(b, .account, "b", limits)), inputTokens: 1, reservedOutputTokens: 1)
        guard case .admitted = limiter.admit(onA, now: 0), case .admitted = limiter.admit(onB, now: 0) else {
            Issue.record("each account has its own bucket")
            return
        }
        guard case .limited(let subject, _, _, _) = limiter.admit(onA, now: 0) else {
            Issue.record("a's bucket is empty")
            return
        }
        #expect(subject.name == "a")
    }
}
