import Foundation
import MoatCore
import MoatStore

/// The embedded store's keys and accounts for the gateway: each call on NIO's thread pool, so that SQLite
/// never blocks an event loop (request tasks run on them).
struct OffLoopDirectory: DirectoryStore {
    let store: MoatStore

    var kind: String { "sqlite" }

    func createKey(account: String, org: String?, name: String?) async throws -> CreatedKey {
        try await offLoop { [store] in try store.createKey(account: account, org: org, name: name) }
    }

    func revokeKey(id: String) async throws -> Bool {
        try await offLoop { [store] in try store.revokeKey(id: id) }
    }

    func keys(account: String?) async throws -> [APIKeyRecord] {
        try await offLoop { [store] in try store.keys(account: account) }
    }

    func key(sha256Hex digest: String) async throws -> APIKeyRecord? {
        try await offLoop { [store] in try store.key(sha256Hex: digest) }
    }

    func revokedKeyDigests(since: Date) async throws -> [String] {
        try await offLoop { [store] in try store.revokedKeyDigests(since: since) }
    }

    func importAccounts(_ accounts: [Account]) async throws -> Int {
        try await offLoop { [store] in try store.importAccounts(accounts) }
    }

    func accounts(writtenAfter after: Int64) async throws -> (accounts: [Account], mark: Int64) {
        try await offLoop { [store] in try store.accounts(writtenAfter: after) }
    }

    func ping() async throws -> [String] {
        try await offLoop { [store] in
            try store.ping()
            return try store.appliedMigrations()
        }
    }
}
