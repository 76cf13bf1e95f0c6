import ArgumentParser
import Foundation
import Logging
import MoatIntel
import MoatStore
import MoatTAXII

struct IntelServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a TAXII 2.1 server for the configured collections.",
        discussion: """
            Serves discovery at /taxii2/, the API root, collections, objects (with added_after, match[...] \
            filters and limit/next paging), manifests, versions and status, over the store's intel tables. \
            Peers authenticate with bearer tokens or basic auth; each collection says who reads and writes \
            it and the highest TLP it holds, which its audience must allow. Stops on SIGINT or SIGTERM.
            """
    )

    @OptionGroup var intel: IntelConfigOptions

    @Option(help: "Override the listener's host.")
    var host: String?

    @Option(help: "Override the listener's port.")
    var port: Int?

    @Option(help: "Override the store path (SQLite).")
    var store: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func validate() throws {
        if intel.config == nil { throw ValidationError("moat intel serve needs --config (peers and collections)") }
    }

    func run() async throws {
        guard var config = try intel.load() else { return }
        if let host { config.server.host = host }
        if let port { config.server.port = port }
        if let store { config.server.store = store }
        var logger = Logger(label: "moat.taxii")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let db: MoatStore
        do {
            db = try MoatStore(path: config.server.store)
        } catch {
            throw ValidationFailure(message: "\(error)")
        }
        let server = TAXIIServer(config: config, storage: db, logger: logger)
        logger.notice("moat intel serve", metadata: [
            "listen": "\(config.server.host):\(config.server.port)", "api_root": "/\(config.server.apiRoot)/", "store": "\(config.server.store)",
            "collections": "\(config.collections.map { "\($0.id) (\($0.tlpMax.label), \($0.audience))" }.joined(separator: "; "))",
        ])
        try await server.application().runService()
    }
}

struct IntelPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Add a bundle's objects to a TAXII 2.1 collection.",
        discussion: "Posts the objects of BUNDLE to the collection and prints the status the server returns."
    )

    @Argument(help: "A STIX bundle (as `moat intel export` writes) or a TAXII envelope.")
    var bundle: String

    @Option(help: "The TAXII server: its discovery URL (…/taxii2/) or an API root URL.")
    var to: String

    @Option(help: "The collection id.")
    var collection: String

    @OptionGroup var credentials: PeerCredentialOptions

    func run() async throws {
        let text: [UInt8]
        do {
            text = Array(try Data(contentsOf: URL(fileURLWithPath: bundle)))
        } catch {
            throw ValidationFailure(message: "\(bundle): cannot read")
        }
        let objects: [JSONValue]
        do {
            guard let list = try JSONValue.parse(text)["objects"]?.array else {
                throw ValidationFailure(message: "\(bundle): not a bundle or envelope (no `objects`)")
            }
            objects = list
        } catch let error as JSONParseError {
            throw ValidationFailure(message: "\(bundle): \(error)")
        }
        let client = TAXIIClient(credentials: try credentials.credentials())
        do {
            let root = try await client.apiRoot(for: to)
            let status = try await client.push(apiRoot: root, collection: collection, objects: objects)
            let ok = status["success_count"]?.int ?? 0, failed = status["failure_count"]?.int ?? 0
            print("\(ok) of \(objects.count) object(s) added to collection \(collection) at \(root) (status \(status["id"]?.string ?? "-"), \(status["status"]?.string ?? "?"))")
            for f in status["failures"]?.array ?? [] {
                print("  refused \(f["id"]?.string ?? "-"): \(f["message"]?.string ?? "")")
            }
            if failed > 0 { throw ExitCode(2) }
        } catch let error as IntelError {
            throw error.failure
        }
    }
}

struct IntelKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Trust-group keys for keyed hashes.",
        subcommands: [Generate.self]
    )

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a new 256-bit trust-group key (64 hex digits) from the system's secure generator.",
            discussion: "Give it to the group's members over a channel you trust, with a new key_id; see the README."
        )

        func run() { print(TrustGroupKey.generateSecret()) }
    }
}
