import Foundation
import MoatCore
import MoatStore
import MoatStorePostgres
import MoatTestServers
import Testing

/// The shared store on a real PostgreSQL server that each test starts (initdb on a temporary directory).
/// Under CI a missing server fails these tests; elsewhere they run when PostgreSQL is installed.
@Suite("PostgreSQL store", .enabled(if: PostgresServer.shouldRun, "PostgreSQL's server is not installed"), .serialized)
struct PostgresStoreTests {
    @Test("replicas opening a new store together migrate it once, under the lock; a newer schema is refused")
    func migrationsUnderLockAndSchemaGuard() async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
            for _ in 0..<4 { group.addTask { try await PostgresStore.open(server.url) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        defer { for s in stores { s.close() } }
        for s in stores {
            #expect(try await s.appliedMigrations() == PostgresStore.knownMigrations)
        }
        // A migration this version does not know: written by a newer moat.
        try server.sql("INSERT INTO moat_migrations (id) VALUES ('v99-from-the-future')")
        do {
            let s = try await PostgresStore.open(server.url)
            s.close()
            Issue.record("opened a store with a newer schema")
        } catch {
            #expect("\(error)".contains("newer schema"), "\(error)")
            #expect("\(error)".contains("v99-from-the-future"), "\(error)")
        }
    }

    @Test("keys and accounts mean the same as in the embedded store")
    func keysAndAccounts() async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let store = try await PostgresStore.open(server.url)
        defer { store.close() }
        let created = try await store.createKey(account: "acct-1", org: "org-1", name: "ci")
        #expect(created.secret.hasPrefix("moat-sk-"))
        let found = try await store.key(sha256Hex: MoatStore.secretDigest(created.secret))
        #expect(found?.id == created.id && found?.account == "acct-1" && found?.org == "org-1" && found?.isActive == true)
        #expect(try await store.key(sha256Hex: MoatStore.secretDigest("moat-sk-wrong")) == nil)
        let before = Date().addingTimeInterval(-1)
        #expect(try await store.revokeKey(id: created.id))
        #expect(try await store.revokeKey(id: "key_missing") == false)
        #expect(try await store.key(sha256Hex: MoatStore.secretDigest(created.secret))?.isActive == false)
        #expect(try await store.revokedKeyDigests(since: before) == [MoatStore.secretDigest(created.secret)])
        #expect(try await store.keys(account: "acct-1").map(\.id) == [created.id])

        let a = Account(accountID: "acct-1", createdAt: Timestamp(milliseconds: 1_700_000_000_000), orgID: "org-1", country: "DE")
        #expect(try await store.importAccounts([a, Account(accountID: "acct-2")]) == 2)
        let (all, mark) = try await store.accounts(writtenAfter: 0)
        #expect(all.map(\.accountID) == ["acct-1", "acct-2"])
        #expect(all[0].country == "DE" && all[0].createdAt == a.createdAt)
        #expect(try await store.accounts(writtenAfter: mark).accounts.isEmpty)
        var changed = a
        changed.country = "FR"
        _ = try await store.importAccounts([changed])
        let fresh = try await store.accounts(writtenAfter: mark)
        #expect(fresh.accounts.map(\.country) == ["FR"] && fresh.mark > mark)
    }

