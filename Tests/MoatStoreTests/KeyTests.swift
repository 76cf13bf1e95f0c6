import Foundation
import Testing
@testable import MoatStore

@Suite struct KeyTests {
    @Test func createLookupRevoke() throws {
        let store = try MoatStore.temporary()
        let now = Date(timeIntervalSince1970: 1_776_000_000.123)
        let created = try store.createKey(account: "acct-1", org: "org-1", name: "ci", now: now)

        #expect(created.secret.hasPrefix("moat-sk-"))
        #expect(created.secret.count == "moat-sk-".count + 40)
        #expect(created.id.hasPrefix("key_") && created.id.count == 16)
        #expect(created.record == APIKeyRecord(id: created.id, account: "acct-1", org: "org-1", name: "ci", createdAt: now))

        // Only the hash is stored: no column of the table holds the secret.
        let stored = try store.storedKeyRow(id: created.id)
        #expect(!stored.isEmpty)
        for (column, value) in stored { #expect(!value.contains(created.secret), "column \(column) holds the secret") }
        #expect(stored["secret_sha256"] == MoatStore.hash(secret: created.secret))

        let found = try #require(try store.key(secret: created.secret))
        #expect(found == created.record)
        #expect(found.isActive)
        #expect(try store.key(secret: created.secret + "x") == nil)
        #expect(try store.key(secret: "moat-sk-wrong") == nil)

        let later = now.addingTimeInterval(60)
        #expect(try store.revokeKey(id: created.id, now: later))
        #expect(try store.revokeKey(id: "key_unknown000") == false)
        let revoked = try #require(try store.key(secret: created.secret))
        #expect(revoked.revokedAt == later)
        #expect(!revoked.isActive)
        // Revoking again keeps the first revocation time.
        #expect(try store.revokeKey(id: created.id, now: later.addingTimeInterval(60)))
        #expect(try store.key(secret: created.secret)?.revokedAt == later)
    }

    @Test func listsKeysByAccount() throws {
        let store = try MoatStore.temporary()
        let t = Date(timeIntervalSince1970: 1_776_000_000)
        let a1 = try store.createKey(account: "a", now: t)
        let b = try store.createKey(account: "b", now: t.addingTimeInterval(1))
        let a2 = try store.createKey(account: "a", now: t.addingTimeInterval(2))
        #expect(try store.keys().map(\.id) == [a1.id, b.id, a2.id])
        #expect(try store.keys(account: "a").map(\.id) == [a1.id, a2.id])
        #expect(try store.keys(account: "none").isEmpty)
        #expect(Set([a1.secret, b.secret, a2.secret]).count == 3)
    }

    @Test func hashIsSHA256Hex() {
        #expect(MoatStore.hash(secret: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
