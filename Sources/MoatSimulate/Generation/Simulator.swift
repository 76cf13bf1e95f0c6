import MoatCore
import Foundation

/// What a simulation produced.
public struct SimulationSummary: Sendable {
    public var scenario: String
    public var seed: UInt64
    public var days: Int
    public var exchanges: Int
    public var accounts: Int
    public var campaignAccounts: Int
    public var campaignExchanges: Int
    public var exchangesByArchetype: [String: Int]
    public var accountsByArchetype: [String: Int]
    public var bytes: Int64
    public var corpus: String
}

public struct SimulationProgress: Sendable {
    public var day: Int
    public var days: Int
    public var exchanges: Int
    public var bytes: Int64
}

/// Generates a scenario's exchange log, accounts and labels, streaming day by day.
///
/// Every account draws from its own random stream, seeded by (seed, account, day), so the output
/// is the same bytes for the same seed, and memory holds one day of traffic at a time.
public struct Simulator: Sendable {
    public let parameters: ScenarioParameters
    public let seed: UInt64
    public let corpus: Corpus
    /// The wording of every campaign text (`ScenarioParameters.phraseBank`).
    public let bank: PhraseBank
    let population: Population

    public init(parameters: ScenarioParameters, seed: UInt64, corpus: Corpus) {
        self.parameters = parameters
        self.seed = seed
        self.corpus = corpus
        self.bank = PhraseBank.named(parameters.phraseBank) ?? .formal
        self.population = Population(parameters, seed: seed)
    }

    public func run(to directory: String,
                    progress: ((SimulationProgress) -> Void)? = nil) throws -> SimulationSummary {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let dir = directory as NSString
        try writeAccounts(to: dir.appendingPathComponent("accounts.jsonl"))
        try writeLabels(to: dir.appendingPathComponent("labels.jsonl"))

        let sink = try LineSink(path: dir.appendingPathComponent("exchanges.jsonl"))
        defer { sink.close() }
        var buffer = DayBuffer()
        var total = 0
        var byArchetype: [String: Int] = [:]
        var campaignExchanges = 0
        let start = parameters.start.milliseconds
        for day in 0..<parameters.days {
            var ctx = DayContext(simulator: self, day: day, dayStart: start + Int64(day) * Timestamp.day, buffer: buffer)
            buffer = DayBuffer()
            for account in population.accounts where account.archetype != .blend && account.archetype != .sleeper {
                generate(account, &ctx)
            }
            generateBlendDay(&ctx)
            generateSleeperDay(&ctx)
            for (k, v) in ctx.counts {
                byArchetype[k.rawValue, default: 0] += v
                if k.isCampaign { campaignExchanges += v }
            }
            buffer = ctx.buffer
            let last = day == parameters.days - 1
            total += buffer.flush(before: last ? .max : ctx.dayStart + Timestamp.day) { sink.write(Array($0)) }
            progress?(SimulationProgress(day: day + 1, days: parameters.days, exchanges: total, bytes: sink.bytesWritten))
        }
        sink.flush()
        var accountsByArchetype: [String: Int] = [:]
        for a in population.accounts { accountsByArchetype[a.archetype.rawValue, default: 0] += 1 }
        return SimulationSummary(scenario: parameters.name, seed: seed, days: parameters.days, exchanges: total,
                                 accounts: population.accounts.count,
                                 campaignAccounts: population.accounts.filter { $0.label != nil }.count,
                                 campaignExchanges: campaignExchanges, exchangesByArchetype: byArchetype,
                                 accountsByArchetype: accountsByArchetype, bytes: sink.bytesWritten, corpus: corpus.source)
    }

    func writeAccounts(to path: String) throws {
        let sink = try LineSink(path: path)
        defer { sink.close() }
        var j = JSONBuffer(capacity: 1 << 20)
        for a in population.accounts {
            a.record.write(to: &j)
            j.newline()
            if j.bytes.count > 1 << 20 { sink.write(j.bytes); j = JSONBuffer(capacity: 1 << 20) }
        }
        sink.write(j.bytes)
    }

    func writeLabels(to path: String) throws {
        let sink = try LineSink(path: path)
        defer { sink.close() }
        var j = JSONBuffer(capacity: 1 << 16)
        for a in population.accounts {
            guard let label = a.label else { continue }
            CampaignLabel(accountID: a.id, campaign: label).write(to: &j)
            j.newline()
        }
        sink.write(j.bytes)
    }

    /// The accounts, as the contract's accounts file has them.
    public var accounts: [Account] { population.accounts.map(\.record) }
}

