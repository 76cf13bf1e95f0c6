/// The configured tiers in an array and the assignment rules by index, resolved once from the frozen
/// configuration, so a request's tier is found without building or hashing strings.
struct TierTable: Sendable {
    let names: [String]
    let tiers: [LimitsConfig.Tier]
    let defaultIndex: Int
    /// The tier of throttled accounts (`policy.throttle_tier`, else the default).
    let throttleIndex: Int
    private let rules: [(program: String?, verification: String?, index: Int)]

    init(limits: LimitsConfig, throttleTier: String?) {
        let names = limits.tiers.keys.sorted()
        self.names = names
        tiers = names.map { limits.tiers[$0] ?? LimitsConfig.Tier() }
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        defaultIndex = index[limits.defaultTier] ?? 0
        throttleIndex = throttleTier.flatMap { index[$0] } ?? defaultIndex
        rules = limits.assign.map { ($0.program, $0.verification, index[$0.tier] ?? 0) }
    }

    /// First matching rule wins; unmatched accounts get the default tier.
    func index(program: String?, verification: String?) -> Int {
        for rule in rules {
            if let p = rule.program, p != program { continue }
            if let v = rule.verification, v != verification { continue }
            return rule.index
        }
        return defaultIndex
    }
}
