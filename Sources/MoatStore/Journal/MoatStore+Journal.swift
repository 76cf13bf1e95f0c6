import Foundation
import GRDB
import MoatCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension MoatStore {
    /// The exchange journal of this store: a directory beside the SQLite file.
    public var journalDirectory: String { path + "-xlog" }

    /// How far the journal has been ingested into the `exchanges` table.
    public func journalPosition() throws -> JournalPosition {
        try pool.read { db in try Self.journalPosition(db) }
    }

    static func journalPosition(_ db: Database) throws -> JournalPosition {
        guard let row = try Row.fetchOne(db, sql: "SELECT segment, offset FROM journal_state WHERE id = 1") else {
            return JournalPosition(segment: 0, offset: 0)
        }
        return JournalPosition(segment: row[0], offset: row[1])
    }

    /// Reads up to `maxRecords` journal records from `reader` (not past `limit`) and writes them to the
    /// log in one transaction that also records the new position. Returns how many records were read.
    /// An id already in the log is kept as it is.
    public func ingest(from reader: inout JournalReader, limit: JournalPosition? = nil, maxRecords: Int = 4_096) throws -> Int {
        var ids: [String] = [], accounts: [String] = [], lines: [String] = [], ts: [Int64] = []
        ids.reserveCapacity(min(maxRecords, 1_024))
        var bytes = 0
        while ids.count < maxRecords, bytes < 8 << 20 {
            let more = try reader.next(limit: limit) { r in
                ids.append(r.idString)
                accounts.append(r.accountString)
                lines.append(r.lineString)
                ts.append(r.tsMs)
                bytes += r.line.count + 64
            }
            if !more { break }
        }
        let position = reader.position
        guard !ids.isEmpty else { return 0 }
        try pool.write { db in
            // GRDB runs this on its writer's thread: background work, below the request path.
            BackgroundPriority.lowerCurrentThread()
            let insert = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO exchanges (id, ts_ms, account_id, line) VALUES (?, ?, ?, ?)")
            for i in ids.indices {
                insert.setUncheckedArguments([ids[i], ts[i], accounts[i], lines[i]])
                try insert.execute()
            }
            // Only forwards: two ingesters (a gateway and an export after a crash) never move it back.
            try db.execute(sql: """
                UPDATE journal_state SET segment = ?, offset = ?
                WHERE id = 1 AND (segment < ? OR (segment = ? AND offset < ?))
                """, arguments: [position.segment, position.offset, position.segment, position.segment, position.offset])
        }
        if bytes > 0 { checkpointer.wrote(bytes: bytes + ids.count * 128) }
        return ids.count
    }

    /// Ingests everything in the journal that is not in the log yet (recovery after a crash). The caller
    /// holds the journal's lock or knows no gateway writes it. Returns how many records were ingested.
    @discardableResult
    public func ingestJournal() throws -> Int {
        guard FileManager.default.fileExists(atPath: journalDirectory) else { return 0 }
        var reader = JournalReader(directory: journalDirectory, from: try journalPosition())
        var total = 0
        while true {
            let n = try ingest(from: &reader)
            total += n
            if n == 0 { return total }
        }
    }

    /// Runs `body` holding the journal's writer lock if no gateway holds it: true if it ran.
    func withIdleJournal(_ body: () throws -> Void) throws -> Bool {
        let lockPath = journalDirectory + "/lock"
        let fd = open(lockPath, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { sysClose(fd) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { return false }
        defer { flock(fd, LOCK_UN) }
        try body()
        return true
    }

    /// The journal records past the ingested position as of one read transaction, sorted by time
    /// (ties in journal order), from `since` on; nil if the journal moved on under the reader (retry).
    static func journalTail(_ db: Database, directory: String, since: Timestamp?) throws -> [(Int64, String)]? {
        var reader = JournalReader(directory: directory, from: try journalPosition(db))
        var tail: [(Int64, String)] = []
        while try reader.next({ r in
            if since.map({ r.tsMs >= $0.milliseconds }) ?? true { tail.append((r.tsMs, r.lineString)) }
        }) {}
        // A segment was removed after this snapshot was taken: its records are in the log now, but not in
        // the snapshot being read. (Segments go only once ingested, so a fresh snapshot has them.)
        if reader.skippedMissingSegment { return nil }
        return tail.enumerated().sorted { a, b in a.element.0 != b.element.0 ? a.element.0 < b.element.0 : a.offset < b.offset }
            .map(\.element)
    }
}
