import Foundation
import Yams

/// Everything `moat serve` is told, read from a YAML file (`moat serve --config moat.yaml`).
///
/// Configure mutable, run immutable: the file is decoded into this value, validated, and then frozen
/// for the life of the server.
public struct GatewayConfig: Codable, Sendable {
    public var listen = Listener(host: "127.0.0.1", port: 8080)
    public var admin = AdminListener()
    /// The embedded SQLite store: keys, accounts, the exchange log, audit.
    public var store = "moat.sqlite"
    public var upstreams = Upstreams()
    /// Trust `X-Forwarded-For` for the client address (only behind a proxy you run).
    public var trustForwardedFor = false
    /// Header carrying the client's TLS fingerprint, set by the TLS terminator (e.g. `x-ja4`).
    public var tlsFingerprintHeader: String? = "x-ja4"
    /// Largest request body accepted (413 above it).
    public var maxBodyBytes = 4 << 20
    /// Seconds to wait for an upstream's answer.
    public var upstreamTimeoutSeconds = 300.0
    public var limits = LimitsConfig()
    public var policy = PolicyConfig()
    /// How long live exchanges may arrive out of order before the engine processes them.
    public var detectionReorderSeconds = 5.0
    /// How often the store is checked for accounts imported while the gateway runs.
    public var accountsRefreshSeconds = 5.0
    /// Headers the edge sets with the client address's AS number, AS organisation and country (enrichment
    /// that detection uses to tell hosting from residential networks). Unset: not read.
    public var asnHeader: String?
    public var asnOrgHeader: String?
    public var countryHeader: String?
    /// Replay and testing only: take each exchange's event time from this request header (RFC 3339)
    /// instead of the arrival time, so a recorded log replays through the gateway in its own time.
    public var eventTimeHeader: String?

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

        public init(url: String, apiKey: String? = nil, apiKeyEnv: String? = nil) {
            self.url = url
            self.apiKey = apiKey
            self.apiKeyEnv = apiKeyEnv
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

    enum CodingKeys: String, CodingKey {
        case listen, admin, store, upstreams, limits, policy
        case trustForwardedFor = "trust_forwarded_for"
        case tlsFingerprintHeader = "tls_fingerprint_header"
        case maxBodyBytes = "max_body_bytes"
        case upstreamTimeoutSeconds = "upstream_timeout_seconds"
        case detectionReorderSeconds = "detection_reorder_seconds"
        case accountsRefreshSeconds = "accounts_refresh_seconds"
        case eventTimeHeader = "event_time_header"
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
        guard accountsRefreshSeconds > 0 else { throw fail("accounts_refresh_seconds", "must be positive") }
        for (name, upstream) in [("openai", upstreams.openai), ("anthropic", upstreams.anthropic)] {
            guard let upstream else { continue }
            guard let url = URL(string: upstream.url), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                throw fail("upstreams.\(name).url", "not an http(s) URL: \(upstream.url)")
            }
        }
        guard limits.tiers[limits.defaultTier] != nil else {
            throw fail("limits.default_tier", "no tier named '\(limits.defaultTier)'")
        }
        for (i, rule) in limits.assign.enumerated() where limits.tiers[rule.tier] == nil {
            throw fail("limits.assign[\(i)].tier", "no tier named '\(rule.tier)'")
        }
        if let t = policy.throttleTier, limits.tiers[t] == nil { throw fail("policy.throttle_tier", "no tier named '\(t)'") }
    }
}
