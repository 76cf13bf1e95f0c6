import Foundation
import MoatCore
import MoatStore
import PostgresNIO

/// Keys and accounts in PostgreSQL, with the same meaning as in the embedded store.
extension PostgresStore: DirectoryStore {
    public var kind: String { "postgres" }

    public func createKey(account: String, org: String?, name: String?) async throws -> CreatedKey {
        let (id, secret, digest) = MoatStore.newKeySecret()
        let now = Date()
        try await execute("""
            INSERT INTO api_keys (id, secret_sha256, account_id, org_id, name, created_at)
            VALUES (\(id), \(digest), \(account), \(org), \(name), \(now.timeIntervalSince1970))
            """)
        return CreatedKey(id: id, secret: secret, record: APIKeyRecord(id: id, account: account, org: org, name: name, createdAt: now))
    }

    public func revokeKey(id: String) async throws -> Bool {
        let now = Date().timeIntervalSince1970
        do {
            let rows = try await client.query("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, \(now)) WHERE id = \(id) RETURNING id",
                                              logger: logger)
            var n = 0
            for try await _ in rows.decode(String.self) { n += 1 }
            return n > 0
        } catch {
            throw wrap(error)
        }
    }

    public func keys(account: String?) async throws -> [APIKeyRecord] {
        let query: PostgresQuery = account.map {
            "SELECT id, account_id, org_id, name, created_at, revoked_at FROM api_keys WHERE account_id = \($0) ORDER BY created_at, id"
        } ?? "SELECT id, account_id, org_id, name, created_at, revoked_at FROM api_keys ORDER BY created_at, id"
        return try await keyRecords(query)
    }

    public func key(sha256Hex digest: String) async throws -> APIKeyRecord? {
        try await keyRecords("SELECT id, account_id, org_id, name, created_at, revoked_at FROM api_keys WHERE secret_sha256 = \(digest)").first
    }

    private func keyRecords(_ query: PostgresQuery) async throws -> [APIKeyRecord] {
        do {
            var out: [APIKeyRecord] = []
            for try await (id, account, org, name, created, revoked) in try await client.query(query, logger: logger)
                .decode((String, String, String?, String?, Double, Double?).self) {
                out.append(APIKeyRecord(id: id, account: account, org: org, name: name, createdAt: Date(timeIntervalSince1970: created),
                                        revokedAt: revoked.map(Date.init(timeIntervalSince1970:))))
            }
            return out
        } catch {
            throw wrap(error)
        }
    }

    public func revokedKeyDigests(since: Date) async throws -> [String] {
        do {
            var out: [String] = []
            for try await d in try await client.query("SELECT secret_sha256 FROM api_keys WHERE revoked_at >= \(since.timeIntervalSince1970)",
                                                      logger: logger).decode(String.self) {
                out.append(d)
            }
            return out
        } catch {
            throw wrap(error)
        }
    }

    public func importAccounts(_ accounts: [Account]) async throws -> Int {
        do {
            try await client.withTransaction(logger: logger) { c in
                for a in accounts {
                    try await c.query("""
                        INSERT INTO accounts (account_id, created_at_ms, org_id, email_domain, payment_fingerprint, verification, program,
                                              country, label, written)
                        VALUES (\(a.accountID), \(a.createdAt?.milliseconds), \(a.orgID), \(a.emailDomain), \(a.paymentFingerprint),
                                \(a.verification), \(a.program), \(a.country), \(a.label), nextval('accounts_written'))
                        ON CONFLICT (account_id) DO UPDATE SET
                            created_at_ms = EXCLUDED.created_at_ms, org_id = EXCLUDED.org_id, email_domain = EXCLUDED.email_domain,
                            payment_fingerprint = EXCLUDED.payment_fingerprint, verification = EXCLUDED.verification,
                            program = EXCLUDED.program, country = EXCLUDED.country, label = EXCLUDED.label, written = EXCLUDED.written
                        """, logger: logger)
                }
            }
            return accounts.count
        } catch {
            throw wrap(error)
        }
    }

    public func accounts(writtenAfter after: Int64) async throws -> (accounts: [Account], mark: Int64) {
        do {
            var out: [Account] = []
            var mark = after
            let rows = try await client.query("""
                SELECT account_id, created_at_ms, org_id, email_domain, payment_fingerprint, verification, program, country, label, written
                FROM accounts WHERE written > \(after) ORDER BY written
                """, logger: logger)
            for try await (id, created, org, domain, payment, verification, program, country, label, written) in rows
                .decode((String, Int64?, String?, String?, String?, String?, String?, String?, String?, Int64).self) {
                out.append(Account(accountID: id, createdAt: created.map(Timestamp.init(milliseconds:)), orgID: org, emailDomain: domain,
                                   paymentFingerprint: payment, verification: verification, program: program, country: country, label: label))
                mark = written
            }
            return (out, mark)
        } catch {
            throw wrap(error)
        }
    }

    public func ping() async throws -> [String] {
        try await appliedMigrations()
    }
}
