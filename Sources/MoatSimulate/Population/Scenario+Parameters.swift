import MoatCore
/// Every tunable of the simulated world, in one place.
///
/// A scenario is a value of this type; `Scenario.named(_:)` builds the named ones. Counts are
/// multiplied by `--scale`. Rates are per account per simulated day unless named otherwise.
public struct ScenarioParameters: Sendable {
    public var name: String
    /// First simulated day (UTC midnight).
    public var start: Timestamp = Timestamp(rfc3339: "2026-04-01T00:00:00Z")!
    public var days: Int
    /// Day (from `start`) on which the new model is released.
    public var releaseDay: Int
    /// Largest delay between an exchange's time and its place in the merged log (gateway replicas).
    public var maxLogDisorderSeconds: Double = 60
    /// Share of exchanges written by a lagging replica.
    public var laggingReplicaShare: Double = 0.35
    /// Text caps per line; `industrial` keeps lines compact.
    public var promptChars = 1_200
    public var responseChars = 400
    public var systemPromptChars = 600
    /// The wording every campaign uses (`PhraseBank.names`); tune on one, measure on the others.
    public var phraseBank = "formal"

    public var models = Models()
    public var individuals = Individuals()
    public var saas = SaaSBackends()
    public var evalHarness = EvalHarnesses()
    public var agentic = AgenticCoders()
    public var classroom = Classroom()
    public var enterprise = Enterprise()
    public var hydra = Hydra()
    public var cotHarvest = CoTHarvest()
    public var blend = Blend()
    public var sleeper = Sleeper()
    public var drip = Drip()
    public var phoenix = Phoenix()

    public struct Models: Sendable {
        /// Models available before the release, with their share of ordinary traffic.
        public var existing: [(String, Double)] = [("atlas-2-pro", 0.45), ("atlas-2-flash", 0.4), ("atlas-2-mini", 0.15)]
        /// The model released on `releaseDay`.
        public var released = "atlas-3-pro"
        /// Ordinary customers move to a new model slowly: share per day since release, capped.
        public var benignAdoptionPerDay = 0.04
        public var benignAdoptionCap = 0.35
    }

    /// Ordinary developers and consumers: the bulk of accounts, heavy-tailed activity, diurnal by time zone.
    public struct Individuals: Sendable {
        public var accounts = 9_600
        /// Sessions per day: log-normal median and shape (most accounts are light, a few make thousands).
        public var sessionsMedian = 0.3
        public var sessionsSigma = 1.5
        public var sessionsCap = 120.0
        public var turnsMean = 2.6
        /// Share of accounts that call from cloud servers (developers' backends, notebooks).
        public var cloudShare = 0.15
        /// Share that rotate between home, office and mobile networks.
        public var roamingShare = 0.3
        public var codingShare = 0.18
        public var thinkingShare = 0.08
        /// Share of accounts created during the simulated window (new sign-ups).
        public var newSignupShare = 0.06
        public var weekendFactor = 0.6
    }

    /// SaaS backends: one account, 24/7 volume from a cloud NAT, one system prompt, varied end-user text.
    public struct SaaSBackends: Sendable {
        public var accounts = 15
        public var exchangesMedian = 1_400.0
        public var exchangesSigma = 0.7
        /// Fraction of the diurnal swing of their end users (0 = flat).
        public var diurnalDepth = 0.35
        public var egressIPs = 1...3
    }

    /// Evaluation harnesses: templated benchmark prompts, "think step by step", temperature 0, bursts,
    /// several models, and new models tried on release day.
    public struct EvalHarnesses: Sendable {
        public var accounts = 8
        public var runsPerWeek = 3.0
        public var problemsPerRun = 80...164
        public var modelsPerRun = 1...3
        public var secondsBetweenRequests = 0.5...3.0
        /// Hours after a release until the harness runs on the new model.
        public var releaseReactionHours = 1.0...8.0
    }

