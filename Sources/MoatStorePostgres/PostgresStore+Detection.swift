import Foundation
import Logging
import MoatCore
import MoatStore
import PostgresNIO

/// The combined exchange log, published verdicts and detection leadership in PostgreSQL.
extension PostgresStore: SharedDetectionStore {
    /// The advisory lock of detection leadership (any fixed number: "moat" in ASCII, then 2).
    static let leadershipLockKey: Int64 = 0x6D6F_6174_0000_0002
    /// The transaction lock that orders shipments. `position` comes from a sequence when a row is inserted, but
    /// rows become visible when their transaction commits: two replicas shipping at once could commit positions
    /// out of order, and the leader, reading past the higher one, would never see the lower ones. Holding this
    /// lock from before the insert until the commit makes positions visible in order.
    static let shippingLockKey: Int64 = 0x6D6F_6174_0000_0003

    public func shippedRow(replica: String) async throws -> Int64 {
        do {
            for try await row in try await client.query("SELECT last_row FROM log_shipped WHERE replica = \(replica)", logger: logger)
                .decode(Int64.self) {
                return row
            }
            return 0
        } catch {
            throw wrap(error)
        }
    }

    public func ship(replica: String, rows: [LoggedRow], through row: Int64) async throws {
        let lines = rows.map(\.line)
        let times = rows.map(\.tsMilliseconds)
        do {
            try await client.withTransaction(logger: logger) { c in
                if !rows.isEmpty {
                    for try await _ in try await c.query("SELECT pg_advisory_xact_lock(\(Self.shippingLockKey))", logger: logger) {}
                    try await c.query("""
                        INSERT INTO exchange_log (replica, ts_ms, line)
                        SELECT \(replica), t, l FROM unnest(\(times)::bigint[], \(lines)::text[]) WITH ORDINALITY AS r(t, l, n) ORDER BY n
                        """, logger: logger)
                }
                try await c.query("""
                    INSERT INTO log_shipped (replica, last_row) VALUES (\(replica), \(row))
                    ON CONFLICT (replica) DO UPDATE SET last_row = EXCLUDED.last_row
                    """, logger: logger)
            }
        } catch {
            throw wrap(error)
        }
    }

    public func combinedLogSize() async throws -> Int64 {
        do {
            for try await n in try await client.query("SELECT count(*) FROM exchange_log", logger: logger).decode(Int64.self) {
                return n
            }
            return 0
        } catch {
            throw wrap(error)
        }
    }

    public func combinedLog(after: Int64, limit: Int) async throws -> (lines: [String], last: Int64) {
        do {
            var lines: [String] = []
            var last = after
            for try await (position, line) in try await client.query(
                "SELECT position, line FROM exchange_log WHERE position > \(after) ORDER BY position LIMIT \(limit)", logger: logger)
                .decode((Int64, String).self) {
                lines.append(line)
                last = position
            }
            return (lines, last)
        } catch {
            throw wrap(error)
        }
    }

    public func exportCombinedLog(since: Timestamp?, _ body: (String) throws -> Void) async throws {
        let query: PostgresQuery = since.map {
            "SELECT line FROM exchange_log WHERE ts_ms >= \($0.milliseconds) ORDER BY ts_ms, position"
        } ?? "SELECT line FROM exchange_log ORDER BY ts_ms, position"
        do {
            // One transaction: a consistent snapshot, as the embedded store's export reads.
            try await client.withTransaction(logger: logger) { c in
                try await c.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
                for try await line in try await c.query(query, logger: logger).decode(String.self) {
                    try body(line)
                }
            }
        } catch let t as PostgresTransactionError {
            // What the caller's `body` threw comes back as it was.
            if let inner = t.closureError, !(inner is PSQLError) { throw inner }
            throw wrap(t)
        } catch {
            throw wrap(error)
        }
    }

    public func publish(_ verdicts: [StoredVerdict]) async throws {
        guard !verdicts.isEmpty else { return }
        do {
            try await client.withTransaction(logger: logger) { c in
                for v in verdicts {
                    try await c.query("""
                        INSERT INTO verdicts (account_id, action, verdict, campaign, score, since, reasons, pending_review, published)
                        VALUES (\(v.account), \(v.action), \(v.verdict), \(v.campaign), \(v.score), \(v.since.timeIntervalSince1970),
                                \(v.reasons), \(v.pendingReview), nextval('verdicts_published'))
                        ON CONFLICT (account_id) DO UPDATE SET
                            action = EXCLUDED.action, verdict = EXCLUDED.verdict, campaign = EXCLUDED.campaign, score = EXCLUDED.score,
                            since = EXCLUDED.since, reasons = EXCLUDED.reasons, pending_review = EXCLUDED.pending_review,
                            published = EXCLUDED.published
                        """, logger: logger)
                }
            }
        } catch {
            throw wrap(error)
        }
    }

    public func verdicts(after mark: Int64) async throws -> (verdicts: [StoredVerdict], mark: Int64) {
        do {
            var out: [StoredVerdict] = []
            var last = mark
            let rows = try await client.query("""
                SELECT account_id, action, verdict, campaign, score, since, reasons, pending_review, published
                FROM verdicts WHERE published > \(mark) ORDER BY published
                """, logger: logger)
            for try await (account, action, verdict, campaign, score, since, reasons, pending, published) in rows
                .decode((String, String, String, String?, Double, Double, [String], Bool, Int64).self) {
                out.append(StoredVerdict(account: account, action: action, verdict: verdict, campaign: campaign, score: score,
                                         since: Date(timeIntervalSince1970: since), reasons: reasons, pendingReview: pending))
                last = published
            }
            return (out, last)
        } catch {
            throw wrap(error)
        }
    }

    public func leadership() -> any DetectionLeadership {
        PostgresLeadership(url: url, logger: logger)
    }
}

/// Detection leadership as a session-level advisory lock (`pg_try_advisory_lock`) on a connection of its
/// own: PostgreSQL releases it when that connection ends, so a leader that dies hands it over.
actor PostgresLeadership: DetectionLeadership {
    let url: PostgresURL
    let logger: Logger
    private var connection: PostgresConnection?
    private var held = false

    init(url: PostgresURL, logger: Logger) {
        self.url = url
        self.logger = logger
    }

    func tryLead() async -> Bool {
        do {
            if connection == nil {
                held = false
                let config = PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                              database: url.database, tls: .disable)
                connection = try await PostgresConnection.connect(configuration: config, id: 1, logger: logger)
            }
            guard let connection else { return false }
            if held {
                // Still connected, so still held.
                try await connection.query("SELECT 1", logger: logger)
                return true
            }
            for try await got in try await connection.query("SELECT pg_try_advisory_lock(\(PostgresStore.leadershipLockKey))", logger: logger)
                .decode(Bool.self) {
                held = got
            }
            return held
        } catch {
            logger.warning("detection leadership: the store's connection failed", metadata: ["error": "\(error)"])
            try? await connection?.close()
            connection = nil
            held = false
            return false
        }
    }

    func release() async {
        try? await connection?.close()
        connection = nil
        held = false
    }
}
