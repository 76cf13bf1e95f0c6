import Foundation
import GRDB
@testable import MoatStore
import Testing

@Suite("store schema: version guard and locked migrations")
struct SchemaGuardTests {
    @Test func aStoreWithANewerSchemaIsRefused() throws {
        let store = try MoatStore.temporary()
        let path = store.path
        // What a newer Moat would leave behind: a migration this version does not know.
        try store.pool.write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        }
        #expect {
            _ = try MoatStore(path: path)
        } throws: { error in
            "\(error)".contains("newer schema") && "\(error)".contains("v99-from-the-future")
        }
    }

    @Test func openersOfANewStoreMigrateOneAfterTheOther() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moat-migrate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("moat.sqlite").path
        let failures = await withTaskGroup(of: String?.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    do {
                        _ = try MoatStore(path: path)
                        return nil
                    } catch {
                        return "\(error)"
                    }
                }
            }
            var all: [String] = []
            for await r in group { if let r { all.append(r) } }
            return all
        }
        #expect(failures.isEmpty, "\(failures)")
        #expect(try MoatStore(path: path).appliedMigrations() == MoatStore.knownMigrations)
    }
}
