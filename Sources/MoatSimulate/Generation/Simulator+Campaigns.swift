import MoatCore
extension Simulator {
    /// Hydra: load-balanced around the clock, agentic software-engineering tasks over residential proxies,
    /// and half the traffic on the new model within a day of its release.
    func hydraDay(_ a: SimAccount, _ ctx: inout DayContext, _ rng: inout SimRandom) {
        let h = parameters.hydra
        var remaining = rng.poisson(a.activity)
        while remaining > 0 {
            var ts = ctx.dayStart + Int64(rng.unit() * Double(Timestamp.day))
            guard ts >= a.activeFrom else { remaining -= 1; continue }
            let src = source(a, day: ctx.day, &rng)  // one proxy exit per task
            let since = ctx.hoursSinceRelease(ts)
            let moved = since >= (a.releaseLagHours ?? .infinity) && rng.chance(h.releaseShare)
            let model = moved ? parameters.models.released : "atlas-2-pro"
            let conversationID = "c-\(a.id)-\(ctx.day)-\(rng.next() % 1_000_000)"
            let thinking = rng.chance(h.thinkingShare)
            let tools = rng.int(h.tools)
            var history = 0
            let turns = min(remaining, rng.int(h.turnsPerTask))
            for t in 0..<turns {
                let prompt = t == 0 ? Content.engineeringTask(&rng, bank: bank, voice: 0, corpus: corpus)
                    : bank.voice(0) + " " + bank.followUp(&rng)
                let (answer, chars) = Answers.agentAction(&rng)
                ctx.emit(a, ts: ts, TurnContent(prompt: prompt, response: answer, responseChars: chars, model: model,
                                                thinking: thinking, tools: tools, toolCalls: rng.int(1...4), maxTokens: 8_192,
                                                conversationID: conversationID, turn: t, historyChars: history), from: src, &rng)
                history += prompt.utf8.count + chars
                ts += Int64(rng.uniform(5, 45) * 1000)
            }
            remaining -= turns
        }
    }

    /// Chain-of-thought harvest: human hours in one time zone, reasoning problems with a request for the whole
    /// line of thought, and "safe" rewrites of politically sensitive questions.
    func cotHarvestDay(_ a: SimAccount, _ ctx: inout DayContext, _ rng: inout SimRandom) {
        let c = parameters.cotHarvest
        for _ in 0..<rng.poisson(a.activity * (ctx.isWeekend ? 0.7 : 1)) {
            let ts = ctx.time(localWeights: Diurnal.human, tz: a.timezone, &rng)
            guard ts >= a.activeFrom else { continue }
            let (prompt, rewrite) = Content.traceHarvest(&rng, bank: bank, voice: 1, rewriteShare: c.rewriteShare)
            let (answer, chars) = rewrite ? Answers.rewrite(&rng) : Answers.reasoning(&rng)
            ctx.emit(a, ts: ts, TurnContent(prompt: prompt, response: answer, responseChars: chars,
                                            model: ctx.ordinaryModel(ts, &rng), thinking: rng.chance(c.thinkingShare),
                                            temperature: rng.chance(0.5) ? 0 : nil, maxTokens: 4_096),
                     from: source(a, day: ctx.day, &rng), &rng)
        }
    }

    /// Blend: one scheduler wakes every few minutes and fires a share of the accounts within seconds;
    /// extraction prompts are hidden among natural cover prompts.
    func generateBlendDay(_ ctx: inout DayContext) {
        let b = parameters.blend
        let members = population.accounts.filter { $0.archetype == .blend }
        guard !members.isEmpty else { return }
        var rng = SimRandom(seed, 300, UInt64(ctx.day))
        let tick = Int64(b.tickMinutes * Double(Timestamp.minute))
        var t = ctx.dayStart + Int64(rng.unit() * Double(tick))
        while t < ctx.dayStart + Timestamp.day {
            let share = rng.uniform(b.accountsPerTick)
            for a in members where a.activeFrom <= t && rng.chance(share) {
                let ts = t + Int64(rng.uniform(0, b.tickSpreadSeconds) * 1000)
                let content: TurnContent
                if rng.chance(b.extractionShare) {
                    let (prompt, coding) = Content.solutionTask(&rng, bank: bank, voice: 2, corpus: corpus)
                    let (answer, chars) = coding ? Answers.code(rng.pick(corpus.codingProblems), &rng) : Answers.reasoning(&rng)
                    content = TurnContent(prompt: prompt, response: answer, responseChars: chars, model: ctx.ordinaryModel(ts, &rng),
                                          thinking: rng.chance(0.6), maxTokens: 8_192)
                } else {
                    guard let turn = corpus.conversations.randomElement(using: &rng)?.first else { continue }
                    content = coverTurn(turn, ts: ts, &ctx, &rng)
                }
                ctx.emit(a, ts: ts, content, from: source(a, day: ctx.day, &rng), &rng)
            }
            t += tick
        }
    }

