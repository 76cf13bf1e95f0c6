import ArgumentParser
import MoatCore
import MoatStore

struct AccountsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "Manage the accounts the gateway knows.",
        subcommands: [Import.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load an accounts file (contract section 2) into the store.",
            discussion: """
                Accounts are inserted or replaced by account_id. The whole file is checked first: \
                an invalid line stops the import with its file, line and field, and nothing is written.
                """
        )

        @Argument(help: "Accounts file (JSON Lines), or - for standard input.")
        var file: String

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            let accounts: [Account]
            do {
                accounts = try readAccounts(path: file)
            } catch {
                throw ValidationFailure(message: error.description)
            }
            let (store, close) = try await storeOptions.openDirectory(create: true)
            defer { close() }
            let n = try await storeFailure { try await store.importAccounts(accounts) }
            print("imported \(Console.count(n)) account(s) into \(storeOptions.displayName)")
        }
    }
}
