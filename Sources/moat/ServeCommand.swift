import ArgumentParser
import Foundation
import Logging
import MoatGateway
import MoatIntel
import MoatStore
import MoatStorePostgres
import MoatTAXII

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the inline gateway in front of OpenAI- and Anthropic-compatible APIs.",
        discussion: """
            Proxies POST /v1/chat/completions and POST /v1/messages to the configured upstreams: \
            authenticates Moat API keys, enforces usage limits, logs every served exchange to the store, \
            feeds it to live detection and acts on verdicts per the policy. The admin API, /metrics and \
            /health are on a separate listener. Peers' indicators held in the store (`moat intel pull`) feed \
            live detection, keyed hashes with the trust-group keys of --intel-config; indicators pulled later \
            are picked up at the next start. Stops gracefully on SIGINT or SIGTERM.
            """
    )

    @Option(help: "Configuration file (YAML).")
    var config: String?

    @Option(help: "Override the proxy listener's port.")
    var port: Int?

    @Option(help: "Override the admin listener's port.")
    var adminPort: Int?

    @Option(help: "Override the store: an SQLite path, or postgres://user@host:port/db to share keys, accounts and limits with other replicas.")
    var store: String?

    @Option(help: "With a PostgreSQL store: override this replica's own SQLite store (its exchange log).")
    var localStore: String?

    @Flag(help: "Run request tasks on Swift's global thread pool instead of NIO's event loops.")
    var noEventLoopTasks = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    @Option(help: ArgumentHelp("Intel configuration (YAML) whose trust-group keys match peers' keyed hashes.", valueName: "config"))
    var intelConfig: String?

    @Option(help: "Seconds in-flight requests get to finish on SIGTERM/SIGINT; then they end (logged as cancelled).")
    var shutdownGrace: Double = 30

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
        guard shutdownGrace >= 0 else { throw ValidationError("--shutdown-grace must not be negative") }
    }

    func run() async throws {
        if !noEventLoopTasks { GatewayRuntime.runTasksOnEventLoops() }
        var settings = try config.map { try GatewayConfig.load(path: $0) } ?? GatewayConfig()
        if let port { settings.listen.port = port }
        if let adminPort { settings.admin.port = adminPort }
        if let store { settings.store = store }
        var logger = Logger(label: "moat")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        if let localStore { settings.localStore = localStore }
        // A PostgreSQL store is shared by the replicas; each keeps its exchange log in an SQLite store of its own.
        var replica: ReplicaStore?
        var shared: PostgresStore?
        if PostgresURL.isPostgres(settings.store) {
            do {
                let pg = try await PostgresStore.open(settings.store, logger: logger)
                shared = pg
                replica = try await ReplicaStore.load(directory: pg, limits: pg, detection: pg, operators: pg)
            } catch {
                shared?.close()
                throw ValidationFailure(message: "\(error)")
            }
        }
        defer { shared?.close() }
        let db = try MoatStore(path: replica == nil ? settings.store : settings.localStore)
        var keys = KeyRing()
        if let intelConfig {
            do {
                keys = try IntelConfig.loadResolved(path: intelConfig).keyRing
            } catch {
                throw ValidationFailure(message: error.message)
            }
        }
        let peerIndicators = try IntelImport.load(from: db, nowMs: Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)))
        let gateway = try Gateway(config: settings, store: db, logger: logger, peerIndicators: peerIndicators, peerKeys: keys, replica: replica)
        if !peerIndicators.isEmpty { logger.notice("peers' indicators feed detection", metadata: ["indicators": "\(peerIndicators.count)"]) }
        logger.notice("moat serve", metadata: [
            "proxy": "\(settings.listen.host):\(settings.listen.port)", "admin": "\(settings.admin.host):\(settings.admin.port)",
            "store": "\(PostgresURL.redacted(settings.store))", "openai": "\(settings.upstreams.openai?.url ?? "-")",
            "anthropic": "\(settings.upstreams.anthropic?.url ?? "-")",
        ])
        if settings.admin.resolvedToken() == nil {
            logger.warning("no admin token configured (admin.token or $MOAT_ADMIN_TOKEN): the admin API refuses every request")
        }
        try await gateway.run(shutdownGrace: .milliseconds(Int64(shutdownGrace * 1000)))
    }
}
