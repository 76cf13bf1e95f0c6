import MoatCore
/// Everything the generators of one simulated day share: the output buffer and the clock.
struct DayContext {
    let simulator: Simulator
    let day: Int
    let dayStart: Int64
    var buffer: DayBuffer
    var counts: [Archetype: Int] = [:]
    private var nextID = 0
    private var json = JSONBuffer(capacity: 4096)

    init(simulator: Simulator, day: Int, dayStart: Int64, buffer: DayBuffer) {
        self.simulator = simulator
        self.day = day
        self.dayStart = dayStart
        self.buffer = buffer
    }

    var p: ScenarioParameters { simulator.parameters }
    var corpus: Corpus { simulator.corpus }

    /// Day of the week, 0 = Monday.
    var weekday: Int { Int((dayStart / Timestamp.day + 3) % 7) }
    var isWeekend: Bool { weekday >= 5 }

    /// Time since the new model's release (negative before it).
    func hoursSinceRelease(_ ts: Int64) -> Double {
        Double(ts - (p.start.milliseconds + Int64(p.releaseDay) * Timestamp.day)) / Double(Timestamp.hour)
    }

    /// The model an ordinary customer asks for at `ts`.
    func ordinaryModel(_ ts: Int64, _ rng: inout SimRandom) -> String {
        let since = hoursSinceRelease(ts)
        if since >= 0, rng.chance(min(p.models.benignAdoptionCap, (since / 24 + 1) * p.models.benignAdoptionPerDay)) {
            return p.models.released
        }
        return rng.pickWeighted(p.models.existing)
    }

    /// A time within the day at an hour drawn from local-time weights.
    func time(localWeights w: [Double], tz: Int, _ rng: inout SimRandom) -> Int64 {
        var hours: [(Int, Double)] = []
        hours.reserveCapacity(24)
        for h in 0..<24 { hours.append((h, w[h])) }
        let local = rng.pickWeighted(hours)
        let utc = ((local - tz) % 24 + 24) % 24
        return dayStart + Int64(utc) * Timestamp.hour + Int64(rng.unit() * Double(Timestamp.hour))
    }

    /// Serializes one exchange into the day's buffer.
    mutating func emit(_ a: SimAccount, ts: Int64, _ c: TurnContent, from source: NetworkSource?, _ rng: inout SimRandom) {
        let p = self.p
        let id = "x\(day)-\(nextID)"
        nextID += 1
        let fullSystem = c.systemPrompt ?? a.systemPrompt
        let system = fullSystem.map { Corpus.truncate($0, p.systemPromptChars) }
        let prompt = Corpus.truncate(c.prompt, p.promptChars)
        let response = Corpus.truncate(c.response, p.responseChars)
        let reasoning = c.thinking ? rng.int(200...6_000) : nil
        let input = (c.prompt.utf8.count + c.historyChars + (fullSystem?.utf8.count ?? 0)) / 4 + 8 + c.tools * 120
        let output = c.responseChars / 4 + 1 + (reasoning ?? 0)
        let stream = rng.chance(0.55)
        let latency = Double(Int(300 + Double(output) * rng.uniform(8, 25)))
        let exchange = Exchange(
            id: id, ts: Timestamp(milliseconds: ts), accountID: a.id, model: c.model, inputTokens: input, outputTokens: output,
            orgID: a.record.orgID, apiKeyID: "key-" + a.id, endpoint: a.client.endpoint, conversationID: c.conversationID,
            turn: c.turn, systemPrompt: system, prompt: prompt, response: response, reasoningTokens: reasoning,
            thinkingRequested: c.thinking ? true : nil, tools: c.tools > 0 ? c.tools : nil,
            toolCalls: c.tools > 0 ? c.toolCalls : nil, maxTokens: c.maxTokens, temperature: c.temperature,
            stream: stream, status: 200, latencyMs: latency,
            client: Exchange.Client(ip: source?.ip, asn: source?.asn, asnOrg: source?.asnOrg, country: source?.country,
                                    userAgent: a.client.userAgent, tlsFingerprint: a.client.tlsFingerprint),
            label: a.label)
        json.reset()
        exchange.write(to: &json)
        let lag = rng.chance(p.laggingReplicaShare) ? rng.uniform(0, p.maxLogDisorderSeconds) : rng.uniform(0, 0.2)
        buffer.append(json.bytes, ts: ts, logTime: ts + Int64(lag * 1000))
        counts[a.archetype, default: 0] += 1
    }
}

/// Local-hour activity weights.
enum Diurnal {
    static let human: [Double] = [0.25, 0.12, 0.06, 0.04, 0.04, 0.08, 0.25, 0.55, 0.95, 1.25, 1.35, 1.3,
                                  1.1, 1.2, 1.3, 1.3, 1.2, 1.0, 0.9, 1.0, 1.1, 1.0, 0.75, 0.45]
    static let work: [Double] = [0, 0, 0, 0, 0, 0, 0.05, 0.3, 1, 1.3, 1.3, 1.1, 0.7, 1.1, 1.3, 1.3, 1.1, 0.6, 0.2, 0.05, 0.02, 0, 0, 0]
    static let evening: [Double] = [0.3, 0.1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.2, 0.5, 0.8, 1, 1.3, 1.4, 1.2, 0.7]
    static let flat = [Double](repeating: 1, count: 24)

    static func flattened(_ w: [Double], depth: Double) -> [Double] { w.map { 1 - depth + depth * $0 } }
}
