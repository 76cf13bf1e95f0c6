import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import MoatCore
import MoatDetect
import MoatIntel
import MoatProvenance
import MoatStore
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The inline gateway: one value built from a frozen configuration, serving the proxy listener and the
/// admin listener, with the exchange log, the limiter and live detection shared between requests.
///
/// The proxy listener is Hummingbird's server (binding, lifecycle, graceful shutdown) with a channel
/// pipeline of Moat's own: NIO's HTTP/1.1 codec and `ProxyConnection`, which handles each request on its
/// connection's event loop without tasks, and forwards it on pooled upstream connections of that same
/// loop. The admin listener is an ordinary Hummingbird application.
public final class Gateway: Sendable {
    public let config: GatewayConfig
    public let store: MoatStore
    public let metrics: GatewayMetrics
    public let actions: ActionTable
    public let enforcer: Enforcer
    public let limiter: any UsageLimiter
    /// The limiter, when it saves its buckets in the store (the default).
    public let durableLimits: DurableLimiter?
    public let log: ExchangeLog
    /// The store shared with other replicas (PostgreSQL): keys, accounts and limits live there.
    public let replica: ReplicaStore?
    /// The leased limiter, on a shared store.
    let leasedLimits: LeasedLimiter?
    let keys: KeyCache
    /// The `fingerprint` countermeasure's campaign keys (derived from the master key in memory).
    let fingerprintKeys: FingerprintKeys
    let accounts: AccountDirectory
    let subjects = SubjectTable()
    let tiers: TierTable
    let regions: RegionPolicy
    let trustedProxies: TrustedProxies
    /// By API: 0 OpenAI, 1 Anthropic.
    let endpoints: [UpstreamEndpoint?]
    let logger: Logger
    private let loops = Mutex([ObjectIdentifier: LoopContext]())
    private let stopping = Atomic<Bool>(false)
    private let detectionLoop: MultiThreadedEventLoopGroup
    private let detection = Mutex<Task<Void, Never>?>(nil)
    private let revocationsCheckedAt = Mutex(Date())
    private let closed = Mutex(false)
    /// On a shared store: this replica leads detection (runs the engine on the combined log).
    let leading = Atomic<Bool>(false)


