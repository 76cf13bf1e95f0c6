import Foundation
import MoatCore

/// The embedded store as a `DirectoryStore`: the same calls, on SQLite (blocking, which is fine: callers
/// are commands and the admin API, off the event loops).
public struct EmbeddedDirectory: DirectoryStore {
    public let store: MoatStore

    public init(_ store: MoatStore) { self.store = store }

    public var kind: String { "sqlite" }

    public func createKey(account: String, org: String?, name: String?) async throws -> CreatedKey {
        try store.createKey(account: account, org: org, name: name, now: Date())
    }

    public func revokeKey(id: String) async throws -> Bool { try store.revokeKey(id: id, now: Date()) }

    public func keys(account: String?) async throws -> [APIKeyRecord] { try store.keys(account: account) }

    public func key(sha256Hex digest: String) async throws -> APIKeyRecord? { try store.key(sha256Hex: digest) }

    public func revokedKeyDigests(since: Date) async throws -> [String] { try store.revokedKeyDigests(since: since) }

    public func importAccounts(_ accounts: [Account]) async throws -> Int { try store.importAccounts(accounts) }

    public func accounts(writtenAfter after: Int64) async throws -> (accounts: [Account], mark: Int64) {
        try store.accounts(writtenAfter: after)
    }

    public func ping() async throws -> [String] {
        try store.ping()
        return try store.appliedMigrations()
    }
}

extension MoatStore {
    /// A new key's id and secret (`moat-sk-` and 40 random base62 characters), and the secret's SHA-256
    /// (lowercase hex), the only form any store keeps it in.
    public static func newKeySecret() -> (id: String, secret: String, sha256Hex: String) {
        let secret = "moat-sk-" + randomBase62(count: 40)
        return ("key_" + randomBase62(count: 12), secret, hash(secret: secret))
    }

    /// The SHA-256 (lowercase hex) of a key's secret.
    public static func secretDigest(_ secret: String) -> String { hash(secret: secret) }
}
