import Foundation
import MoatStore
import NIOCore
import NIOPosix
import Prometheus
import Synchronization

/// The regional access controls, frozen from `regions:`: country sets and tier indices, so a request's
/// check is at most two set lookups (none when nothing is configured). Denials are counted
/// (`moat_region_denials_total{basis, country}`, one handle per configured country, made once) and audited:
/// one audit entry per account, basis and country a minute, written off the event loops.
final class RegionPolicy: Sendable {
    enum Basis: String, Sendable { case billing, client }

    enum Decision: Equatable {
        case allow(tier: Int?)
        case deny(Basis, String)
    }

    let isEmpty: Bool
    let usesClientCountry: Bool
    private let denyBilling: Set<String>
    private let denyClient: Set<String>
    private let limitBilling: [String: Int]
    private let limitClient: [String: Int]
    private let counters: [String: Counter]
    private let lastAudited = Mutex([String: Double]())

    init(config: RegionsConfig, tiers: TierTable, metrics: GatewayMetrics) {
        isEmpty = config.isEmpty
        usesClientCountry = !config.denyClientCountries.isEmpty || !config.limitClientCountries.isEmpty
        denyBilling = Set(config.denyBillingCountries.map { $0.uppercased() })
        denyClient = Set(config.denyClientCountries.map { $0.uppercased() })
        let index = Dictionary(uniqueKeysWithValues: tiers.names.enumerated().map { ($1, $0) })
        limitBilling = Dictionary(config.limitBillingCountries.compactMap { k, v in index[v].map { (k.uppercased(), $0) } }, uniquingKeysWith: { a, _ in a })
        limitClient = Dictionary(config.limitClientCountries.compactMap { k, v in index[v].map { (k.uppercased(), $0) } }, uniquingKeysWith: { a, _ in a })
        var counters: [String: Counter] = [:]
        for (basis, set) in [(Basis.billing, denyBilling), (.client, denyClient)] {
            for country in set {
                counters[basis.rawValue + ":" + country] = metrics.registry.makeCounter(
                    descriptor: .init(namespace: "moat", metricName: "region_denials", unitName: "total",
                                      helpText: "Requests refused by regional access controls, by basis (billing or client address) and country"),
                    labels: [("basis", basis.rawValue), ("country", country)])
            }
        }
        self.counters = counters
    }

    /// The decision for a request by an account billed in `billing`, from a client located in `client`
    /// (nil when unknown or not from a trusted proxy). A denial wins over a limit; of two limits, the
    /// stricter tier cannot be told in general, so the client address's wins (it is the one that moves).
    func decide(billing: String?, client: String?) -> Decision {
        if isEmpty { return .allow(tier: nil) }
        let b = billing.map(Self.normalise)
        let c = client.map(Self.normalise)
        if let b, denyBilling.contains(b) { return .deny(.billing, b) }
        if let c, denyClient.contains(c) { return .deny(.client, c) }
        if let c, let t = limitClient[c] { return .allow(tier: t) }
        if let b, let t = limitBilling[b] { return .allow(tier: t) }
        return .allow(tier: nil)
    }

    static func normalise(_ s: String) -> String {
        s.utf8.count == 2 ? s.uppercased() : s.trimmingCharacters(in: .whitespaces).uppercased()
    }

    /// Counts a denial and audits it (coalesced per account, basis and country, once a minute).
    func denied(account: String, basis: Basis, country: String, store: MoatStore, now: Double) {
        counters[basis.rawValue + ":" + country]?.increment()
        let key = account + "|" + basis.rawValue + "|" + country
        let due = lastAudited.withLock { seen -> Bool in
            if let t = seen[key], now - t < 60 { return false }
            if seen.count > 100_000 { seen.removeAll() }
            seen[key] = now
            return true
        }
        guard due else { return }
        let entry = AuditEntry(at: Date(timeIntervalSince1970: now), actor: "policy", action: "region-denied",
                               subject: "account:" + account,
                               reasons: ["\(basis == .billing ? "billing country" : "client address country") \(country) is denied by regions.deny_\(basis.rawValue)_countries"])
        NIOThreadPool.singleton.submit { state in
            guard state == .active else { return }
            try? store.appendAudit(entry)
        }
    }
}