    /// `peerIndicators` (peers' indicators, as `moat intel pull` stores them) feed live detection: an account
    /// whose traffic or sign-up matches one gets it as evidence (`PeerFeed`), keyed hashes under `peerKeys`.
    public init(config: GatewayConfig, store: MoatStore, logger: Logger = Logger(label: "moat.gateway"),
                detectionConfig: DetectionConfig? = nil, limiter: (any UsageLimiter)? = nil,
                peerIndicators: [ReceivedIndicator] = [], peerKeys: KeyRing = KeyRing(),
                fingerprintMasterKey: FingerprintMasterKey? = nil, replica: ReplicaStore? = nil) throws {
        try config.validate()
        self.config = config
        self.store = store
        self.replica = replica
        self.logger = logger
        metrics = GatewayMetrics()
        fingerprintKeys = try FingerprintKeys(config: config.fingerprint, master: fingerprintMasterKey)
        for (name, action) in [("campaign", config.policy.campaign), ("suspicious", config.policy.suspicious)]
        where action.fingerprints && !fingerprintKeys.isConfigured {
            throw ConfigError(description: "policy.\(name): `\(action.rawValue)` needs a fingerprint master key in the environment variable \(config.fingerprint.keyEnv) (fingerprint.key_env): e.g. `export \(config.fingerprint.keyEnv)=$(openssl rand -hex 32)`")
        }
        // Operators' decisions: the shared store's (read before the gateway starts), or the embedded store's.
        if let shared = replica?.operatorState {
            actions = ActionTable(overrides: shared.overrides, campaignChoices: shared.campaignChoices)
        } else {
            actions = ActionTable(overrides: try store.overrides(), campaignChoices: try store.campaignChoices())
        }
        // Enforcement first: what detection decided before a restart holds from the first request on.
        let restored = try replica?.detection != nil ? replica!.verdicts : store.verdicts()
        for v in restored { if let entry = ActionTable.Entry(v) { actions.set(v.account, entry) } }
        keys = KeyCache()
        let (known, mark) = try replica.map { ($0.accounts, $0.accountsMark) } ?? store.accounts(writtenAfter: 0)
        accounts = AccountDirectory(known, mark: mark)
        tiers = TierTable(limits: config.limits, throttleTier: config.policy.throttleTier)
        regions = RegionPolicy(config: config.regions, tiers: tiers, metrics: metrics)
        trustedProxies = TrustedProxies(config: config.trustedProxies)
        if let limiter {
            self.limiter = limiter
            durableLimits = nil
            leasedLimits = nil
        } else if let replica {
            // Limits shared by the replicas: slices of each budget leased from the shared store.
            let leased = LeasedLimiter(store: replica.limits, idleSeconds: config.leaseIdleSeconds, logger: logger)
            self.limiter = leased
            leasedLimits = leased
            durableLimits = nil
        } else {
            leasedLimits = nil
            let durable = DurableLimiter(store: store, subjects: subjects)
            self.limiter = durable
            durableLimits = durable
        }
        endpoints = try [config.upstreams.openai, config.upstreams.anthropic].enumerated().map { i, upstream in
            try upstream.map { try UpstreamEndpoint(api: i == 0 ? .openAI : .anthropic, index: i, upstream: $0, forwardHeaders: config.forwardHeaders) }
        }
        log = try ExchangeLog(store: store, config: config.log, metrics: metrics, logger: logger)
        // The log as it is now (a crash's journal included): detection replays it before following the journal.
        let lastRow = try store.lastExchangeRow()
        var detect = detectionConfig ?? DetectionConfig()
        detect.reorderWindowSeconds = config.detectionReorderSeconds
        detectionLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        detectionLoop.next().execute { BackgroundPriority.lowerOwnThread() }
        let fingerprintKeys = self.fingerprintKeys
        enforcer = Enforcer(engine: DetectionEngine(config: detect, accounts: known), policy: config.policy,
                            table: actions, store: store, logger: logger, metrics: metrics, on: detectionLoop.next(),
                            peers: peerIndicators.isEmpty ? nil : PeerFeed(indicators: peerIndicators, keys: peerKeys, accounts: known, detection: detect),
                            fingerprintKeyID: { fingerprintKeys.keyID(campaign: $0) })
        if let id = fingerprintKeys.masterID {
            logger.info("fingerprint master key loaded", metadata: ["key_id": "\(id)", "from": "\(config.fingerprint.keyEnv)"])
        }
        try restoreLimits()
        if config.replay != nil {
            logger.warning("replay mode: exchanges take their event time from the request header `\(config.replay!.eventTimeHeader)`; never expose this gateway to real clients")
        }
        if !restored.isEmpty {
            logger.notice("enforcement restored from the store", metadata: ["verdicts": "\(restored.count)",
                                                                             "blocked": "\(restored.filter { $0.action == "block" }.count)"])
        }
        log.start()
        let enforcer = self.enforcer, journal = log.journal
        let start = journal.end
        let since = try config.detectionResumeDays.map { days -> Int64 in
            let newest = try store.newestExchangeMilliseconds() ?? 0
            return newest - Int64(days * 86_400_000)
        }
        // Replicas sharing detection: the leader runs the engine on the combined log (`DetectionLeaderService`).
        guard replica?.detection == nil else { return }
        let lockstep = config.replay?.lockstep ?? false
        detection.withLock {
            $0 = Task {
                if lockstep { await enforcer.gatherNothing() }
                await enforcer.resumeFromLog(through: lastRow, since: since)
                await enforcer.follow(journal: journal, from: start)
            }
        }
    }

    /// Where keys and accounts live: the shared store, or the embedded one.
    public var directory: any DirectoryStore { replica?.directory ?? OffLoopDirectory(store: store) }

    /// Where overrides, campaign choices, the audit trail and campaigns live: the shared store, or the embedded one.
    public var operators: any OperatorStore { replica?.operators ?? OffLoopOperators(store: store) }

