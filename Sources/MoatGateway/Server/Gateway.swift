import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import MoatCore
import MoatDetect
import MoatStore
import ServiceLifecycle
import Synchronization

/// The inline gateway: one value built from a frozen configuration, serving the proxy listener and the
/// admin listener, with the exchange log, the limiter and live detection shared between requests.
public final class Gateway: Sendable {
    public let config: GatewayConfig
    public let store: MoatStore
    public let metrics: GatewayMetrics
    public let actions: ActionTable
    public let enforcer: Enforcer
    let keys: KeyCache
    let accounts: AccountDirectory
    let limiter = Mutex(RateLimiter())
    let http: HTTPClient
    let log: ExchangeLogWriter
    let detection: AsyncStream<Exchange>.Continuation
    let detectionStream: AsyncStream<Exchange>
    let logger: Logger

    public init(config: GatewayConfig, store: MoatStore, logger: Logger = Logger(label: "moat.gateway"),
                detectionConfig: DetectionConfig? = nil) throws {
        try config.validate()
        self.config = config
        self.store = store
        self.logger = logger
        metrics = GatewayMetrics()
        let overrides = try store.overrides()
        actions = ActionTable(overrides: overrides)
        keys = KeyCache(store: store)
        let (known, mark) = try store.accounts(writtenAfter: 0)
        accounts = AccountDirectory(known, mark: mark)
        var detect = detectionConfig ?? DetectionConfig()
        detect.reorderWindowSeconds = config.detectionReorderSeconds
        enforcer = Enforcer(engine: DetectionEngine(config: detect, accounts: known), policy: config.policy,
                            table: actions, store: store, logger: logger, metrics: metrics)
        var httpConfig = HTTPClient.Configuration(timeout: .init(connect: .seconds(5), read: .seconds(Int64(config.upstreamTimeoutSeconds))))
        // Model calls take seconds: the library's default of 8 connections per upstream would cap requests in flight.
        httpConfig.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 512)
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfig)
        log = ExchangeLogWriter(store: store, metrics: metrics)
        (detectionStream, detection) = AsyncStream.makeStream(of: Exchange.self, bufferingPolicy: .bufferingNewest(1 << 20))
    }

    /// The proxy listener's routes: both model APIs and a health check.
    public func proxyRouter() -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        router.post("/v1/chat/completions") { request, context in try await self.proxy(.openAI, request, context) }
        router.post("/v1/messages") { request, context in try await self.proxy(.anthropic, request, context) }
        router.get("/health") { _, _ in "ok" }
        return router
    }

    public func proxyApplication() -> some ApplicationProtocol {
        Application(router: proxyRouter(),
                    configuration: .init(address: .hostname(config.listen.host, port: config.listen.port), serverName: "moat"),
                    logger: logger)
    }

    public func adminApplication() -> some ApplicationProtocol {
        Application(router: adminRouter(),
                    configuration: .init(address: .hostname(config.admin.host, port: config.admin.port), serverName: "moat-admin"),
                    logger: logger)
    }

    /// Live detection, off the request path.
    public var detectionService: EnforcementService { EnforcementService(enforcer: enforcer, stream: detectionStream, input: detection) }

    /// Picks up accounts imported into the store while the gateway runs (`moat accounts import`).
    public var accountSyncService: AccountSyncService {
        AccountSyncService(gateway: self, interval: .milliseconds(Int64(config.accountsRefreshSeconds * 1000)))
    }

    /// Reads accounts written to the store since the last look and hands them to limits and detection.
    /// Returns how many there were.
    @discardableResult
    public func syncAccounts() async throws -> Int {
        let (fresh, mark) = try store.accounts(writtenAfter: accounts.mark)
        guard !fresh.isEmpty else { return 0 }
        accounts.add(fresh, mark: mark)
        await enforcer.register(accounts: fresh)
        logger.info("accounts imported", metadata: ["accounts": "\(fresh.count)"])
        return fresh.count
    }

    /// Runs both listeners and live detection until SIGINT or SIGTERM, then drains: in-flight requests
    /// finish, the exchange log is flushed, the upstream client shuts down.
    public func run() async throws {
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: proxyApplication()), .init(service: adminApplication()),
                                            .init(service: detectionService), .init(service: accountSyncService)],
                                 gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            await shutdown()
            throw error
        }
        await shutdown()
    }

    public func shutdown() async {
        detection.finish()
        log.drain()
        try? await http.shutdown()
    }
}

/// API keys by presented secret, cached for a short time (revocations through the admin API apply at once).
final class KeyCache: Sendable {
    private let store: MoatStore
    private let cache = Mutex([String: (APIKeyRecord?, Date)]())
    static let ttl: TimeInterval = 2

    init(store: MoatStore) { self.store = store }

    /// The active key for a secret, nil when unknown or revoked.
    func lookup(secret: String) throws -> APIKeyRecord? {
        let now = Date()
        if let (record, expires) = cache.withLock({ $0[secret] }), expires > now { return record }
        let record = try store.key(secret: secret).flatMap { $0.isActive ? $0 : nil }
        cache.withLock { c in
            if c.count > 100_000 { c.removeAll() }
            c[secret] = (record, now.addingTimeInterval(Self.ttl))
        }
        return record
    }

    func invalidate() { cache.withLock { $0.removeAll() } }
}

/// What the provider knows about each account (program, verification, org), for tiers and detection.
final class AccountDirectory: Sendable {
    private struct State {
        var byID: [String: Account] = [:]
        /// The store's write mark of the newest account read (`MoatStore.accounts(writtenAfter:)`).
        var mark: Int64 = 0
    }

    private let state: Mutex<State>

    init(_ list: [Account], mark: Int64 = 0) {
        var s = State(mark: mark)
        for a in list { s.byID[a.accountID] = a }
        state = Mutex(s)
    }

    func identity(_ id: String) -> Account? { state.withLock { $0.byID[id] } }
    var mark: Int64 { state.withLock { $0.mark } }

    /// Adds or replaces accounts read from the store up to `mark`.
    func add(_ list: [Account], mark: Int64) {
        state.withLock { s in
            for a in list { s.byID[a.accountID] = a }
            s.mark = max(s.mark, mark)
        }
    }
}
