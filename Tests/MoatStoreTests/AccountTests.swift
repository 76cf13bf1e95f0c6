import MoatCore
import Testing
import MoatStore

@Suite struct AccountTests {
    @Test func importUpserts() throws {
        let store = try MoatStore.temporary()
        let first = [
            Account(accountID: "acct-1", createdAt: Timestamp(milliseconds: 1_776_000_000_000), orgID: "org-1",
                    emailDomain: "example.com", paymentFingerprint: "pf-1", verification: "email", program: "standard",
                    country: "US", label: nil),
            Account(accountID: "acct-2"),
        ]
        #expect(try store.importAccounts(first) == 2)
        #expect(try store.accounts() == first)
        #expect(try store.account(id: "acct-1") == first[0])
        #expect(try store.account(id: "missing") == nil)

        var changed = first[0]
        changed.verification = "business"
        changed.orgID = nil
        #expect(try store.importAccounts([changed, Account(accountID: "acct-3", program: "research")]) == 2)
        #expect(try store.accounts().map(\.accountID) == ["acct-1", "acct-2", "acct-3"])
        #expect(try store.account(id: "acct-1") == changed)
        #expect(try store.account(id: "acct-3")?.program == "research")
    }
}