    /// Limits as they were: the saved buckets, plus the usage of every exchange logged after the save.
    private func restoreLimits() throws {
        guard let durable = durableLimits else { return }
        let (count, takenAt) = try durable.restore()
        // In replay mode exchanges carry event times, not the wall clock the limiter counts in.
        guard config.replay == nil else { return }
        // Never saved (a first run killed within `limits_save_ms`): everything since the previous UTC day began.
        let since = takenAt ?? ((Date().timeIntervalSince1970 / 86_400).rounded(.down) - 1) * 86_400
        var charged = 0
        for line in try store.exchangeLines(endedSinceMilliseconds: Int64((since * 1000).rounded(.down))) {
            var line = line
            guard let e = line.withUTF8({ try? Exchange.decode(line: $0, file: "log", lineNumber: 0, fields: .withoutText) }) else { continue }
            durable.charge(limitSubjects(account: e.accountID, org: e.orgID, key: e.apiKeyID, clientCountry: e.client.country), inputTokens: e.inputTokens,
                           outputTokens: e.outputTokens, now: e.ts.seconds)
            charged += 1
        }
        logger.notice("usage limits restored from the store", metadata: ["buckets": "\(count)", "exchanges_after_save": "\(charged)"])
    }

    /// The limited subjects of a request by `account` (of `org`, with `key`), with the limits of its tier now.
    func limitSubjects(account: String, org: String?, key: String?, clientCountry: String?) -> RateLimiter.Subjects {
        let identity = accounts.identity(account)
        let org = org ?? identity?.orgID
        let action = actions.action(account: account, org: org, key: key ?? "")
        var regionTier: Int?
        if case .allow(let t) = regions.decide(billing: identity?.country, client: clientCountry) { regionTier = t }
        let tier = tiers.tiers[action == .throttle ? tiers.throttleIndex
                                : regionTier ?? tiers.index(program: identity?.program, verification: identity?.verification)]
        var out = RateLimiter.Subjects()
        if let l = tier.key, let key { out.key = .init(subjects.id(.key, key), .key, key, l) }
        if let l = tier.account { out.account = .init(subjects.id(.account, account), .account, account, l) }
        if let l = tier.org, let org { out.org = .init(subjects.id(.org, org), .org, org, l) }
        return out
    }

    // MARK: - Listeners

    /// The proxy listener: both model APIs and `GET /health`, on Moat's own pipeline.
    public func proxyApplication() -> some ApplicationProtocol {
        Application(router: Router(context: GatewayRequestContext.self),
                    server: HTTPServerBuilder { _ in ProxyChildChannel(gateway: self) },
                    configuration: .init(address: .hostname(config.listen.host, port: config.listen.port), serverName: "moat"),
                    logger: logger)
    }

    public func adminApplication() -> some ApplicationProtocol {
        Application(router: adminRouter(),
                    configuration: .init(address: .hostname(config.admin.host, port: config.admin.port), serverName: "moat-admin"),
                    logger: logger)
    }

    /// Picks up accounts imported into the store while the gateway runs (`moat accounts import`) and keys
    /// revoked by another process (`moat keys revoke`).
    public var accountSyncService: AccountSyncService {
        AccountSyncService(gateway: self, interval: .milliseconds(Int64(config.accountsRefreshSeconds * 1000)))
    }

    /// Reads accounts written to the store since the last look and hands them to limits and detection.
    /// Returns how many there were.
    @discardableResult
    public func syncAccounts() async throws -> Int {
        let mark = accounts.mark
        let (fresh, newMark) = try await directory.accounts(writtenAfter: mark)
        guard !fresh.isEmpty else { return 0 }
        accounts.add(fresh, mark: newMark)
        await enforcer.register(accounts: fresh)
        logger.info("accounts imported", metadata: ["accounts": "\(fresh.count)"])
        return fresh.count
    }

    /// Picks up what other processes changed in the store: imported accounts, revoked keys.
    public func syncStore() async throws {
        try await syncAccounts()
        try await syncRevocations()
    }

    /// Forgets cached keys revoked since the last look (revocations made by another process).
    func syncRevocations() async throws {
        let since = revocationsCheckedAt.withLock { $0 }.addingTimeInterval(-5)
        let now = Date()
        let revoked = try await directory.revokedKeyDigests(since: since)
        for hex in revoked { if let d = KeyDigest(hex: hex) { keys.remove(d) } }
        revocationsCheckedAt.withLock { $0 = now }
    }

