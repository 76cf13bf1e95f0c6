import Foundation
import GRDB

extension MoatStore: IntelStorage {
    public func addIntelObjects(_ records: [IntelObjectRecord]) throws -> [Bool] {
        guard !records.isEmpty else { return [] }
        return try pool.write { db in
            // Dates added only ever grow, by at least a microsecond per object: pages by `added_after`
            // then never skip an object added in the same instant as the last one a client saw.
            var last = try Int64.fetchOne(db, sql: "SELECT MAX(date_added_us) FROM intel_objects") ?? 0
            let now = Int64((Date().timeIntervalSince1970 * 1_000_000).rounded(.down))
            var inserted: [Bool] = []
            inserted.reserveCapacity(records.count)
            let insert = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO intel_objects (collection, id, type, version, version_us, spec_version, tlp_rank, date_added_us, json)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for r in records {
                let added = max(now, last + 1)
                try insert.execute(arguments: [r.collection, r.id, r.type, r.version, r.versionMicros, r.specVersion, r.tlpRank, added, r.json])
                let isNew = db.changesCount > 0
                if isNew { last = added }
                inserted.append(isNew)
            }
            return inserted
        }
    }

    public func intelObjects(_ q: IntelObjectQuery) throws -> IntelPage {
        var sql = "SELECT seq, collection, id, type, version, version_us, spec_version, tlp_rank, date_added_us, json FROM intel_objects o WHERE o.collection = ? AND o.tlp_rank <= ?"
        var args: [(any DatabaseValueConvertible)?] = [q.collection, q.maxTLPRank]
        if let after = q.addedAfterMicros {
            sql += " AND o.date_added_us > ?"
            args.append(after)
        }
        if let seq = q.afterSequence {
            sql += " AND o.seq > ?"
            args.append(seq)
        }
        func list(_ column: String, _ values: [String]?) {
            guard let values else { return }
            sql += " AND o.\(column) IN (" + values.map { _ in "?" }.joined(separator: ",") + ")"
            args += values.map { $0 as (any DatabaseValueConvertible)? }
        }
        list("id", q.ids)
        list("type", q.types)
        list("spec_version", q.specVersions)
        let visible = "p.collection = o.collection AND p.id = o.id AND p.tlp_rank <= \(q.maxTLPRank)"
        let last = "o.version_us = (SELECT MAX(p.version_us) FROM intel_objects p WHERE \(visible))"
        let first = "o.version_us = (SELECT MIN(p.version_us) FROM intel_objects p WHERE \(visible))"
        switch q.versions {
        case .all: break
        case .last: sql += " AND " + last
        case .first: sql += " AND " + first
        case .some(let micros, let wantLast, let wantFirst):
            var alternatives: [String] = []
            if !micros.isEmpty {
                alternatives.append("o.version_us IN (" + micros.map { _ in "?" }.joined(separator: ",") + ")")
                args += micros.map { $0 as (any DatabaseValueConvertible)? }
            }
            if wantLast { alternatives.append(last) }
            if wantFirst { alternatives.append(first) }
            sql += alternatives.isEmpty ? " AND 0" : " AND (" + alternatives.joined(separator: " OR ") + ")"
        }
        sql += " ORDER BY o.seq LIMIT ?"
        args.append(q.limit + 1)
        let rows = try pool.read { db in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)) }
        let records = rows.prefix(q.limit).map { row in
            IntelObjectRecord(collection: row["collection"], id: row["id"], type: row["type"], version: row["version"],
                              versionMicros: row["version_us"], specVersion: row["spec_version"], tlpRank: row["tlp_rank"],
                              json: row["json"], dateAddedMicros: row["date_added_us"], sequence: row["seq"])
        }
        return IntelPage(records: Array(records), more: rows.count > q.limit)
    }

    public func deleteIntelObject(collection: String, id: String, versions: IntelVersionFilter, specVersions: [String]?) throws -> Int {
        var page = try intelObjects(IntelObjectQuery(collection: collection, ids: [id], versions: versions, specVersions: specVersions,
                                                     limit: 1_000_000))
        page.records.sort { $0.sequence < $1.sequence }
        let seqs = page.records.map(\.sequence)
        guard !seqs.isEmpty else { return 0 }
        return try pool.write { db in
            try db.execute(sql: "DELETE FROM intel_objects WHERE seq IN (" + seqs.map { _ in "?" }.joined(separator: ",") + ")",
                           arguments: StatementArguments(seqs))
            return db.changesCount
        }
    }

    public func saveIntelStatus(_ status: IntelStatusRecord) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO intel_status (id, owner, json) VALUES (?, ?, ?)",
                           arguments: [status.id, status.owner, status.json])
        }
    }

    public func intelStatus(id: String) throws -> IntelStatusRecord? {
        try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT id, owner, json FROM intel_status WHERE id = ?", arguments: [id])
                .map { IntelStatusRecord(id: $0["id"], owner: $0["owner"], json: $0["json"]) }
        }
    }

    public func saveReceivedIndicators(_ records: [ReceivedIndicatorRecord]) throws -> (added: Int, updated: Int) {
        try pool.write { db in
            var added = 0, updated = 0
            for r in records {
                let existing = try Int64.fetchOne(db, sql: "SELECT version_us FROM intel_received WHERE source = ? AND id = ?",
                                                  arguments: [r.source, r.id])
                if let existing, existing >= r.versionMicros { continue }
                try db.execute(sql: """
                    INSERT OR REPLACE INTO intel_received
                        (source, id, version, version_us, tlp, confidence, producer, valid_from_ms, valid_until_ms, received_at_ms, json)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [r.source, r.id, r.version, r.versionMicros, r.tlp, r.confidence, r.producer, r.validFromMs,
                                     r.validUntilMs, r.receivedAtMs, r.json])
                if existing == nil { added += 1 } else { updated += 1 }
            }
            return (added, updated)
        }
    }

    public func receivedIndicators(validAtMs asOf: Int64?) throws -> [ReceivedIndicatorRecord] {
        try pool.read { db in
            var sql = "SELECT * FROM intel_received"
            var args: [(any DatabaseValueConvertible)?] = []
            if let asOf {
                sql += " WHERE valid_until_ms IS NULL OR valid_until_ms > ?"
                args.append(asOf)
            }
            sql += " ORDER BY received_at_ms, source, id"
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map { row in
                ReceivedIndicatorRecord(source: row["source"], id: row["id"], version: row["version"], versionMicros: row["version_us"],
                                        tlp: row["tlp"], confidence: row["confidence"], producer: row["producer"],
                                        validFromMs: row["valid_from_ms"], validUntilMs: row["valid_until_ms"],
                                        receivedAtMs: row["received_at_ms"], json: row["json"])
            }
        }
    }

    public func purgeExpiredIndicators(beforeMs: Int64) throws -> Int {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM intel_received WHERE valid_until_ms IS NOT NULL AND valid_until_ms <= ?", arguments: [beforeMs])
            return db.changesCount
        }
    }

    public func pullCursor(source: String) throws -> String? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT added_after FROM intel_pull WHERE source = ?", arguments: [source]) }
    }

    public func savePullCursor(source: String, addedAfter: String) throws {
        try pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO intel_pull (source, added_after) VALUES (?, ?)", arguments: [source, addedAfter])
        }
    }
}
