import Logging
import PostgresNIO

extension PostgresStore {
    /// The schema, as ordered migrations: each an identifier and its statements. Append only.
    static let migrations: [(id: String, statements: [String])] = [
        ("v1-directory", [
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY, secret_sha256 TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL, org_id TEXT, name TEXT,
                created_at DOUBLE PRECISION NOT NULL, revoked_at DOUBLE PRECISION)
            """,
            "CREATE INDEX api_keys_account ON api_keys (account_id)",
            "CREATE INDEX api_keys_revoked ON api_keys (revoked_at) WHERE revoked_at IS NOT NULL",
            """
            CREATE TABLE accounts (
                account_id TEXT PRIMARY KEY, created_at_ms BIGINT, org_id TEXT, email_domain TEXT, payment_fingerprint TEXT,
                verification TEXT, program TEXT, country TEXT, label TEXT, written BIGINT NOT NULL)
            """,
            "CREATE SEQUENCE accounts_written",
            "CREATE INDEX accounts_written_idx ON accounts (written)",
        ]),
        ("v1-limits", [
            // A subject's shared bucket in one dimension (0 requests, 1 input, 2 output tokens per minute,
            // refilled continuously; 3 tokens per UTC day). `level` is what is left to lease; leases in the
            // replicas' hands are not in it.
            """
            CREATE TABLE limit_buckets (
                scope TEXT NOT NULL, subject TEXT NOT NULL, dimension SMALLINT NOT NULL,
                capacity DOUBLE PRECISION NOT NULL, level DOUBLE PRECISION NOT NULL, updated DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (scope, subject, dimension))
            """,
            // The bucket refilled to `now`: per minute continuously, per day anew each UTC day.
            """
            CREATE FUNCTION moat_refilled(dimension SMALLINT, capacity DOUBLE PRECISION, level DOUBLE PRECISION,
                                          updated DOUBLE PRECISION, now DOUBLE PRECISION) RETURNS DOUBLE PRECISION
            LANGUAGE sql IMMUTABLE AS $$
                SELECT CASE
                    WHEN dimension = 3 THEN
                        CASE WHEN floor(now / 86400) > floor(updated / 86400) THEN capacity ELSE LEAST(level, capacity) END
                    ELSE LEAST(capacity, level + GREATEST(0, now - updated) * capacity / 60)
                END
            $$
            """,
            // Leases up to `want`, plus a sixteenth of what would be left as a prefetch (none near the end of
            // the budget, so that what replicas hold unused stays small). Returns the grant and the level after.
            """
            CREATE FUNCTION moat_lease(p_scope TEXT, p_subject TEXT, p_dimension SMALLINT, p_capacity DOUBLE PRECISION,
                                       p_want DOUBLE PRECISION, p_now DOUBLE PRECISION,
                                       OUT granted DOUBLE PRECISION, OUT level DOUBLE PRECISION)
            LANGUAGE plpgsql AS $$
            DECLARE
                avail DOUBLE PRECISION;
            BEGIN
                INSERT INTO limit_buckets AS b (scope, subject, dimension, capacity, level, updated)
                VALUES (p_scope, p_subject, p_dimension, p_capacity, p_capacity, p_now)
                ON CONFLICT (scope, subject, dimension) DO NOTHING;
                SELECT moat_refilled(b.dimension, p_capacity, b.level, b.updated, p_now) INTO avail
                    FROM limit_buckets b WHERE b.scope = p_scope AND b.subject = p_subject AND b.dimension = p_dimension FOR UPDATE;
                IF avail < p_want THEN
                    granted := GREATEST(0, floor(avail));
                ELSE
                    granted := p_want + GREATEST(0, floor((avail - p_want) / 16));
                END IF;
                level := avail - granted;
                UPDATE limit_buckets b SET level = moat_lease.level, capacity = p_capacity, updated = GREATEST(b.updated, p_now)
                    WHERE b.scope = p_scope AND b.subject = p_subject AND b.dimension = p_dimension;
            END
            $$
            """,
            // Gives back an unused lease (positive) or charges usage beyond it (negative).
            """
            CREATE FUNCTION moat_give_back(p_scope TEXT, p_subject TEXT, p_dimension SMALLINT, p_capacity DOUBLE PRECISION,
                                           p_amount DOUBLE PRECISION, p_now DOUBLE PRECISION) RETURNS VOID
            LANGUAGE sql AS $$
                INSERT INTO limit_buckets AS b (scope, subject, dimension, capacity, level, updated)
                VALUES (p_scope, p_subject, p_dimension, p_capacity, LEAST(p_capacity, p_capacity + p_amount), p_now)
                ON CONFLICT (scope, subject, dimension) DO UPDATE SET
                    level = LEAST(p_capacity, moat_refilled(b.dimension, p_capacity, b.level, b.updated, p_now) + p_amount),
                    capacity = p_capacity, updated = GREATEST(b.updated, p_now)
            $$
            """,
        ]),
        ("v2-detection", [
            // The combined exchange log: every replica's log, in the order it was shipped.
            "CREATE TABLE exchange_log (position BIGSERIAL PRIMARY KEY, replica TEXT NOT NULL, line TEXT NOT NULL)",
            "CREATE TABLE log_shipped (replica TEXT PRIMARY KEY, last_row BIGINT NOT NULL)",
            // Verdicts as the detection leader published them; `published` orders changes for followers.
            """
            CREATE TABLE verdicts (
                account_id TEXT PRIMARY KEY, action TEXT NOT NULL, verdict TEXT NOT NULL, campaign TEXT, score DOUBLE PRECISION NOT NULL,
                since DOUBLE PRECISION NOT NULL, reasons TEXT[] NOT NULL, pending_review BOOLEAN NOT NULL, published BIGINT NOT NULL)
            """,
            "CREATE SEQUENCE verdicts_published",
            "CREATE INDEX verdicts_published_idx ON verdicts (published)",
        ]),
        ("v3-operators", [
            // Operators' decisions, shared by the replicas: `operator_state.version` moves with each change of
            // an override or a campaign choice, in the same transaction, so that replicas reload them.
            """
            CREATE TABLE overrides (
                scope TEXT NOT NULL, subject TEXT NOT NULL, action TEXT NOT NULL, reason TEXT NOT NULL, actor TEXT NOT NULL,
                at DOUBLE PRECISION NOT NULL, PRIMARY KEY (scope, subject))
            """,
            """
            CREATE TABLE campaign_choices (
                campaign TEXT PRIMARY KEY, action TEXT NOT NULL, until DOUBLE PRECISION NOT NULL, reason TEXT NOT NULL,
                actor TEXT NOT NULL, at DOUBLE PRECISION NOT NULL)
            """,
            "CREATE TABLE operator_state (id INTEGER PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)",
            "INSERT INTO operator_state (id, version) VALUES (1, 0)",
            // The one audit trail of every replica (append-only); reasons as a JSON array, as in the embedded store.
            """
            CREATE TABLE audit (
                id BIGSERIAL PRIMARY KEY, at DOUBLE PRECISION NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
                subject TEXT NOT NULL, reasons TEXT NOT NULL)
            """,
            "CREATE INDEX audit_subject ON audit (subject, id)",
            // Campaigns as in the report, with their evidence (the detection leader saves them).
            "CREATE TABLE campaigns (id TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at DOUBLE PRECISION NOT NULL)",
            // The combined log's event times (Unix milliseconds), for `moat export` in time order.
            "ALTER TABLE exchange_log ADD COLUMN ts_ms BIGINT",
            """
            UPDATE exchange_log SET ts_ms = floor(extract(epoch FROM ((line::jsonb) ->> 'ts')::timestamptz) * 1000)::bigint
            WHERE ts_ms IS NULL
            """,
            "CREATE INDEX exchange_log_ts ON exchange_log (ts_ms, position)",
        ]),
    ]

    /// The migrations this version of Moat knows, in order.
    public static var knownMigrations: [String] { migrations.map(\.id) }

    /// The key of the advisory lock that serialises migrations (any fixed number; "moat" in ASCII, then 1).
    static let migrationLockKey: Int64 = 0x6D6F_6174_0000_0001

    /// Applies the migrations not yet applied, holding the migration lock on one connection, so that
    /// replicas starting together are safe; refuses a store migrated by a newer Moat.
    func migrate() async throws {
        do {
            try await client.withConnection { c in
                try await c.query("SELECT pg_advisory_lock(\(Self.migrationLockKey))", logger: logger)
                do {
                    try await applyMigrations(on: c)
                } catch {
                    _ = try? await c.query("SELECT pg_advisory_unlock(\(Self.migrationLockKey))", logger: logger)
                    throw error
                }
                try await c.query("SELECT pg_advisory_unlock(\(Self.migrationLockKey))", logger: logger)
            }
        } catch {
            throw wrap(error)
        }
    }

    private func applyMigrations(on c: PostgresConnection) async throws {
        try await c.query("CREATE TABLE IF NOT EXISTS moat_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                          logger: logger)
        var applied: [String] = []
        for try await id in try await c.query("SELECT id FROM moat_migrations ORDER BY applied_at, id", logger: logger).decode(String.self) {
            applied.append(id)
        }
        let known = Set(Self.knownMigrations)
        let unknown = applied.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw PostgresStoreError("the store \(url.description) has a newer schema than this moat knows (migrations \(unknown.sorted().joined(separator: ", "))): upgrade moat, or use a store this version wrote")
        }
        for migration in Self.migrations where !applied.contains(migration.id) {
            try await c.withTransaction(logger: logger) { t in
                for statement in migration.statements {
                    try await t.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await t.query("INSERT INTO moat_migrations (id) VALUES (\(migration.id))", logger: logger)
            }
            logger.notice("store migrated", metadata: ["migration": "\(migration.id)", "store": "\(url.description)"])
        }
    }

    /// The migrations applied to the store, in order; answers only when the store is reachable.
    public func appliedMigrations() async throws -> [String] {
        do {
            var out: [String] = []
            for try await id in try await client.query("SELECT id FROM moat_migrations ORDER BY applied_at, id", logger: logger)
                .decode(String.self) {
                out.append(id)
            }
            return out
        } catch {
            throw wrap(error)
        }
    }
}
