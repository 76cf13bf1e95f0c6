import Foundation
import Yams

/// Everything `moat serve` is told, read from a YAML file (`moat serve --config moat.yaml`).
///
/// Configure mutable, run immutable: the file is decoded into this value, validated, and then frozen
/// for the life of the server.
public struct GatewayConfig: Codable, Sendable {
    public var listen = Listener(host: "127.0.0.1", port: 8080)
    public var admin = AdminListener()
    /// The store: a path to the embedded SQLite store (keys, accounts, the exchange log, audit), or
    /// `postgres://user@host:port/db`, the PostgreSQL store that replicas share (keys, accounts, limits).
    public var store = "moat.sqlite"
    /// With a PostgreSQL `store`: this replica's own SQLite store (its exchange log, verdicts, audit, overrides).
    public var localStore = "moat-replica.sqlite"
    /// With a PostgreSQL `store`: seconds a leased slice of a limit may stay unused before it goes back.
    public var leaseIdleSeconds = 0.25
    /// With a PostgreSQL `store`: this replica's name in the combined exchange log (default: host name and
    /// proxy port). Keep it across restarts: the log is shipped from where this name's last shipment ended.
    public var replicaName: String?
    public var upstreams = Upstreams()
    /// Addresses of the proxies in front of Moat (load balancers, TLS terminators), as CIDRs
    /// (`10.0.0.0/8`, `127.0.0.1/32`, `::1/128`). Only from these are `X-Forwarded-For` and the enrichment
    /// headers (TLS fingerprint, ASN, AS organisation, country) believed; from any other address they are
    /// ignored and the connection's own address is the client's.
    public var trustedProxies: [String] = []
    /// Header carrying the client's TLS fingerprint, set by the TLS terminator (e.g. `x-ja4`).
    public var tlsFingerprintHeader: String? = "x-ja4"
    /// Largest request body accepted (413 above it).
    public var maxBodyBytes = 4 << 20
    /// Seconds an upstream may stay silent (before its answer starts, or between two reads of it).
    public var upstreamTimeoutSeconds = 300.0
    /// Most connections to one upstream per event loop; requests beyond wait for a free one.
    public var upstreamMaxConnections = 1_024
    /// Seconds an idle client connection is kept open.
    public var clientIdleTimeoutSeconds = 75.0
    /// Request headers passed on to the upstream as they are, besides the providers' own
    /// (`anthropic-version`, `anthropic-beta`, `openai-organization`, `openai-project`, always passed).
    /// E.g. the mock upstream's `x-mock-latency-ms` in a benchmark.
    public var forwardHeaders: [String] = []
    public var limits = LimitsConfig()
    public var policy = PolicyConfig()
    /// The `fingerprint` countermeasure's master key (from the environment only).
    public var fingerprint = FingerprintConfig()
    /// Regional access controls: deny or limit by billing country and client-address country.
    public var regions = RegionsConfig()
    /// The exchange log's journal: durability and backpressure.
    public var log = LogConfig()
    /// How long live exchanges may arrive out of order before the engine processes them.
    public var detectionReorderSeconds = 5.0
    /// On start, detection replays the exchange log to resume where it stopped: the whole log (unset), or only
    /// its last `detection_resume_days` of event time (a faster start that forgets older evidence).
    public var detectionResumeDays: Double?
    /// How often changed usage-limit buckets are saved to the store (they survive restarts).
    public var limitsSaveMs = 200
    /// How often the store is checked for accounts imported (and keys revoked) while the gateway runs.
    public var accountsRefreshSeconds = 5.0
    /// Headers the edge sets with the client address's AS number, AS organisation and country (enrichment
    /// that detection uses to tell hosting from residential networks). Unset: not read. Believed only from
    /// `trusted_proxies`.
    public var asnHeader: String?
    public var asnOrgHeader: String?
    public var countryHeader: String?
    /// Replay mode (`moat replay` against a test gateway): each exchange's event time comes from a request
    /// header instead of its arrival. Off unless configured; never use it in front of real clients. Outside
    /// replay mode a request carrying `x-moat-event-time` is refused with 400 (a client never dates its own
    /// exchanges), and in replay mode an event time that is not RFC 3339 is refused too.
    public var replay: ReplayConfig?

    /// `replay:` — take event times from a header, within a window around now.
    public struct ReplayConfig: Codable, Sendable {
        /// The header with the exchange's event time (RFC 3339).
        public var eventTimeHeader = ReplayConfig.defaultEventTimeHeader
        /// The event-time header's usual name; outside replay mode a request carrying it is refused (400).
        public static let defaultEventTimeHeader = "x-moat-event-time"
        /// Oldest accepted event time, in days before now; older ones are clamped to it.
        public var maxAgeDays = 400.0
        /// Latest accepted event time, in seconds after now; later ones are clamped to it.
        public var maxFutureSeconds = 300.0
        /// Detection takes each exchange in as soon as it is logged (no gathering of a few milliseconds per
        /// wake-up), for `moat replay --lockstep`, which waits for detection after every exchange
        /// (`POST /admin/detection/sync`) so that a replay's verdicts, hence what it serves, do not depend on
        /// how busy the machine is.
        public var lockstep = false

