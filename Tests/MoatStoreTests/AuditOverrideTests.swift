import Foundation
import Testing
import MoatStore

@Suite struct AuditOverrideTests {
    @Test func auditRoundTrip() throws {
        let store = try MoatStore.temporary()
        let t = Date(timeIntervalSinceReferenceDate: 797_000_000.123456)
        let entries = [
            AuditEntry(at: t, actor: "policy", action: "block", subject: "acct-1", reasons: ["campaign C-0001", "shared payment \"pf\""]),
            AuditEntry(at: t.addingTimeInterval(1), actor: "alice", action: "override", subject: "acct-2", reasons: []),
            AuditEntry(at: t.addingTimeInterval(2), actor: "policy", action: "throttle", subject: "acct-1", reasons: ["suspicious"]),
        ]
        for e in entries { try store.appendAudit(e) }
        #expect(try store.audit() == entries.reversed())
        #expect(try store.audit(limit: 1) == [entries[2]])
        #expect(try store.audit(subject: "acct-1") == [entries[2], entries[0]])
        #expect(try store.audit(subject: "nobody").isEmpty)
    }

    @Test func overridesUpsertAndRemove() throws {
        let store = try MoatStore.temporary()
        let t = Date(timeIntervalSince1970: 1_776_000_000.5)
        let allow = Override(scope: "org", subject: "org-1", action: "allow", reason: "known customer", actor: "alice", at: t)
        let block = Override(scope: "account", subject: "acct-9", action: "block", reason: "confirmed", actor: "bob", at: t)
        try store.setOverride(allow)
        try store.setOverride(block)
        #expect(try store.overrides() == [block, allow])

        var relaxed = block
        relaxed.action = "withhold_reasoning"
        relaxed.at = t.addingTimeInterval(5)
        try store.setOverride(relaxed)
        #expect(try store.overrides() == [relaxed, allow])

        #expect(try store.removeOverride(scope: "account", subject: "acct-9"))
        #expect(try store.removeOverride(scope: "account", subject: "acct-9") == false)
        #expect(try store.overrides() == [allow])

        #expect(throws: MoatStoreError.self) { try store.setOverride(Override(scope: "planet", subject: "x", action: "allow")) }
        #expect(throws: MoatStoreError.self) { try store.setOverride(Override(scope: "key", subject: "x", action: "nuke")) }
    }
}