    /// Runs both listeners until SIGINT or SIGTERM, then drains: in-flight requests finish (up to
    /// `shutdownGrace`; longer ones end as `cancelled`, and are logged), the journal is closed and written
    /// to the store, live detection reads it to the end.
    public func run(shutdownGrace: Duration = .seconds(30)) async throws {
        var groupConfig = ServiceGroupConfiguration(
            services: [.init(service: adminApplication()), .init(service: accountSyncService),
                       .init(service: ProxyService(app: proxyApplication(), gateway: self))]
                + (durableLimits == nil ? [] : [.init(service: LimitSaveService(gateway: self))])
                + (leasedLimits.map { [.init(service: LeaseReturnService(limiter: $0, interval: .milliseconds(100), logger: logger))] } ?? [])
                + replicaDetectionServices,
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfig.maximumGracefulShutdownDuration = shutdownGrace
        groupConfig.maximumCancellationDuration = .seconds(5)
        do {
            try await ServiceGroup(configuration: groupConfig).run()
        } catch {
            await shutdown()
            throw error
        }
        await shutdown()
    }

    /// Ends every exchange in flight now: client connections close, their exchanges are logged as
    /// `cancelled` (what the end of a graceful shutdown's grace period does). Returns once they are closed.
    public func cancelInFlight() async {
        beginStopping()
        for context in loops.withLock({ Array($0.values) }) {
            let closing = try? await context.eventLoop.submit { context.closeClientConnections() }.get()
            for f in closing ?? [] { try? await f.get() }
        }
        await drainLoops()
    }

    /// Returns once every loop has run what was queued on it and the journal writes of exchanges just
    /// ended are done.
    func drainLoops() async {
        for context in loops.withLock({ Array($0.values) }) {
            try? await context.eventLoop.flatSubmit { context.logWritten() }.get()
        }
    }

    var isStopping: Bool { stopping.load(ordering: .relaxed) }
    func beginStopping() { stopping.store(true, ordering: .relaxed) }

    /// Closes the journal (after the proxy stopped serving), writes it to the store, lets detection read
    /// it to the end, closes idle upstream connections.
    public func shutdown() async {
        let first = closed.withLock { c -> Bool in
            defer { c = true }
            return !c
        }
        guard first else { return }
        beginStopping()
        await drainLoops()
        let log = self.log
        try? await offLoop { log.close() }
        await detection.withLock({ $0 })?.value
        if let durable = durableLimits {
            do { _ = try await offLoop { try durable.save() } } catch {
                logger.error("cannot save usage limits to the store", metadata: ["error": "\(error)"])
            }
        }
        for context in loops.withLock({ Array($0.values) }) {
            context.eventLoop.execute {
                context.stopSweeping()
                context.closeIdleConnections()
            }
        }
        try? await detectionLoop.shutdownGracefully()
    }

    /// Waits until detection has taken in every exchange logged so far (and applied its verdicts), or the
    /// timeout passed; false on timeout. For `moat replay --lockstep`.
    public func waitUntilDetected(timeout: Duration = .seconds(30)) async -> Bool {
        await drainLoops()
        let target = log.journal.appended
        let deadline = ContinuousClock.now + timeout
        while await enforcer.ingestedFromJournal < target {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .microseconds(200))
        }
        return true
    }