    /// Agentic coding power users: tools, extended thinking, long sessions, one popular agent tool.
    public struct AgenticCoders: Sendable {
        public var accounts = 120
        public var sessionsPerWorkday = 2.0...7.0
        public var turnsPerSession = 8...45
        public var secondsBetweenTurns = 4.0...40.0
        public var tools = 9...18
        public var thinkingShare = 0.7
        public var lateNightShare = 0.15
        /// The day a new version of the popular agent tool comes out, and how much busier its users are then.
        public var toolReleaseDay = 3
        public var toolReleaseBoost = 2.5
    }

    /// A university class: hundreds of accounts created within days, one e-mail domain, one campus NAT,
    /// the same homework, lab hours in sync.
    public struct Classroom: Sendable {
        public var accounts = 260
        public var signupSpreadDays = 3.0
        public var labWeekdays = [1, 3]  // Tuesday, Thursday (0 = Monday)
        public var labStartHourLocal = 14
        public var labHours = 2.0
        public var attendance = 0.85
        public var exchangesPerLab = 4...14
        public var homeworkSessionsPerDay = 0.25
        public var timezone = -5
    }

    /// An enterprise: hundreds of accounts, one corporate card, one egress proxy, one internal user agent.
    public struct Enterprise: Sendable {
        public var accounts = 320
        public var sessionsPerWorkday = 0.3...3.0
        public var turnsMean = 2.2
        public var timezone = 1
    }

    /// The hydra cluster: waves of sign-ups through startup and education programs, throwaway domains,
    /// pooled prepaid cards, residential proxies, agentic software-engineering prompts, and a fast move
    /// to the newly released model.
    public struct Hydra: Sendable {
        public var name = "hydra"
        public var accounts = 500
        public var startDay = 1.0
        /// Accounts come online in waves, this many hours apart.
        public var waves = 3
        public var hoursBetweenWaves = 6.0
        public var exchangesPerDay = 40.0...80.0
        public var turnsPerTask = 1...6
        public var throwawayDomains = 6
        public var prepaidCards = 22
        /// Residential proxy exits shared by the whole cluster; a session keeps one exit.
        public var proxyExits = 900
        public var thinkingShare = 0.85
        public var tools = 8...14
        /// Share of traffic on the new model once moved (moves within `releaseMoveHours`).
        public var releaseShare = 0.5
        public var releaseMoveHours = 20.0
    }

    /// A low-and-slow chain-of-thought harvest: tens of accounts from a few cloud prefixes, human hours in
    /// one time zone, reasoning problems with explicit chain-of-thought elicitation, "safe" rewrites of
    /// politically sensitive questions.
    public struct CoTHarvest: Sendable {
        public var name = "cot-harvest"
        public var accounts = 40
        public var startDay = 0.5
        public var exchangesPerDay = 12.0...30.0
        public var prefixes = 3
        public var cards = 5
        public var timezone = 8
        public var rewriteShare = 0.3
        public var thinkingShare = 0.5
    }

    /// A blend: extraction hidden among natural cover prompts, all accounts driven by one scheduler.
    public struct Blend: Sendable {
        public var name = "blend"
        public var accounts = 250
        public var startDay = 2.0
        /// The scheduler wakes every `tickMinutes` and fires a share of the accounts within `tickSpreadSeconds`.
        public var tickMinutes = 20.0
        public var accountsPerTick = 0.08...0.16
        public var tickSpreadSeconds = 40.0
        public var extractionShare = 0.4
        public var proxyExits = 120
    }

    /// A campaign that shares no hard infrastructure: every account has its own residential address (renewed
    /// every few days), its own card and a free-mail address. Most of its traffic is ordinary conversation; the
    /// rest is extraction in the campaign's own words under a small family of system prompts. One scheduler
    /// drives every account in waves.
    public struct Sleeper: Sendable {
        public var name = "sleeper"
        public var accounts = 200
        public var startDay = 1.0
        /// The scheduler wakes every `waveHours` (give or take `waveJitterMinutes`) and fires a share of the
        /// accounts, each starting within `waveSpreadMinutes`.
        public var waveHours = 2.0
        public var waveJitterMinutes = 25.0
        public var accountsPerWave = 0.35...0.65
        public var waveSpreadMinutes = 15.0
        public var exchangesPerWake = 1...4
        public var extractionShare = 0.4
        /// Each account's own address is renewed every this many days.
        public var addressDays = 2...4
        /// Share of accounts on the scheduler's own HTTP client; the rest use ordinary SDKs.
        public var sharedClientShare = 0.7
        public var thinkingShare = 0.5
    }