    @Test("concurrent leases from two replicas never grant more than the budget; returns make it usable again")
    func leasesNeverOvershoot() async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let a = try await PostgresStore.open(server.url)
        let b = try await PostgresStore.open(server.url)
        defer { a.close(); b.close() }
        let now = 1_800_000_000.0
        let ask = LeaseAsk(scope: "account", subject: "acct-1", dimension: 0, capacity: 10, want: 1)
        let granted = try await withThrowingTaskGroup(of: Double.self) { group in
            for i in 0..<60 {
                let store = i % 2 == 0 ? a : b
                group.addTask { try await store.lease([ask], now: now)[0].granted }
            }
            return try await group.reduce(0, +)
        }
        #expect(granted == 10)
        #expect(try await a.lease([ask], now: now)[0].granted == 0)
        // 3 given back: 3 can be leased again, no more.
        try await b.giveBack([LeaseReturn(scope: "account", subject: "acct-1", dimension: 0, capacity: 10, amount: 3)], now: now)
        #expect(try await a.lease([LeaseAsk(scope: "account", subject: "acct-1", dimension: 0, capacity: 10, want: 5)], now: now)[0].granted == 3)
        // Six seconds refill one request of ten a minute.
        #expect(try await a.lease([ask], now: now + 6.01)[0].granted == 1)
        // Far from the end of a budget a lease takes a prefetch: a sixteenth of what is left.
        let big = LeaseAsk(scope: "account", subject: "acct-big", dimension: 0, capacity: 1_000, want: 1)
        #expect(try await a.lease([big], now: now)[0] == LeaseGrant(granted: 1 + 62, level: 1_000 - 63))
        // The daily cap comes back whole on the next UTC day, not before.
        let day = LeaseAsk(scope: "org", subject: "org-1", dimension: 3, capacity: 100, want: 100)
        #expect(try await a.lease([day], now: now)[0].granted == 100)
        #expect(try await a.lease([day], now: now + 60)[0].granted == 0)
        #expect(try await a.lease([day], now: (now / 86_400).rounded(.down) * 86_400 + 86_400 + 1)[0].granted == 100)
    }

    @Test("overrides, campaign choices, the audit trail and campaigns mean the same as in the embedded store; another replica sees each change by its version")
    func operatorsShared() async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let a = try await PostgresStore.open(server.url)
        let b = try await PostgresStore.open(server.url)
        defer { a.close(); b.close() }
        let start = try #require(try await b.operatorState(after: -1))
        #expect(start.overrides.isEmpty && start.campaignChoices.isEmpty)
        #expect(try await b.operatorState(after: start.version) == nil)

        let at = Date(timeIntervalSince1970: 1_800_000_000.25)
        try await a.setOverride(Override(scope: "account", subject: "acct-1", action: "block", reason: "r", actor: "op", at: at))
        try await a.setOverride(Override(scope: "org", subject: "org-1", action: "allow", at: at))
        await #expect(throws: MoatStoreError.self) { try await a.setOverride(Override(scope: "planet", subject: "x", action: "block")) }
        await #expect(throws: MoatStoreError.self) { try await a.setOverride(Override(scope: "account", subject: "x", action: "explode")) }
        let changed = try #require(try await b.operatorState(after: start.version))
        #expect(changed.overrides.map { "\($0.scope):\($0.subject):\($0.action)" } == ["account:acct-1:block", "org:org-1:allow"])
        #expect(changed.overrides[0].reason == "r" && changed.overrides[0].actor == "op"
                && abs(changed.overrides[0].at.timeIntervalSince1970 - at.timeIntervalSince1970) < 1e-6)
        #expect(try await b.removeOverride(scope: "org", subject: "org-1"))
        #expect(try await b.removeOverride(scope: "org", subject: "org-1") == false)
        let removed = try #require(try await a.operatorState(after: changed.version))
        #expect(removed.overrides.map(\.subject) == ["acct-1"] && removed.version > changed.version)
        // Removing nothing moves no version.
        #expect(try await a.operatorState(after: removed.version) == nil)

        let until = Date(timeIntervalSince1970: 1_900_000_000)
        try await a.setCampaignChoice(CampaignChoice(campaign: "C-0001", action: "fingerprint", until: until, reason: "watch", at: at))
        await #expect(throws: MoatStoreError.self) { try await a.setCampaignChoice(CampaignChoice(campaign: "C-2", action: "block", until: until)) }
        #expect(try await b.campaignChoices().map { "\($0.campaign) \($0.action) \($0.until.timeIntervalSince1970)" } == ["C-0001 fingerprint 1900000000.0"])
        #expect(try await b.operatorState(after: removed.version)?.campaignChoices.count == 1)
        #expect(try await b.removeCampaignChoice(campaign: "C-0001"))
        #expect(try await a.campaignChoices().isEmpty)

        // One trail, in the order written, newest first, filtered as the embedded store filters.
        try await a.appendAudit([AuditEntry(at: at, actor: "operator", action: "override-block", subject: "account:acct-1", reasons: ["one", "two"]),
                                 AuditEntry(at: at, actor: "detection", action: "block", subject: "account:acct-10", reasons: [])])
        try await b.appendAudit(AuditEntry(at: at.addingTimeInterval(5), actor: "dashboard", action: "review-approve", subject: "account:acct_1"))
        #expect(try await a.audit(AuditFilter()).map(\.action) == ["review-approve", "block", "override-block"])
        #expect(try await a.audit(AuditFilter(subject: "acct-1")).map(\.subject) == ["account:acct-10", "account:acct-1"])
        #expect(try await a.audit(limit: 10, subject: "account:acct-1").map(\.reasons) == [["one", "two"]])
        #expect(try await a.audit(AuditFilter(action: "OVERRIDE")).count == 1)
        #expect(try await a.audit(AuditFilter(actor: "detection")).map(\.subject) == ["account:acct-10"])
        #expect(try await a.audit(AuditFilter(since: at.addingTimeInterval(1))).map(\.actor) == ["dashboard"])
        #expect(try await a.audit(AuditFilter(limit: 1)).count == 1)

        try await a.saveCampaigns([StoredCampaign(id: "C-0001", json: #"{"id":"C-0001"}"#), StoredCampaign(id: "C-0002", json: #"{"id":"C-0002"}"#)])
        try await a.saveCampaigns([StoredCampaign(id: "C-0002", json: #"{"id":"C-0002","x":1}"#)])
        #expect(try await b.campaignBodies() == [StoredCampaign(id: "C-0002", json: #"{"id":"C-0002","x":1}"#)])
    }

    @Test("the combined log exports in event-time order, ties in the order shipped, from --since on")
    func combinedLogExportOrder() async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let store = try await PostgresStore.open(server.url)
        defer { store.close() }
        try await store.ship(replica: "a", rows: [LoggedRow(tsMilliseconds: 3_000, line: "a3"), LoggedRow(tsMilliseconds: 1_000, line: "a1")], through: 2)
        try await store.ship(replica: "b", rows: [LoggedRow(tsMilliseconds: 1_000, line: "b1"), LoggedRow(tsMilliseconds: 2_000, line: "b2")], through: 2)
        var all: [String] = []
        try await store.exportCombinedLog(since: nil) { all.append($0) }
        #expect(all == ["a1", "b1", "b2", "a3"])
        var since: [String] = []
        try await store.exportCombinedLog(since: Timestamp(milliseconds: 2_000)) { since.append($0) }
        #expect(since == ["b2", "a3"])
        #expect(try await store.shippedRow(replica: "b") == 2)
    }

    @Test("a leader following the combined log while two replicas ship at once sees every row exactly once")
    func followerSeesEveryRowShippedConcurrently() async throws {
        let server = try PostgresServer()
        defer { server.stop() }
        let shippers = [try await PostgresStore.open(server.url), try await PostgresStore.open(server.url)]
        let follower = try await PostgresStore.open(server.url)
        defer { for s in shippers + [follower] { s.close() } }
        let batches = 150, perBatch = 4
        let seen = try await withThrowingTaskGroup(of: [String].self) { group in
            for (r, store) in shippers.enumerated() {
                group.addTask {
                    for b in 0..<batches {
                        let rows = (0..<perBatch).map { LoggedRow(tsMilliseconds: Int64(b), line: "r\(r)-\(b)-\($0)") }
                        try await store.ship(replica: "r\(r)", rows: rows, through: Int64((b + 1) * perBatch))
                    }
                    return []
                }
            }
            // The leader's follower: reads after the last position it saw, as `combinedLog` is used live.
            group.addTask {
                var lines: [String] = []
                var after: Int64 = 0
                let total = 2 * batches * perBatch
                let deadline = Date().addingTimeInterval(30)
                while lines.count < total, Date() < deadline {
                    let page = try await follower.combinedLog(after: after, limit: 50)
                    lines += page.lines
                    after = page.last
                    if page.lines.isEmpty { try await Task.sleep(for: .milliseconds(2)) }
                }
                return lines
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let expected = Set((0..<2).flatMap { r in (0..<batches).flatMap { b in (0..<perBatch).map { "r\(r)-\(b)-\($0)" } } })
        #expect(seen.count == expected.count, "the follower saw \(seen.count) of \(expected.count) rows")
        let missing = expected.subtracting(seen)
        #expect(missing.isEmpty, "never seen: \(missing.sorted().prefix(10))")
    }
}