    /// Waits until everything logged so far is in the store and has reached detection (tests, tools).
    public func waitUntilLogged(timeout: Duration = .seconds(10)) async -> Bool {
        await drainLoops()
        let log = self.log
        let deadline = ContinuousClock.now + timeout
        // Polled, not waited for on a thread-pool thread: key lookups and the admin API's store reads
        // share that pool, and a blocked thread would hold them up.
        let target = log.journal.end
        var stored = log.ingester.waitUntilIngested(target, timeout: .zero)
        while !stored, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
            stored = log.ingester.waitUntilIngested(target, timeout: .zero)
        }
        while await enforcer.ingestedFromJournal < log.journal.appended, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return stored
    }

    // MARK: - For the request path

    /// The per-loop state of `eventLoop`, made on first use.
    func loopContext(for eventLoop: any EventLoop) -> LoopContext {
        let id = ObjectIdentifier(eventLoop)
        return loops.withLock { all in
            if let c = all[id] { return c }
            let c = LoopContext(eventLoop: eventLoop, endpoints: endpoints, maxConnections: config.upstreamMaxConnections, metrics: metrics,
                                log: log, logger: logger)
            all[id] = c
            return c
        }
    }

    /// Looks a key up in the store on NIO's thread pool (never on the event loop) and caches the result.
    func lookUpKey(_ digest: KeyDigest, on eventLoop: any EventLoop) -> EventLoopFuture<KeyEntry?> {
        if let directory = replica?.directory {
            // The shared store: one round trip, then the key is cached like any other.
            return eventLoop.makeFutureWithTask { [self] () async throws -> KeyEntry? in
                guard let record = try await directory.key(sha256Hex: digest.hex), record.isActive else {
                    keys.storeInvalid(digest)
                    return nil
                }
                let entry = makeEntry(record)
                keys.storeValid(digest, entry)
                return entry
            }
        }
        return NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) { [self] () throws -> KeyEntry? in
            guard let record = try store.key(sha256Hex: digest.hex), record.isActive else {
                keys.storeInvalid(digest)
                return nil
            }
            let entry = makeEntry(record)
            keys.storeValid(digest, entry)
            return entry
        }
    }

    func makeEntry(_ record: APIKeyRecord) -> KeyEntry {
        var entry = KeyEntry(record: record, keySubject: subjects.id(.key, record.id), accountSubject: subjects.id(.account, record.account),
                             identity: nil, org: nil, orgSubject: nil, tier: tiers.defaultIndex, directoryVersion: -1)
        resolve(&entry)
        return entry
    }

    /// Fills a key's account-derived fields (org, tier) from the account directory.
    private func resolve(_ entry: inout KeyEntry) {
        var version = 0
        let identity = accounts.identity(entry.record.account, version: &version)
        entry.identity = identity
        entry.org = entry.record.org ?? identity?.orgID
        entry.orgSubject = entry.org.map { subjects.id(.org, $0) }
        entry.tier = tiers.index(program: identity?.program, verification: identity?.verification)
        entry.directoryVersion = version
    }

    /// A cached key's entry, re-resolved when accounts were imported since.
    func current(_ entry: KeyEntry, digest: KeyDigest) -> KeyEntry {
        guard entry.directoryVersion != accounts.version else { return entry }
        var fresh = entry
        resolve(&fresh)
        keys.update(digest, fresh)
        return fresh
    }

    /// Writes the rate-limit headers of `status` as `name: value\r\n` lines.
    func addLimitHeaders(_ api: ModelAPI, _ status: RateLimiter.Status, now: Double, to lines: inout ByteBuffer) {
        let pairs = api == .anthropic ? status.anthropicHeaders(now: now) : status.openAIHeaders()
        for (name, value) in pairs {
            lines.writeString(name)
            lines.writeStaticString(": ")
            lines.writeString(value)
            lines.writeStaticString("\r\n")
        }
    }

    func upstream(_ api: ModelAPI) -> GatewayConfig.Upstream? {
        api == .openAI ? config.upstreams.openai : config.upstreams.anthropic
    }
}

/// Runs blocking work (SQLite) on NIO's thread pool, never on an event loop.
func offLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(body)
}

/// The proxy listener as a service: when it has stopped serving (graceful shutdown), the gateway stops
/// taking exchanges.
struct ProxyService<App: ApplicationProtocol>: Service {
    let app: App
    let gateway: Gateway

    func run() async throws {
        do {
            try await app.run()
        } catch {
            gateway.beginStopping()
            throw error
        }
        gateway.beginStopping()
    }
}

/// Moat's pipeline for proxy connections, on Hummingbird's server: NIO's HTTP/1.1 codec and
/// `ProxyConnection`. A half-closed connection is a closed one (a client that stops sending is gone).
struct ProxyChildChannel: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let channel: any Channel
    }

    let gateway: Gateway

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.syncOptions?.setOption(ChannelOptions.allowRemoteHalfClosure, value: false)
            // No Nagle on the client's socket (Linux passes the listener's setting on, other systems may
            // not): a stream's events go out as they come, not behind an unacknowledged head.
            try channel.syncOptions?.setOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            // NIO's request decoder; responses are written as bytes by `ProxyConnection` itself.
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
            try channel.pipeline.syncOperations.addHandler(ProxyConnection(gateway: gateway))
            return Value(channel: channel)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await withTaskCancellationHandler {
            try? await value.channel.closeFuture.get()
        } onCancel: {
            // The shutdown's grace period is over: what is still in flight ends as `cancelled`.
            gateway.beginStopping()
            value.channel.close(promise: nil)
        }
    }
}
