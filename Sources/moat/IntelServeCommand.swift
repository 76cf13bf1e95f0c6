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
