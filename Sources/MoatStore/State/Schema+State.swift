import GRDB

extension Schema {
    /// Gateway state that must survive a restart: what the gateway enforces on each account (verdicts,
    /// with their reasons and review state), the campaigns detection found with their evidence, and the
    /// usage-limit buckets.
    static func registerState(_ m: inout DatabaseMigrator) {
        m.registerMigration("state-v1") { db in
            try db.execute(sql: """
                -- The current enforcement of each account detection has a verdict on (the audit trail keeps the history).
                CREATE TABLE verdicts (
                    account_id TEXT PRIMARY KEY,
                    action TEXT NOT NULL,
                    verdict TEXT NOT NULL,
                    campaign TEXT,
                    score REAL NOT NULL,
                    since REAL NOT NULL,
                    reasons TEXT NOT NULL,
                    pending_review INTEGER NOT NULL,
                    updated_at REAL NOT NULL
                );

                -- Campaigns as in the report (contract section 3), with their evidence, as a JSON object each.
                CREATE TABLE campaigns (
                    id TEXT PRIMARY KEY,
                    body TEXT NOT NULL,
                    updated_at REAL NOT NULL
                );

                -- Usage-limit buckets by subject (`key`, `account`, `org` and its id) and dimension: 0 requests,
                -- 1 input tokens, 2 output tokens per minute (level and the Unix time it was taken at), 3 the
                -- daily token cap (tokens used, UTC day number).
                CREATE TABLE limit_buckets (
                    scope TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    dimension INTEGER NOT NULL,
                    level REAL NOT NULL,
                    at REAL NOT NULL,
                    PRIMARY KEY (scope, subject, dimension)
                );

                -- Small named values: when the limit buckets were last saved, ...
                CREATE TABLE gateway_state (
                    name TEXT PRIMARY KEY,
                    value REAL NOT NULL
                );
                """)
        }
    }
}
