import GRDB
import MoatCore

extension MoatStore {
    /// Inserts or replaces accounts (contract section 2) by `account_id`, in one transaction.
    /// Returns how many were written.
    @discardableResult
    public func importAccounts(_ accounts: [Account]) throws -> Int {
        defer { checkpointer.wrote(bytes: accounts.count * 256) }
        return try pool.write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO accounts
                    (account_id, created_at_ms, org_id, email_domain, payment_fingerprint, verification, program, country, label)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for a in accounts {
                try statement.execute(arguments: [a.accountID, a.createdAt?.milliseconds, a.orgID, a.emailDomain,
                                                  a.paymentFingerprint, a.verification, a.program, a.country, a.label])
            }
            return accounts.count
        }
    }

    /// One account, or nil if it was never imported.
    public func account(id: String) throws -> Account? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM accounts WHERE account_id = ?", arguments: [id]).map(Self.account)
        }
    }

    /// Every imported account, by id.
    public func accounts() throws -> [Account] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM accounts ORDER BY account_id").map(Self.account)
        }
    }

    /// Accounts written (imported or replaced) after the write marked `after`, with the mark to pass next
    /// time: how a running gateway picks up `moat accounts import` without a restart. Start from 0.
    public func accounts(writtenAfter after: Int64) throws -> (accounts: [Account], mark: Int64) {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT rowid AS mark, * FROM accounts WHERE rowid > ? ORDER BY rowid",
                                        arguments: [after])
            let mark: Int64 = rows.last?["mark"] ?? after
            return (rows.map(Self.account), mark)
        }
    }

    static func account(_ row: Row) -> Account {
        let createdAt: Int64? = row["created_at_ms"]
        return Account(accountID: row["account_id"], createdAt: createdAt.map(Timestamp.init(milliseconds:)),
                       orgID: row["org_id"], emailDomain: row["email_domain"], paymentFingerprint: row["payment_fingerprint"],
                       verification: row["verification"], program: row["program"], country: row["country"], label: row["label"])
    }
}
