import MoatStore
import Testing
@testable import MoatGateway

/// The lease state machine of replicas that share limits, on an injected clock: grants are handed in as a
/// shared store would give them.
@Suite("Lease ledger")
struct LeaseLedgerTests {
    static let limits = LimitsConfig.Limits(requestsPerMinute: 10)
    static let subject = RateLimiter.Subject(RateLimiter.SubjectID(0), .account, "acct-1", limits)
    static let request = RateLimiter.Request(subjects: .init(account: subject), inputTokens: 0, reservedOutputTokens: 0)

    /// Runs the ledger's steps for one request with the store granting `grant` of each ask.
    static func admit(_ ledger: inout LeaseLedger, now: Double, grant: (LeaseAsk) -> LeaseGrant) -> (RateLimiter.Decision, asked: Int) {
        var asked = 0
        var step = ledger.admit(request, now: now)
        while case .lease(let asks, let needs) = step {
            asked += 1
            step = ledger.leased(request, needs: needs, asks: asks, grants: asks.map(grant), now: now)
        }
        guard case .decided(let d) = step else { fatalError("unreachable") }
        return (d, asked)
    }

    static func admitted(_ d: RateLimiter.Decision) -> Bool {
        if case .admitted = d { return true }
        return false
    }

    @Test("a lease with a prefetch admits the next requests without asking the store")
    func prefetchServesLocally() {
        var ledger = LeaseLedger(idleSeconds: 0.25)
        let first = Self.admit(&ledger, now: 100) { LeaseGrant(granted: $0.want + 4, level: 5) }
        #expect(Self.admitted(first.0) && first.asked == 1)
        for i in 0..<4 {
            let next = Self.admit(&ledger, now: 100 + Double(i) * 0.01) { _ in LeaseGrant(granted: 0, level: 0) }
            #expect(Self.admitted(next.0) && next.asked == 0, "request \(i + 2) asked the store")
        }
        let sixth = Self.admit(&ledger, now: 100.05) { LeaseGrant(granted: $0.want, level: 4) }
        #expect(Self.admitted(sixth.0) && sixth.asked == 1)
    }

    @Test("a budget the store cannot cover is refused, and refused locally until it has refilled")
    func spentBudgetIsRefusedLocally() {
        var ledger = LeaseLedger()
        let refused = Self.admit(&ledger, now: 200) { _ in LeaseGrant(granted: 0, level: 0) }
        guard case .limited(_, let kind, let retry, _) = refused.0 else {
            Issue.record("admitted with nothing granted")
            return
        }
        #expect(kind == .requests)
        // 10 a minute: one request refills in 6 s.
        #expect(abs(retry - 6) < 0.001)
        let again = Self.admit(&ledger, now: 203) { _ in LeaseGrant(granted: 1, level: 0) }
        #expect(!Self.admitted(again.0) && again.asked == 0, "asked the store while the budget was known to be spent")
        let later = Self.admit(&ledger, now: 206.5) { _ in LeaseGrant(granted: 1, level: 0) }
        #expect(Self.admitted(later.0) && later.asked == 1)
    }

    @Test("leases unused for the idle time go back, and only then")
    func idleLeasesGoBack() {
        var ledger = LeaseLedger(idleSeconds: 0.25)
        _ = Self.admit(&ledger, now: 300) { LeaseGrant(granted: $0.want + 3, level: 0) }
        #expect(ledger.held(Self.subject.id, dimension: 0) == 3)
        #expect(ledger.returns(now: 300.1).isEmpty)
        let back = ledger.returns(now: 300.3)
        #expect(back == [LeaseReturn(scope: "account", subject: "acct-1", dimension: 0, capacity: 10, amount: 3)])
        #expect(ledger.held(Self.subject.id, dimension: 0) == 0)
        #expect(ledger.returns(now: 301).isEmpty)
    }

    @Test("usage beyond a reservation is owed to the store at once")
    func overuseIsCharged() {
        let tokens = LimitsConfig.Limits(outputTokensPerMinute: 1_000)
        let subject = RateLimiter.Subject(RateLimiter.SubjectID(1), .account, "acct-2", tokens)
        let request = RateLimiter.Request(subjects: .init(account: subject), inputTokens: 0, reservedOutputTokens: 100)
        var ledger = LeaseLedger(idleSeconds: 10)
        guard case .lease(let asks, let needs) = ledger.admit(request, now: 400) else {
            Issue.record("admitted without a lease")
            return
        }
        #expect(asks.map(\.want) == [100])
        guard case .decided(.admitted(let reservation, _)) = ledger.leased(request, needs: needs, asks: asks,
                                                                           grants: [LeaseGrant(granted: 100, level: 900)], now: 400) else {
            Issue.record("not admitted with its lease")
            return
        }
        ledger.settle(reservation, inputTokens: 0, outputTokens: 160, now: 401)
        #expect(ledger.returns(now: 401) == [LeaseReturn(scope: "account", subject: "acct-2", dimension: 2, capacity: 1_000, amount: -60)])
    }

    @Test("a returned lease that the store did not take is held again")
    func failedReturnIsKept() {
        var ledger = LeaseLedger(idleSeconds: 0)
        _ = Self.admit(&ledger, now: 500) { LeaseGrant(granted: $0.want + 2, level: 0) }
        let back = ledger.returns(now: 501)
        ledger.restore(back)
        #expect(ledger.held(Self.subject.id, dimension: 0) == 2)
    }
}
