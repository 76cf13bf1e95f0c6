import MoatCore
/// The behaviour a simulated account follows.
enum Archetype: String, Sendable, CaseIterable {
    case individual, saas, evalHarness = "eval-harness", agentic = "agentic-coder", classroom, enterprise
    case hydra, cotHarvest = "cot-harvest", blend, sleeper, drip, phoenix, phoenixReturn = "phoenix-return"

    var isCampaign: Bool {
        switch self {
        case .hydra, .cotHarvest, .blend, .sleeper, .drip, .phoenix, .phoenixReturn: return true
        default: return false
        }
    }
}

/// Where an account's requests come from.
enum NetworkPlan: Sendable {
    /// A home connection whose address changes weekly; some accounts roam to mobile and office networks.
    case home(isp: AutonomousSystem, roams: Bool)
    /// A fixed set of egress addresses (a SaaS NAT, a campus NAT, a corporate proxy, cloud prefixes).
    case fixed([NetworkSource])
    /// A proxy pool shared by a campaign; every session picks an exit.
    case pool(Int)
    /// The account's own residential address at one ISP, renewed every `days` days.
    case rotating(isp: AutonomousSystem, days: Int)
}

/// One simulated account: its contract record plus what drives its behaviour.
struct SimAccount: Sendable {
    var index: Int
    var archetype: Archetype
    var record: Account
    var timezone: Int
    /// Activity level, in the unit of its archetype (sessions or exchanges per day).
    var activity: Double
    var activeFrom: Int64
    var network: NetworkPlan
    var client: ClientStack
    var systemPrompt: String?
    /// Index within its archetype group (which SaaS, which harness).
    var member: Int
    /// Hours after the release when this account starts using the new model (nil = never early).
    var releaseLagHours: Double?
    /// When the account goes silent (a takedown), if ever.
    var activeUntil: Int64 = .max

    var id: String { record.accountID }
    var label: String? { record.label }
}