    /// Ordinary-looking conversation a campaign mixes in, with the request shapes ordinary SDK users send.
    func coverTurn(_ turn: Corpus.Turn, ts: Int64, _ ctx: inout DayContext, _ rng: inout SimRandom) -> TurnContent {
        TurnContent(prompt: turn.prompt, response: turn.response, responseChars: turn.responseChars,
                    model: ctx.ordinaryModel(ts, &rng), temperature: rng.pickWeighted([(nil, 5.0), (0.7, 2), (1.0, 2)]),
                    maxTokens: rng.chance(0.4) ? 4_096 : nil)
    }

    /// No shared hard infrastructure: one scheduler wakes every couple of hours and fires a share of the
    /// accounts; each sends a few requests, most of them ordinary conversation, the rest extraction under
    /// the campaign's system-prompt family with the orchestrator's fixed request shape.
    func generateSleeperDay(_ ctx: inout DayContext) {
        let s = parameters.sleeper
        let members = population.accounts.filter { $0.archetype == .sleeper }
        guard !members.isEmpty else { return }
        var rng = SimRandom(seed, 301, UInt64(ctx.day))
        let period = s.waveHours * Double(Timestamp.hour)
        var t = ctx.dayStart + Int64(rng.unit() * period)
        while t < ctx.dayStart + Timestamp.day {
            let share = rng.uniform(s.accountsPerWave)
            for a in members where a.activeFrom <= t && rng.chance(share) {
                var ts = t + Int64(rng.uniform(0, s.waveSpreadMinutes * 60) * 1000)
                let src = source(a, day: ctx.day, &rng)
                for _ in 0..<rng.int(s.exchangesPerWake) {
                    let content: TurnContent
                    if rng.chance(s.extractionShare) {
                        let system = bank.systemPrompt(family: PhraseBank.Family.researcher.rawValue, variant: rng.index(3),
                                                       persona: a.member % 2)
                        content = extraction(system: system, voice: 3, ts: ts, maxTokens: 6_000, temperature: 0.4,
                                             thinking: rng.chance(s.thinkingShare), &ctx, &rng)
                    } else {
                        guard let turn = corpus.conversations.randomElement(using: &rng)?.first else { continue }
                        content = coverTurn(turn, ts: ts, &ctx, &rng)
                    }
                    ctx.emit(a, ts: ts, content, from: src, &rng)
                    ts += Int64(rng.uniform(20, 90) * 1000)
                }
            }
            t += Int64(period + rng.uniform(-s.waveJitterMinutes, s.waveJitterMinutes) * Double(Timestamp.minute))
        }
    }

    /// One extraction request of a scheduled campaign: a worked solution, a line of thought, or an
    /// engineering task, under the campaign's system prompt.
    func extraction(system: String, voice: Int, ts: Int64, maxTokens: Int, temperature: Double, thinking: Bool,
                    _ ctx: inout DayContext, _ rng: inout SimRandom) -> TurnContent {
        let prompt: String
        let answer: (String, Int)
        switch rng.index(3) {
        case 0:
            let (p, coding) = Content.solutionTask(&rng, bank: bank, voice: voice, corpus: corpus)
            prompt = p
            answer = coding ? Answers.code(rng.pick(corpus.codingProblems), &rng) : Answers.reasoning(&rng)
        case 1:
            prompt = Content.traceHarvest(&rng, bank: bank, voice: voice, rewriteShare: 0).0
            answer = Answers.reasoning(&rng)
        default:
            prompt = Content.engineeringTask(&rng, bank: bank, voice: voice, corpus: corpus)
            answer = Answers.agentAction(&rng)
        }
        return TurnContent(prompt: prompt, response: answer.0, responseChars: answer.1, model: ctx.ordinaryModel(ts, &rng),
                           thinking: thinking, temperature: temperature, maxTokens: maxTokens, systemPrompt: system)
    }

