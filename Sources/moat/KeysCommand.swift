import ArgumentParser
import Foundation
import MoatCore
import MoatStore

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list and revoke the API keys that `moat serve` accepts.",
        discussion: """
            A key's secret is printed once, at creation; the store keeps only its SHA-256. \
            Clients send it as `Authorization: Bearer SECRET` or `x-api-key: SECRET`.
            """,
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print its secret, once.")

        @Option(help: "The account the key bills to.")
        var account: String

        @Option(help: "The account's organisation.")
        var org: String?

        @Option(help: "A name to tell the key apart.")
        var name: String?

        @Flag(help: "Print {\"id\",\"secret\",\"account\",\"org\"} as JSON.")
        var json = false

        @OptionGroup var storeOptions: StoreOptions

        func validate() throws {
            if account.isEmpty { throw ValidationError("--account must not be empty") }
        }

        func run() async throws {
            let (store, close) = try await storeOptions.openDirectory(create: true)
            defer { close() }
            let created = try await storeFailure { try await store.createKey(account: account, org: org, name: name) }
            if json {
                var j = JSONBuffer()
                j.beginObject()
                j.key("id"); j.string(created.id)
                j.key("secret"); j.string(created.secret)
                j.key("account"); j.string(account)
                j.key("org"); if let org { j.string(org) } else { j.null() }
                j.endObject()
                print(String(decoding: j.bytes, as: UTF8.self))
            } else {
                print("key:     \(created.id)")
                print("account: \(account)" + (org.map { " (org \($0))" } ?? ""))
                print("secret:  \(created.secret)")
                Console.error("The secret is shown only this once; the store keeps only its SHA-256.")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (never their secrets).")

        @Option(help: "Only the keys of this account.")
        var account: String?

        @Flag(help: "Print a JSON array.")
        var json = false

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            let (store, close) = try await storeOptions.openDirectory(create: false)
            defer { close() }
            let keys = try await storeFailure { try await store.keys(account: account) }
            if json {
                var j = JSONBuffer()
                j.beginArray()
                for k in keys {
                    j.beginObject()
                    j.key("id"); j.string(k.id)
                    j.key("account"); j.string(k.account)
                    j.key("org"); if let org = k.org { j.string(org) } else { j.null() }
                    j.key("name"); if let name = k.name { j.string(name) } else { j.null() }
                    j.key("created_at"); j.string(k.createdAt.rfc3339)
                    j.key("revoked_at"); if let r = k.revokedAt { j.string(r.rfc3339) } else { j.null() }
                    j.key("active"); j.bool(k.isActive)
                    j.endObject()
                }
                j.endArray()
                print(String(decoding: j.bytes, as: UTF8.self))
                return
            }
            guard !keys.isEmpty else {
                print(account.map { "no keys for account \($0)" } ?? "no keys")
                return
            }
            let rows = [["id", "account", "org", "name", "created", "status"]] + keys.map { k in
                [k.id, k.account, k.org ?? "-", k.name ?? "-", k.createdAt.rfc3339,
                 k.revokedAt.map { "revoked " + $0.rfc3339 } ?? "active"]
            }
            let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
            for row in rows {
                print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                    .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key: requests with it get 401.")

        @Argument(help: "The key id (key_...).")
        var id: String

        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            let (store, close) = try await storeOptions.openDirectory(create: false)
            defer { close() }
            guard try await storeFailure({ try await store.revokeKey(id: id) }) else {
                throw ValidationFailure(message: "no key \(id) in \(storeOptions.displayName)")
            }
            print("revoked \(id)")
        }
    }
}

/// Runs a store operation, turning its errors into one line for the user.
func storeFailure<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let failure as ValidationFailure {
        throw failure
    } catch {
        throw ValidationFailure(message: "store: \(error)")
    }
}

private extension Date {
    /// RFC 3339 in UTC with milliseconds, as everywhere in Moat's output.
    var rfc3339: String { Timestamp(milliseconds: Int64((timeIntervalSince1970 * 1000).rounded(.down))).rfc3339 }
}
