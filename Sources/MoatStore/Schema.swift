import GRDB

/// The store's tables, created and upgraded by a `DatabaseMigrator`. Add a new migration for any
/// change; never edit a shipped one.
///
/// Dates of keys, audit entries and overrides are REAL seconds since 2001-01-01T00:00:00Z (exact
/// `Date` round trip); event times of exchanges and accounts are INTEGER milliseconds since the
/// Unix epoch, as in `Timestamp`.
enum Schema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            // Only the SHA-256 of a key's secret is stored; the secret is shown once at creation.
            try db.execute(sql: """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY,
                    secret_sha256 TEXT NOT NULL UNIQUE,
                    account_id TEXT NOT NULL,
                    org_id TEXT,
                    name TEXT,
                    created_at REAL NOT NULL,
                    revoked_at REAL
                );
                CREATE INDEX api_keys_account ON api_keys(account_id);

                CREATE TABLE accounts (
                    account_id TEXT PRIMARY KEY,
                    created_at_ms INTEGER,
                    org_id TEXT,
                    email_domain TEXT,
                    payment_fingerprint TEXT,
                    verification TEXT,
                    program TEXT,
                    country TEXT,
                    label TEXT
                );

                -- The exchange log: each row keeps the contract JSON line (section 1) as written.
                CREATE TABLE exchanges (
                    id TEXT PRIMARY KEY,
                    ts_ms INTEGER NOT NULL,
                    account_id TEXT NOT NULL,
                    line TEXT NOT NULL
                );
                CREATE INDEX exchanges_ts ON exchanges(ts_ms);
                CREATE INDEX exchanges_account ON exchanges(account_id);

                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at REAL NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    reasons TEXT NOT NULL
                );
                CREATE INDEX audit_subject ON audit(subject, id);

                CREATE TABLE overrides (
                    scope TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    action TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    at REAL NOT NULL,
                    PRIMARY KEY (scope, subject)
                );
                """)
        }
        registerIntel(&m)
        m.registerMigration("journal-v1") { db in
            // How far the exchange journal (`ExchangeJournal`) has been ingested into `exchanges`: updated in
            // the same transaction as the rows, so recovery resumes exactly there.
            try db.execute(sql: """
                CREATE TABLE journal_state (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    segment INTEGER NOT NULL,
                    offset INTEGER NOT NULL
                );
                INSERT INTO journal_state (id, segment, offset) VALUES (1, 0, 0);
                """)
        }
        registerCampaignChoices(&m)
        registerState(&m)
        return m
    }
}