    /// A low-and-slow harvest spread over several hosting prefixes at several providers, with no shared card:
    /// human hours in one time zone, reasoning problems with requests for the whole line of thought, "safe"
    /// rewrites, and a tutor system prompt family.
    public struct Drip: Sendable {
        public var name = "drip"
        public var accounts = 60
        public var startDay = 0.5
        public var exchangesPerDay = 6.0...16.0
        public var prefixes = 8
        public var timezone = 3
        public var systemPromptShare = 0.7
        public var rewriteShare = 0.25
        public var thinkingShare = 0.4
    }

    /// A campaign that is taken down and comes back with fresh accounts and new infrastructure, but the same
    /// behaviour, system-prompt family and request shapes. The returning accounts carry their own label
    /// (`returnName`): a detector should report them as a campaign tied to the first one.
    public struct Phoenix: Sendable {
        public var name = "phoenix"
        public var returnName = "phoenix-return"
        /// Accounts in each of the two waves.
        public var accounts = 120
        public var startDay = 1.0
        /// The first wave goes silent here (a takedown), the second starts at `returnDay`.
        public var takedownDay = 5.0
        public var returnDay = 8.0
        public var exchangesPerDay = 20.0...45.0
        public var proxyExits = 300
        public var cards = 10
        public var domains = 3
        public var thinkingShare = 0.7
        public var tools = 4...9
    }

    /// The campaign kinds, by their default names.
    public static let campaignKinds = ["hydra", "cot-harvest", "blend", "sleeper", "drip", "phoenix"]

    /// Keeps only the named campaign kinds (the others get no accounts): for leave-one-kind-out runs.
    public mutating func keepCampaigns(_ kinds: Set<String>) {
        if !kinds.contains("hydra") { hydra.accounts = 0 }
        if !kinds.contains("cot-harvest") { cotHarvest.accounts = 0 }
        if !kinds.contains("blend") { blend.accounts = 0 }
        if !kinds.contains("sleeper") { sleeper.accounts = 0 }
        if !kinds.contains("drip") { drip.accounts = 0 }
        if !kinds.contains("phoenix") { phoenix.accounts = 0 }
    }

    public init(name: String, days: Int, releaseDay: Int) {
        self.name = name
        self.days = days
        self.releaseDay = releaseDay
    }
}

extension ScenarioParameters {
    public static let names = ["smoke", "standard", "industrial"]

