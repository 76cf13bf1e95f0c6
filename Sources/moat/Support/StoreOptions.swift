import ArgumentParser
import Foundation
import MoatStore

/// `--store`, shared by the subcommands that use the embedded store.
struct StoreOptions: ParsableArguments {
    @Option(help: "The store (SQLite file); `moat serve` uses the same through its config's `store` key.")
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
}