    /// Low and slow over several hosting prefixes: human hours in one time zone, a tutor system prompt on most
    /// requests, requests for the whole line of thought and "safe" rewrites.
    func dripDay(_ a: SimAccount, _ ctx: inout DayContext, _ rng: inout SimRandom) {
        let d = parameters.drip
        for _ in 0..<rng.poisson(a.activity * (ctx.isWeekend ? 0.6 : 1)) {
            let ts = ctx.time(localWeights: Diurnal.human, tz: a.timezone, &rng)
            guard ts >= a.activeFrom else { continue }
            let (prompt, rewrite) = Content.traceHarvest(&rng, bank: bank, voice: 4, rewriteShare: d.rewriteShare)
            let (answer, chars) = rewrite ? Answers.rewrite(&rng) : Answers.reasoning(&rng)
            let system = rng.chance(d.systemPromptShare)
                ? bank.systemPrompt(family: PhraseBank.Family.tutor.rawValue, variant: rng.index(3), persona: a.member % 3) : nil
            ctx.emit(a, ts: ts, TurnContent(prompt: prompt, response: answer, responseChars: chars,
                                            model: ctx.ordinaryModel(ts, &rng), thinking: rng.chance(d.thinkingShare),
                                            temperature: rng.chance(0.6) ? 0.3 : nil, maxTokens: 4_000, systemPrompt: system),
                     from: source(a, day: ctx.day, &rng), &rng)
        }
    }

    /// A campaign that is taken down and comes back: around the clock over its proxy pool, engineering tasks
    /// with tools and thinking under its engineer system prompt, one request shape.
    func phoenixDay(_ a: SimAccount, _ ctx: inout DayContext, _ rng: inout SimRandom) {
        let ph = parameters.phoenix
        var remaining = rng.poisson(a.activity)
        while remaining > 0 {
            var ts = ctx.dayStart + Int64(rng.unit() * Double(Timestamp.day))
            guard ts >= a.activeFrom, ts < a.activeUntil else { remaining -= 1; continue }
            let src = source(a, day: ctx.day, &rng)
            let conversationID = "c-\(a.id)-\(ctx.day)-\(rng.next() % 1_000_000)"
            let system = bank.systemPrompt(family: PhraseBank.Family.engineer.rawValue, variant: rng.index(3), persona: a.member % 2)
            let thinking = rng.chance(ph.thinkingShare)
            let tools = rng.int(ph.tools)
            let model = ctx.hoursSinceRelease(ts) > 6 && rng.chance(0.6) ? parameters.models.released : "atlas-2-pro"
            var history = 0
            let turns = min(remaining, rng.int(1...4))
            for t in 0..<turns where ts < a.activeUntil {
                let prompt = t == 0 ? Content.engineeringTask(&rng, bank: bank, voice: 5, corpus: corpus)
                    : bank.voice(5) + " " + bank.followUp(&rng)
                let (answer, chars) = Answers.agentAction(&rng)
                ctx.emit(a, ts: ts, TurnContent(prompt: prompt, response: answer, responseChars: chars, model: model,
                                                thinking: thinking, tools: tools, toolCalls: rng.int(1...3), temperature: 0.2,
                                                maxTokens: 12_000, conversationID: conversationID, turn: t, historyChars: history,
                                                systemPrompt: system), from: src, &rng)
                history += prompt.utf8.count + chars
                ts += Int64(rng.uniform(8, 60) * 1000)
            }
            remaining -= turns
        }
    }
}
