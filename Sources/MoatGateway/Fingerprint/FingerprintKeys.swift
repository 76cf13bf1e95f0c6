import Foundation
import MoatProvenance
import Synchronization

/// `fingerprint:` — where the master key of the `fingerprint` countermeasure comes from.
///
/// The master key is read from an environment variable (like the upstreams' API keys) once, at start,
/// and held only in memory: it is never written to the configuration, the store, the exchange log, the
/// audit trail, metrics or the admin API. Each campaign's key is derived from it and the campaign id
/// (HKDF-SHA-256); only key ids (`fpk-…`, a keyed hash that reveals nothing) appear anywhere. The same
/// variable given to `moat provenance score --key-env VAR --campaign ID` tests texts for a campaign's mark.
public struct FingerprintConfig: Codable, Sendable {
    /// Environment variable with the master key (hex, at least 32 digits: `openssl rand -hex 32`).
    public var keyEnv = "MOAT_FINGERPRINT_KEY"

    public init() {}

    enum CodingKeys: String, CodingKey {
        case keyEnv = "key_env"
    }

    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        keyEnv = try c.decodeIfPresent(String.self, forKey: .keyEnv) ?? keyEnv
    }
}

/// The campaign keys of the `fingerprint` countermeasure, derived on first use and kept (bounded).
final class FingerprintKeys: Sendable {
    private let master: FingerprintMasterKey?
    private let markers = Mutex([String: Fingerprinter]())
    static let maxCached = 4_096

    /// `master`, when given (embedding, tests), takes the place of the environment variable.
    init(config: FingerprintConfig, master given: FingerprintMasterKey? = nil,
         environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        if let given {
            master = given
        } else if let value = environment[config.keyEnv], !value.isEmpty {
            do {
                master = try FingerprintMasterKey(encoded: value)
            } catch {
                throw ConfigError(description: "fingerprint.key_env: \(config.keyEnv): \(error.message)")
            }
        } else {
            master = nil
        }
    }

    /// False when no master key is configured: the `fingerprint` action cannot be used.
    var isConfigured: Bool { master != nil }

    /// Safe to log: identifies the master key without revealing it.
    var masterID: String? { master?.id }

    /// The marker of a campaign's answers (`default` for accounts fingerprinted outside any campaign).
    func marker(campaign: String?) -> Fingerprinter? {
        guard let master else { return nil }
        let id = campaign ?? FingerprintMasterKey.defaultCampaign
        if let m = markers.withLock({ $0[id] }) { return m }
        let m = Fingerprinter(key: master.campaignKey(id))
        markers.withLock { cache in
            if cache.count >= Self.maxCached { cache.removeAll(keepingCapacity: true) }
            cache[id] = m
        }
        return m
    }

    /// The id of a campaign's key, for the audit trail and the admin API.
    func keyID(campaign: String?) -> String? { marker(campaign: campaign)?.key.id }
}