        public init(eventTimeHeader: String = ReplayConfig.defaultEventTimeHeader) { self.eventTimeHeader = eventTimeHeader }

        enum CodingKeys: String, CodingKey {
            case eventTimeHeader = "event_time_header"
            case maxAgeDays = "max_age_days"
            case maxFutureSeconds = "max_future_seconds"
            case lockstep
        }
    }

    /// `log:` — the exchange journal.
    public struct LogConfig: Codable, Sendable {
        public enum Durability: String, Codable, Sendable {
            /// An answer completes once its record is written to the operating system (survives the gateway
            /// being killed); the journal is fsynced every `fsync_interval_ms` in the background, so a power
            /// loss can take the last interval's exchanges.
            case write
            /// An answer completes once its record is fsynced (survives a power loss); records share fsyncs.
            case fsync
        }
        public var durability = Durability.write
        public var fsyncIntervalMs = 1_000
        /// Journal megabytes not yet in SQLite beyond which new requests get 503 until the store catches up.
        public var maxBacklogMB = 1_024.0

        public init() {}

        enum CodingKeys: String, CodingKey {
            case durability
            case fsyncIntervalMs = "fsync_interval_ms"
            case maxBacklogMB = "max_backlog_mb"
        }
    }

    public struct Listener: Codable, Sendable {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        enum CodingKeys: String, CodingKey { case host, port }
    }

    public struct AdminListener: Codable, Sendable {
        public var host = "127.0.0.1"
        public var port = 8081
        /// Bearer token for the admin API; read from `tokenEnv` when set there.
        public var token: String?
        public var tokenEnv: String? = "MOAT_ADMIN_TOKEN"
    }

    public struct Upstream: Codable, Sendable {
        /// Base URL without the `/v1/...` path, e.g. `https://api.anthropic.com`.
        public var url: String
        /// The provider key Moat presents upstream; read from `apiKeyEnv` when set there.
        public var apiKey: String?
        public var apiKeyEnv: String?
        /// PEM file of certificate authorities trusted for this upstream's TLS certificate, besides the
        /// system's (a private CA). Certificates are always verified.
        public var caFile: String?

        public init(url: String, apiKey: String? = nil, apiKeyEnv: String? = nil, caFile: String? = nil) {
            self.url = url
            self.apiKey = apiKey
            self.apiKeyEnv = apiKeyEnv
            self.caFile = caFile
        }

        public func resolvedKey() -> String? {
            apiKey ?? apiKeyEnv.flatMap { ProcessInfo.processInfo.environment[$0] }
        }
    }

    public struct Upstreams: Codable, Sendable {
        public var openai: Upstream? = Upstream(url: "http://127.0.0.1:9100")
        public var anthropic: Upstream? = Upstream(url: "http://127.0.0.1:9100")

        public init() {}

        enum CodingKeys: String, CodingKey { case openai, anthropic }
    }

    public init() {}

    /// Keys of earlier versions that are refused with a pointer to what replaced them.
    enum RetiredKeys: String, CodingKey {
        case trustForwardedFor = "trust_forwarded_for"
        case eventTimeHeader = "event_time_header"
    }

    enum CodingKeys: String, CodingKey {
        case listen, admin, store, upstreams, limits, policy, log, replay, fingerprint, regions
        case localStore = "local_store"
        case leaseIdleSeconds = "lease_idle_seconds"
        case replicaName = "replica_name"
        case trustedProxies = "trusted_proxies"
        case tlsFingerprintHeader = "tls_fingerprint_header"
        case maxBodyBytes = "max_body_bytes"
        case upstreamTimeoutSeconds = "upstream_timeout_seconds"
        case upstreamMaxConnections = "upstream_max_connections"
        case clientIdleTimeoutSeconds = "client_idle_timeout_seconds"
        case forwardHeaders = "forward_headers"
        case detectionReorderSeconds = "detection_reorder_seconds"
        case accountsRefreshSeconds = "accounts_refresh_seconds"
        case detectionResumeDays = "detection_resume_days"
        case limitsSaveMs = "limits_save_ms"
        case asnHeader = "asn_header"
        case asnOrgHeader = "asn_org_header"
        case countryHeader = "country_header"
    }
}

extension GatewayConfig.AdminListener {
    enum CodingKeys: String, CodingKey {
        case host, port, token
        case tokenEnv = "token_env"
    }

    public func resolvedToken() -> String? {
        token ?? tokenEnv.flatMap { ProcessInfo.processInfo.environment[$0] }
    }
}