    /// The named scenarios. `scale` multiplies every account count.
    public static func named(_ name: String, scale: Double = 1, days: Int? = nil) -> ScenarioParameters? {
        var p: ScenarioParameters
        switch name {
        case "smoke":
            p = ScenarioParameters(name: name, days: 3, releaseDay: 1)
            p.individuals.accounts = 300
            p.saas.accounts = 2
            p.saas.exchangesMedian = 300
            p.evalHarness.accounts = 2
            p.agentic.accounts = 6
            p.classroom.accounts = 30
            p.enterprise.accounts = 30
            p.hydra.accounts = 30
            p.hydra.startDay = 0.25
            p.hydra.hoursBetweenWaves = 3
            p.hydra.proxyExits = 60
            p.hydra.prepaidCards = 4
            p.cotHarvest.accounts = 8
            p.cotHarvest.startDay = 0.1
            p.blend.accounts = 20
            p.blend.startDay = 0.3
            p.blend.proxyExits = 12
            p.agentic.toolReleaseDay = 1
            p.sleeper.accounts = 24
            p.sleeper.startDay = 0.2
            p.sleeper.waveHours = 1.5
            p.drip.accounts = 12
            p.drip.startDay = 0.1
            p.drip.prefixes = 4
            p.drip.exchangesPerDay = 10...20
            p.phoenix.accounts = 16
            p.phoenix.startDay = 0.1
            p.phoenix.takedownDay = 0.7
            p.phoenix.returnDay = 1.75
            p.phoenix.proxyExits = 40
            p.phoenix.cards = 3
        case "standard":
            p = ScenarioParameters(name: name, days: 14, releaseDay: 7)
        case "industrial":
            // The public case: ~25,000 campaign accounts and 28.8 M campaign exchanges over 44 days,
            // inside a much larger benign population. Lines are compact to fit on disk.
            p = ScenarioParameters(name: name, days: 44, releaseDay: 20)
            p.promptChars = 240
            p.responseChars = 120
            p.systemPromptChars = 160
            p.individuals.accounts = 220_000
            p.saas.accounts = 300
            p.evalHarness.accounts = 150
            p.agentic.accounts = 2_500
            p.classroom.accounts = 2_000
            p.enterprise.accounts = 6_000
            p.hydra.accounts = 21_000
            p.hydra.startDay = 2
            p.hydra.waves = 6
            p.hydra.hoursBetweenWaves = 4
            p.hydra.prepaidCards = 600
            p.hydra.proxyExits = 30_000
            p.hydra.exchangesPerDay = 20...42
            p.cotHarvest.accounts = 800
            p.cotHarvest.prefixes = 20
            p.cotHarvest.cards = 60
            p.cotHarvest.exchangesPerDay = 20...40
            p.blend.accounts = 3_200
            p.blend.proxyExits = 1_500
            p.blend.accountsPerTick = 0.12...0.2
            p.agentic.toolReleaseDay = 10
            p.sleeper.accounts = 2_000
            p.sleeper.startDay = 3
            p.drip.accounts = 600
            p.drip.prefixes = 40
            p.phoenix.accounts = 1_500
            p.phoenix.startDay = 3
            p.phoenix.takedownDay = 14
            p.phoenix.returnDay = 22
            p.phoenix.proxyExits = 3_000
            p.phoenix.cards = 80
            p.phoenix.domains = 8
            p.phoenix.exchangesPerDay = 15...30
        default:
            return nil
        }
        if let days { p.days = max(1, days); p.releaseDay = min(p.releaseDay, max(0, p.days - 1)) }
        if scale != 1 { p.scale(by: scale) }
        return p
    }

    mutating func scale(by s: Double) {
        func sc(_ n: Int, min lower: Int = 1) -> Int { Swift.max(lower, Int((Double(n) * s).rounded())) }
        individuals.accounts = sc(individuals.accounts)
        saas.accounts = sc(saas.accounts)
        evalHarness.accounts = sc(evalHarness.accounts)
        agentic.accounts = sc(agentic.accounts)
        classroom.accounts = sc(classroom.accounts, min: 5)
        enterprise.accounts = sc(enterprise.accounts, min: 5)
        hydra.accounts = sc(hydra.accounts, min: 4)
        hydra.prepaidCards = sc(hydra.prepaidCards)
        hydra.proxyExits = sc(hydra.proxyExits, min: 4)
        cotHarvest.accounts = sc(cotHarvest.accounts, min: 4)
        cotHarvest.cards = sc(cotHarvest.cards)
        cotHarvest.prefixes = sc(cotHarvest.prefixes)
        blend.accounts = sc(blend.accounts, min: 4)
        blend.proxyExits = sc(blend.proxyExits, min: 2)
        sleeper.accounts = sc(sleeper.accounts, min: 4)
        drip.accounts = sc(drip.accounts, min: 4)
        drip.prefixes = sc(drip.prefixes, min: 2)
        phoenix.accounts = sc(phoenix.accounts, min: 4)
        phoenix.proxyExits = sc(phoenix.proxyExits, min: 4)
        phoenix.cards = sc(phoenix.cards)
    }
}
