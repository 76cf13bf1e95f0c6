import ArgumentParser
import Foundation
import MoatStore
import MoatStorePostgres

/// `--store`, shared by the subcommands that use the embedded store.
struct StoreOptions: ParsableArguments {
    @Option(help: "The store: an SQLite file, or postgres://user@host:port/db (the store replicas share); `moat serve` uses the same through its config's `store` key.")
    var store: String = "moat.sqlite"

    /// Opens the store, creating it if `create` is set; otherwise a missing file is an error, so a
    /// mistyped path is not silently a new, empty store.
    func open(create: Bool) throws -> MoatStore {
        if !create, !FileManager.default.fileExists(atPath: store) {
            throw ValidationFailure(message: "no store at \(store) (give --store, or create one with `moat keys create` or `moat accounts import`)")
        }
        do {
            return try MoatStore(path: store)
        } catch {
            throw ValidationFailure(message: "\(error)")
        }
    }

    /// Keys and accounts in the store, SQLite or PostgreSQL (migrated on open); `close` when done.
    func openDirectory(create: Bool) async throws -> (store: any DirectoryStore, close: @Sendable () -> Void) {
        guard PostgresURL.isPostgres(store) else {
            return (EmbeddedDirectory(try open(create: create)), {})
        }
        do {
            let pg = try await PostgresStore.open(store)
            return (pg, { pg.close() })
        } catch {
            throw ValidationFailure(message: "\(error)")
        }
    }

    /// The store as messages name it (a PostgreSQL password hidden).
    var displayName: String { PostgresURL.redacted(store) }
}

/// Runs an asynchronous store operation, turning its errors into one line for the user.
func storeFailure<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let failure as ValidationFailure {
        throw failure
    } catch {
        throw ValidationFailure(message: "store: \(error)")
    }
}