extension GatewayConfig.Upstream {
    enum CodingKeys: String, CodingKey {
        case url
        case apiKey = "api_key"
        case apiKeyEnv = "api_key_env"
        case caFile = "ca_file"
    }
}

/// A configuration problem, with where it is.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

extension GatewayConfig {
    /// Reads and validates a YAML (or JSON) configuration. Missing keys keep their defaults.
    public static func load(path: String) throws -> GatewayConfig {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError(description: "\(path): cannot read the configuration file")
        }
        do {
            let config = try YAMLDecoder().decode(GatewayConfig.self, from: text.isEmpty ? "{}" : text)
            try config.validate(source: path)
            return config
        } catch let error as ConfigError {
            throw error
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
                let DecodingError.dataCorrupted(context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ConfigError(description: "\(path): field `\(field)`: \(context.debugDescription)")
        } catch let DecodingError.keyNotFound(key, context) {
            let field = (context.codingPath + [key]).map(\.stringValue).joined(separator: ".")
            throw ConfigError(description: "\(path): field `\(field)`: missing")
        } catch {
            throw ConfigError(description: "\(path): \(error)")
        }
    }

    public func validate(source: String = "config") throws {
        func fail(_ field: String, _ message: String) -> ConfigError {
            ConfigError(description: "\(source): field `\(field)`: \(message)")
        }
        guard (0...65_535).contains(listen.port) else { throw fail("listen.port", "must be 0...65535") }
        guard (0...65_535).contains(admin.port) else { throw fail("admin.port", "must be 0...65535") }
        guard maxBodyBytes > 0 else { throw fail("max_body_bytes", "must be positive") }
        guard leaseIdleSeconds > 0 else { throw fail("lease_idle_seconds", "must be positive") }
        guard upstreamTimeoutSeconds > 0 else { throw fail("upstream_timeout_seconds", "must be positive") }
        guard upstreamMaxConnections > 0 else { throw fail("upstream_max_connections", "must be positive") }
        guard clientIdleTimeoutSeconds > 0 else { throw fail("client_idle_timeout_seconds", "must be positive") }
        guard log.fsyncIntervalMs > 0 else { throw fail("log.fsync_interval_ms", "must be positive") }
        guard log.maxBacklogMB > 0 else { throw fail("log.max_backlog_mb", "must be positive") }
        for (i, cidr) in trustedProxies.enumerated() where CIDR(cidr) == nil {
            throw fail("trusted_proxies[\(i)]", "not an address range like 10.0.0.0/8 or ::1/128: \(cidr)")
        }
        for (i, name) in forwardHeaders.enumerated() where !HeaderName.isToken(name) {
            throw fail("forward_headers[\(i)]", "not a header name: \(name)")
        }
        if let replay {
            guard HeaderName.isToken(replay.eventTimeHeader) else { throw fail("replay.event_time_header", "not a header name") }
            guard replay.maxAgeDays > 0 else { throw fail("replay.max_age_days", "must be positive") }
            guard replay.maxFutureSeconds >= 0 else { throw fail("replay.max_future_seconds", "must not be negative") }
        }
        guard accountsRefreshSeconds > 0 else { throw fail("accounts_refresh_seconds", "must be positive") }
        guard limitsSaveMs > 0 else { throw fail("limits_save_ms", "must be positive") }
        if let d = detectionResumeDays, !(d > 0) { throw fail("detection_resume_days", "must be positive") }
        for (name, upstream) in [("openai", upstreams.openai), ("anthropic", upstreams.anthropic)] {
            guard let upstream else { continue }
            guard UpstreamEndpoint.Address(url: upstream.url) != nil else {
                throw fail("upstreams.\(name).url", "not an http(s) URL: \(upstream.url)")
            }
            if let ca = upstream.caFile, !FileManager.default.isReadableFile(atPath: ca) {
                throw fail("upstreams.\(name).ca_file", "cannot read \(ca)")
            }
        }
        guard limits.tiers[limits.defaultTier] != nil else {
            throw fail("limits.default_tier", "no tier named '\(limits.defaultTier)'")
        }
        for (i, rule) in limits.assign.enumerated() where limits.tiers[rule.tier] == nil {
            throw fail("limits.assign[\(i)].tier", "no tier named '\(rule.tier)'")
        }
        if let t = policy.throttleTier, limits.tiers[t] == nil { throw fail("policy.throttle_tier", "no tier named '\(t)'") }
        try regions.validate(tiers: Set(limits.tiers.keys), fail: fail)
        if !regions.denyClientCountries.isEmpty || !regions.limitClientCountries.isEmpty {
            guard countryHeader != nil else {
                throw fail("regions", "client-address countries need `country_header` (set by your edge, believed only from `trusted_proxies`)")
            }
        }
    }
}
