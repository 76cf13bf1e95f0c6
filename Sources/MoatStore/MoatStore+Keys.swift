import Crypto
import Foundation
import GRDB

/// A key as stored: never the secret, never its hash.
public struct APIKeyRecord: Sendable, Equatable, Codable {
    public var id: String
    public var account: String
    public var org: String?
    public var name: String?
    public var createdAt: Date
    public var revokedAt: Date?
    public var isActive: Bool { revokedAt == nil }

    public init(id: String, account: String, org: String? = nil, name: String? = nil, createdAt: Date,
                revokedAt: Date? = nil) {
        self.id = id
        self.account = account
        self.org = org
        self.name = name
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// A newly created key with its secret, which exists only here: show it once.
public struct CreatedKey: Sendable {
    public var id: String
    public var secret: String
    public var record: APIKeyRecord

    public init(id: String, secret: String, record: APIKeyRecord) {
        self.id = id
        self.secret = secret
        self.record = record
    }
}

extension MoatStore {
    /// Creates a key for `account`. The secret (`moat-sk-` and 40 random base62 characters) is
    /// returned once; the store keeps only its SHA-256.
    public func createKey(account: String, org: String? = nil, name: String? = nil, now: Date = Date()) throws
        -> CreatedKey
    {
        let id = "key_" + Self.randomBase62(count: 12)
        let secret = "moat-sk-" + Self.randomBase62(count: 40)
        let record = APIKeyRecord(id: id, account: account, org: org, name: name, createdAt: now)
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO api_keys (id, secret_sha256, account_id, org_id, name, created_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [id, Self.hash(secret: secret), account, org, name, now.storeValue])
        }
        return CreatedKey(id: id, secret: secret, record: record)
    }

    /// Revokes a key; a revoked key keeps its first revocation time. Returns false for an unknown id.
    public func revokeKey(id: String, now: Date = Date()) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                           arguments: [now.storeValue, id])
            return db.changesCount > 0
        }
    }

    /// The key whose secret is `secret`, found by the secret's SHA-256; revoked keys are returned with
    /// `revokedAt` set. Nil when no key has that secret.
    public func key(secret: String) throws -> APIKeyRecord? {
        try key(sha256Hex: Self.hash(secret: secret))
    }

    /// The key whose secret's SHA-256 (lowercase hex) is `digest`; nil when none.
    public func key(sha256Hex digest: String) throws -> APIKeyRecord? {
        // One statement, atomic on its own: no need for the explicit transaction of `read`.
        try pool.unsafeRead { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT \(Self.keyColumns) FROM api_keys WHERE secret_sha256 = ?"),
                             arguments: [digest]).map(Self.keyRecord)
        }
    }

    /// SHA-256 digests (hex) of the keys revoked at or after `since`, for caches to forget.
    public func revokedKeyDigests(since: Date) throws -> [String] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT secret_sha256 FROM api_keys WHERE revoked_at >= ?", arguments: [since.storeValue])
        }
    }

    /// All keys, or the keys of one account, oldest first.
    public func keys(account: String? = nil) throws -> [APIKeyRecord] {
        try pool.read { db in
            if let account {
                return try Row.fetchAll(db, sql: "SELECT \(Self.keyColumns) FROM api_keys WHERE account_id = ? ORDER BY created_at, id",
                                        arguments: [account]).map(Self.keyRecord)
            }
            return try Row.fetchAll(db, sql: "SELECT \(Self.keyColumns) FROM api_keys ORDER BY created_at, id")
                .map(Self.keyRecord)
        }
    }

    /// Lowercase hex SHA-256 of a secret's UTF-8 bytes: the only form in which secrets are stored.
    static func hash(secret: String) -> String {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(secret.utf8)) {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `count` characters drawn uniformly from [0-9A-Za-z] by the system's secure generator.
    static func randomBase62(count: Int) -> String {
        let alphabet: [UInt8] = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
        var rng = SystemRandomNumberGenerator()
        var out: [UInt8] = []
        out.reserveCapacity(count)
        for _ in 0..<count { out.append(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static let keyColumns = "id, account_id, org_id, name, created_at, revoked_at"

    static func keyRecord(_ row: Row) -> APIKeyRecord {
        let revoked: Double? = row["revoked_at"]
        return APIKeyRecord(id: row["id"], account: row["account_id"], org: row["org_id"], name: row["name"],
                            createdAt: Date(storeValue: row["created_at"]), revokedAt: revoked.map(Date.init(storeValue:)))
    }
}

extension MoatStore {
    /// Every column of a key's stored row as text, for tests that check what is kept.
    func storedKeyRow(id: String) throws -> [String: String] {
        try pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM api_keys WHERE id = ?", arguments: [id]) else { return [:] }
            var out: [String: String] = [:]
            for (column, value) in row { out[column] = String.fromDatabaseValue(value) ?? value.description }
            return out
        }
    }
}
