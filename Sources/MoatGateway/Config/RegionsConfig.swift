import Foundation

/// Regional access controls (`regions:` in the configuration): deny, or hold to a stricter tier, by the
/// account's billing country (`country` of its account record, contract section 2) and by the country of
/// the client's address (the `country_header` your edge sets, believed only from `trusted_proxies`).
/// Countries are ISO 3166-1 alpha-2 codes, compared without regard to case.
///
/// ```yaml
/// regions:
///   deny_billing_countries: [KP]
///   deny_client_countries: [KP]
///   limit_billing_countries: {XX: throttled}    # a tier of `limits.tiers`
///   limit_client_countries: {YY: throttled}
/// ```
public struct RegionsConfig: Codable, Sendable, Equatable {
    public var denyBillingCountries: [String] = []
    public var denyClientCountries: [String] = []
    public var limitBillingCountries: [String: String] = [:]
    public var limitClientCountries: [String: String] = [:]

    public init(denyBillingCountries: [String] = [], denyClientCountries: [String] = [],
                limitBillingCountries: [String: String] = [:], limitClientCountries: [String: String] = [:]) {
        self.denyBillingCountries = denyBillingCountries
        self.denyClientCountries = denyClientCountries
        self.limitBillingCountries = limitBillingCountries
        self.limitClientCountries = limitClientCountries
    }

    public var isEmpty: Bool {
        denyBillingCountries.isEmpty && denyClientCountries.isEmpty && limitBillingCountries.isEmpty && limitClientCountries.isEmpty
    }

    enum CodingKeys: String, CodingKey {
        case denyBillingCountries = "deny_billing_countries"
        case denyClientCountries = "deny_client_countries"
        case limitBillingCountries = "limit_billing_countries"
        case limitClientCountries = "limit_client_countries"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        denyBillingCountries = try c.decodeIfPresent([String].self, forKey: .denyBillingCountries) ?? []
        denyClientCountries = try c.decodeIfPresent([String].self, forKey: .denyClientCountries) ?? []
        limitBillingCountries = try c.decodeIfPresent([String: String].self, forKey: .limitBillingCountries) ?? [:]
        limitClientCountries = try c.decodeIfPresent([String: String].self, forKey: .limitClientCountries) ?? [:]
    }

    /// Checks country codes and tier names; `fail(field, message)` makes the error.
    func validate(tiers: Set<String>, fail: (String, String) -> ConfigError) throws {
        func isCountry(_ s: String) -> Bool { s.count == 2 && s.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("a"..."z").contains($0) } }
        for (field, list) in [("deny_billing_countries", denyBillingCountries), ("deny_client_countries", denyClientCountries)] {
            for (i, code) in list.enumerated() where !isCountry(code) {
                throw fail("regions.\(field)[\(i)]", "not a two-letter country code (ISO 3166-1 alpha-2): \(code)")
            }
        }
        for (field, map) in [("limit_billing_countries", limitBillingCountries), ("limit_client_countries", limitClientCountries)] {
            for (code, tier) in map.sorted(by: { $0.key < $1.key }) {
                guard isCountry(code) else { throw fail("regions.\(field).\(code)", "not a two-letter country code (ISO 3166-1 alpha-2)") }
                guard tiers.contains(tier) else { throw fail("regions.\(field).\(code)", "no tier named '\(tier)'") }
            }
        }
    }
}
