import MoatCore

/// What happened to exchanges: served as asked, served with a countermeasure, throttled (429), refused (403),
/// or failed otherwise. Exchanges without a `status` count as served.
public struct Enforcement: Sendable, Equatable {
    public var served = 0
    public var countermeasured = 0
    public var throttled = 0
    public var refused = 0
    public var failed = 0

    public init() {}

    public var total: Int { served + countermeasured + throttled + refused + failed }
    /// Exchanges on which the gateway acted: countermeasures, throttling and refusals.
    public var actedOn: Int { countermeasured + throttled + refused }

    public static func + (a: Enforcement, b: Enforcement) -> Enforcement {
        var s = a
        s.served += b.served
        s.countermeasured += b.countermeasured
        s.throttled += b.throttled
        s.refused += b.refused
        s.failed += b.failed
        return s
    }
}

/// Status, countermeasure and outcome counts of some traffic.
public struct TrafficCounts: Sendable {
    public internal(set) var exchanges = 0
    public internal(set) var enforcement = Enforcement()
    public internal(set) var statuses: CategoryCounts
    public internal(set) var countermeasures: CategoryCounts
    public internal(set) var outcomes: CategoryCounts

    init(maxKeys: Int) {
        statuses = CategoryCounts(maxKeys: maxKeys)
        countermeasures = CategoryCounts(maxKeys: maxKeys)
        outcomes = CategoryCounts(maxKeys: maxKeys)
    }
}

/// The aggregation of one group of accounts (a campaign, or the flagged accounts outside any campaign).
public struct GroupAggregate: Sendable {
    public internal(set) var traffic: TrafficCounts
    /// Accounts of the group seen in the log.
    public internal(set) var accountsSeen = 0
    /// Exchanges before each account's `flagged_at` (contract section 6's leakage).
    public internal(set) var leakedExchanges = 0
    public internal(set) var outputTokens = 0
    public internal(set) var leakedOutputTokens = 0
    public internal(set) var firstMs: Int64?
    public internal(set) var lastMs: Int64?
    /// Exchanges per hour (key: hours since the epoch).
    public internal(set) var hourly: [Int64: Int] = [:]
    /// Distinct accounts active per hour.
    public internal(set) var activeAccounts: [Int64: Int] = [:]
    /// Exchanges per hour and model (index into `LogAggregate.models`; the last slot is "other models").
    public internal(set) var modelHourly: [Int64: [Int]] = [:]
    /// What happened to the group's exchanges, per hour.
    public internal(set) var enforcementHourly: [Int64: Enforcement] = [:]
    public internal(set) var prefixes: ValueTally
    public internal(set) var asns: ValueTally
    public internal(set) var clientStacks: ValueTally
    public internal(set) var countries: ValueTally
    /// The AS name seen with each ASN (first one seen), for the ASNs itemised.
    public internal(set) var asnNames: [String: String] = [:]

    public var exchanges: Int { traffic.exchanges }

    init(options: ReportOptions) {
        traffic = TrafficCounts(maxKeys: options.maxCategoryValues)
        prefixes = ValueTally(maxValues: options.maxValuesPerKind, maxPairs: options.maxAccountValuePairs)
        asns = ValueTally(maxValues: options.maxValuesPerKind, maxPairs: options.maxAccountValuePairs)
        clientStacks = ValueTally(maxValues: options.maxValuesPerKind, maxPairs: options.maxAccountValuePairs)
        countries = ValueTally(maxValues: options.maxValuesPerKind, maxPairs: options.maxAccountValuePairs)
    }
}

/// One flagged account's figures from the log.
public struct AccountAggregate: Sendable, Equatable {
    public internal(set) var exchanges = 0
    public internal(set) var leakedExchanges = 0
    public internal(set) var outputTokens = 0
    public internal(set) var leakedOutputTokens = 0
    public internal(set) var firstMs: Int64?
    public internal(set) var lastMs: Int64?
    public internal(set) var refused = 0
    public internal(set) var throttled = 0
    public internal(set) var countermeasured = 0
    /// The last three distinct hours the account was active in, to count active accounts per hour in a
    /// roughly ordered log without one set per hour.
    var recentHours: (Int64, Int64, Int64) = (.min, .min, .min)

    public static func == (a: AccountAggregate, b: AccountAggregate) -> Bool {
        a.exchanges == b.exchanges && a.leakedExchanges == b.leakedExchanges && a.outputTokens == b.outputTokens
            && a.leakedOutputTokens == b.leakedOutputTokens && a.firstMs == b.firstMs && a.lastMs == b.lastMs
            && a.refused == b.refused && a.throttled == b.throttled && a.countermeasured == b.countermeasured
    }
}

/// A model seen in the log.
public struct ModelInfo: Sendable, Equatable {
    public var name: String
    /// Its first exchange in the log: the inferred release when it is after the log's first day.
    public var firstMs: Int64
    public var exchanges: Int
}

/// Everything the campaign report needs from the exchange log, aggregated while streaming it.
public struct LogAggregate: Sendable {
    public internal(set) var exchanges = 0
    /// Distinct accounts in the log.
    public internal(set) var accounts = 0
    public internal(set) var firstMs: Int64?
    public internal(set) var lastMs: Int64?
    /// All exchanges per hour.
    public internal(set) var hourly: [Int64: Int] = [:]
    /// The models in the order first met, at most `maxModels`; later ones are counted in the last slot of
    /// the per-model arrays ("other models").
    public internal(set) var models: [ModelInfo] = []
    /// Exchanges on models beyond `maxModels`.
    public internal(set) var otherModelExchanges = 0
    /// All exchanges per hour and model.
    public internal(set) var modelHourly: [Int64: [Int]] = [:]
    /// Parallel to the report's campaigns.
    public internal(set) var campaigns: [GroupAggregate] = []
    /// Flagged accounts that belong to no reported campaign (`suspicious`).
    public internal(set) var suspicious: GroupAggregate
    /// Accounts not flagged.
    public internal(set) var unflagged: TrafficCounts
    /// Per flagged account (and campaign member), by account id.
    public internal(set) var accountStats: [String: AccountAggregate] = [:]
    /// Exchanges that carried `status`, `countermeasure`, `outcome`: a log written by the gateway has them.
    public internal(set) var withStatus = 0
    public internal(set) var withCountermeasure = 0
    public internal(set) var withOutcome = 0

    /// Exchanges answered 403 or 429.
    public internal(set) var refusedOrThrottled = 0

    /// True when the log shows what an enforcing gateway did: countermeasures, outcomes, refusals or throttling.
    /// (A log whose statuses are all 200 has nothing to show.)
    public var fromGateway: Bool { withCountermeasure > 0 || withOutcome > 0 || refusedOrThrottled > 0 }

    /// Length of the per-model arrays: `maxModels` plus "other models", which is the last slot.
    public let modelSlots: Int

    init(options: ReportOptions) {
        modelSlots = options.maxModels + 1
        suspicious = GroupAggregate(options: options)
        unflagged = TrafficCounts(maxKeys: options.maxCategoryValues)
    }
}
