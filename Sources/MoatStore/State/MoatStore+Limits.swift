import Foundation
import GRDB

/// One saved usage-limit bucket: a subject's per-minute bucket (dimension 0 requests, 1 input tokens, 2
/// output tokens: its level and the Unix time it was taken at) or its daily token cap (dimension 3: tokens
/// used, and the UTC day number as `at`).
public struct LimitBucketRow: Sendable, Equatable {
    public var scope: String
    public var subject: String
    public var dimension: Int
    public var level: Double
    public var at: Double

    public init(scope: String, subject: String, dimension: Int, level: Double, at: Double) {
        self.scope = scope
        self.subject = subject
        self.dimension = dimension
        self.level = level
        self.at = at
    }
}

extension MoatStore {
    /// Saves buckets (replacing their earlier state) and when they were taken (Unix seconds), in one transaction.
    public func saveLimitBuckets(_ rows: [LimitBucketRow], takenAt: Double) throws {
        try pool.write { db in
            let upsert = try db.cachedStatement(sql: "INSERT OR REPLACE INTO limit_buckets (scope, subject, dimension, level, at) VALUES (?, ?, ?, ?, ?)")
            for r in rows { try upsert.execute(arguments: [r.scope, r.subject, r.dimension, r.level, r.at]) }
            try db.execute(sql: "INSERT OR REPLACE INTO gateway_state (name, value) VALUES ('limits_taken_at', ?)", arguments: [takenAt])
        }
    }

    /// Every saved bucket, and when the last save was taken (Unix seconds; nil if never).
    public func limitBuckets() throws -> (rows: [LimitBucketRow], takenAt: Double?) {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT scope, subject, dimension, level, at FROM limit_buckets").map {
                LimitBucketRow(scope: $0[0], subject: $0[1], dimension: $0[2], level: $0[3], at: $0[4])
            }
            let takenAt = try Double.fetchOne(db, sql: "SELECT value FROM gateway_state WHERE name = 'limits_taken_at'")
            return (rows, takenAt)
        }
    }

    /// Deletes buckets that matter no more: per-minute ones last touched before `minuteBefore`, daily ones of
    /// days before `dayBefore`.
    public func pruneLimitBuckets(minuteBefore: Double, dayBefore: Double) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM limit_buckets WHERE (dimension < 3 AND at < ?) OR (dimension = 3 AND at < ?)",
                           arguments: [minuteBefore, dayBefore])
        }
    }
}

extension MoatStore {
    /// The contract lines of exchanges whose event time (when they ended, outside replay mode) is at or after
    /// `endedSinceMilliseconds`, in time order.
    public func exchangeLines(endedSinceMilliseconds ms: Int64) throws -> [String] {
        try pool.read { db in
            try String.fetchAll(db, sql: "SELECT line FROM exchanges WHERE ts_ms >= ? ORDER BY ts_ms, rowid", arguments: [ms])
        }
    }
}
