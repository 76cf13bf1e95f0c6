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
                let prompt = t == 0 ? Content.hydraTask(&rng, corpus: corpus) : Content.hydraFollowUp(&rng)
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

    /// Chain-of-thought harvest: human hours in one time zone, reasoning problems with explicit
    /// chain-of-thought elicitation, and "safe" rewrites of politically sensitive questions.
    func cotHarvestDay(_ a: SimAccount, _ ctx: inout DayContext, _ rng: inout SimRandom) {
        let c = parameters.cotHarvest
        for _ in 0..<rng.poisson(a.activity * (ctx.isWeekend ? 0.7 : 1)) {
            let ts = ctx.time(localWeights: Diurnal.human, tz: a.timezone, &rng)
            guard ts >= a.activeFrom else { continue }
            let prompt = Content.cotHarvest(&rng, rewriteShare: c.rewriteShare)
            let (answer, chars) = prompt.hasPrefix("Rewrite") ? Answers.rewrite(&rng) : Answers.reasoning(&rng)
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
                    let prompt = Content.blendExtraction(&rng, corpus: corpus)
                    let (answer, chars) = prompt.contains("def ") ? Answers.code(rng.pick(corpus.codingProblems), &rng) : Answers.reasoning(&rng)
                    content = TurnContent(prompt: prompt, response: answer, responseChars: chars, model: ctx.ordinaryModel(ts, &rng),
                                          thinking: rng.chance(0.6), maxTokens: 8_192)
                } else {
                    guard let turn = corpus.conversations.randomElement(using: &rng)?.first else { continue }
                    content = TurnContent(prompt: turn.prompt, response: turn.response, responseChars: turn.responseChars,
                                          model: ctx.ordinaryModel(ts, &rng), temperature: rng.chance(0.5) ? 0.7 : nil)
                }
                ctx.emit(a, ts: ts, content, from: source(a, day: ctx.day, &rng), &rng)
            }
            t += tick
        }
    }
}
