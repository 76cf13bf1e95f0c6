import MoatCore
extension Simulator {
    /// Generates one account's exchanges for the day in `ctx`.
    func generate(_ a: SimAccount, _ ctx: inout DayContext) {
        let dayEnd = ctx.dayStart + Timestamp.day
        guard a.activeFrom < dayEnd, a.activeUntil > ctx.dayStart else { return }
        var rng = SimRandom(seed, 100, UInt64(a.index), UInt64(ctx.day))
        switch a.archetype {
        case .individual: individualDay(a, &ctx, &rng)
        case .saas: saasDay(a, &ctx, &rng)
        case .evalHarness: evalHarnessDay(a, &ctx, &rng)
        case .agentic: agenticDay(a, &ctx, &rng)
        case .classroom: classroomDay(a, &ctx, &rng)
        case .enterprise: enterpriseDay(a, &ctx, &rng)
        case .hydra: hydraDay(a, &ctx, &rng)
        case .cotHarvest: cotHarvestDay(a, &ctx, &rng)
        case .drip: dripDay(a, &ctx, &rng)
        case .phoenix, .phoenixReturn: phoenixDay(a, &ctx, &rng)
        case .blend, .sleeper: break  // driven by one scheduler for the whole campaign: generateBlendDay, generateSleeperDay
        }
    }

    /// The address an account calls from for one session.
    func source(_ a: SimAccount, day: Int, _ rng: inout SimRandom) -> NetworkSource? {
        switch a.network {
        case .home(let isp, let roams):
            if roams, rng.chance(0.3) {
                let other = rng.chance(0.5) ? Networks.consumer(&rng) : Networks.cloud(&rng)
                return other.source(other.address(&rng))
            }
            var weekly = SimRandom(seed, 200, UInt64(a.index), UInt64(day / 7))  // dynamic IP, renewed weekly
            return isp.source(isp.address(&weekly))
        case .fixed(let sources):
            return sources.isEmpty ? nil : rng.pick(sources)
        case .pool(let index):
            return rng.pick(population.pools[index])
        case .rotating(let isp, let days):
            var period = SimRandom(seed, 201, UInt64(a.index), UInt64(day / max(days, 1)))
            return isp.source(isp.address(&period))
        }
    }

    /// A multi-turn chat drawn from a real conversation.
    func chatSession(_ a: SimAccount, at start: Int64, turnsMean: Double, thinkingShare: Double, codingShare: Double,
                     _ ctx: inout DayContext, _ rng: inout SimRandom) {
        let src = source(a, day: ctx.day, &rng)
        let conversationID = "c-\(a.id)-\(ctx.day)-\(rng.next() % 1_000_000)"
        let model = ctx.ordinaryModel(start, &rng)
        let thinking = rng.chance(thinkingShare)
        let temperature: Double? = rng.pickWeighted([(nil, 5.0), (0.7, 2), (1.0, 2), (0.2, 1)])
        var ts = start
        if rng.chance(codingShare), !corpus.codingProblems.isEmpty {
            let problem = rng.pick(corpus.codingProblems)
            let framing = rng.pick(["", "Write this function:\n", "Can you implement this?\n", "Fix my code:\n"])
            let (answer, chars) = Answers.code(problem, &rng)
            ctx.emit(a, ts: ts, TurnContent(prompt: framing + problem.prompt, response: answer, responseChars: chars, model: model,
                                            thinking: thinking, temperature: temperature, conversationID: conversationID, turn: 0),
                     from: src, &rng)
            return
        }
        guard let conversation = corpus.conversations.randomElement(using: &rng) else { return }
        let turns = min(conversation.count, rng.geometric(mean: turnsMean))
        var history = 0
        for t in 0..<turns {
            let turn = conversation[t]
            ctx.emit(a, ts: ts, TurnContent(prompt: turn.prompt, response: turn.response, responseChars: turn.responseChars,
                                            model: model, thinking: thinking, temperature: temperature,
                                            maxTokens: rng.chance(0.4) ? 4096 : nil, conversationID: conversationID,
                                            turn: t, historyChars: history), from: src, &rng)
            history += turn.prompt.utf8.count + turn.responseChars
            ts += Int64(rng.uniform(15, 300) * 1000)
        }
    }

    func individualDay(_ a: SimAccount, _ ctx: inout DayContext, _ rng: inout SimRandom) {
        let ind = parameters.individuals
        let sessions = rng.poisson(a.activity * (ctx.isWeekend ? ind.weekendFactor : 1))
        for _ in 0..<sessions {
            let start = ctx.time(localWeights: Diurnal.human, tz: a.timezone, &rng)
            guard start >= a.activeFrom else { continue }
            chatSession(a, at: start, turnsMean: ind.turnsMean, thinkingShare: ind.thinkingShare, codingShare: ind.codingShare,
                        &ctx, &rng)
        }
    }

    func saasDay(_ a: SimAccount, _ ctx: inout DayContext, _ rng: inout SimRandom) {
        let weights = Diurnal.flattened(Diurnal.human, depth: parameters.saas.diurnalDepth)
        let firstTurns = corpus.conversations
        for _ in 0..<rng.poisson(a.activity) {
            let ts = ctx.time(localWeights: weights, tz: a.timezone, &rng)
            guard let turn = firstTurns.randomElement(using: &rng)?.first else { return }
            ctx.emit(a, ts: ts, TurnContent(prompt: turn.prompt, response: turn.response, responseChars: turn.responseChars,
                                            model: a.member % 2 == 0 ? "atlas-2-flash" : "atlas-2-mini", temperature: 0.3,
                                            maxTokens: 1024), from: source(a, day: ctx.day, &rng), &rng)
        }
    }

    func evalHarnessDay(_ a: SimAccount, _ ctx: inout DayContext, _ rng: inout SimRandom) {
        let e = parameters.evalHarness
        var runs: [(Int64, [String])] = []
        for _ in 0..<rng.poisson(a.activity * (ctx.isWeekend ? 0.3 : 1)) {
            let n = rng.int(e.modelsPerRun)
            let models = (0..<n).map { _ in ctx.ordinaryModel(ctx.dayStart, &rng) }
            runs.append((ctx.time(localWeights: Diurnal.work, tz: a.timezone, &rng), Array(Set(models)).sorted()))
        }
        // A new model is benchmarked within hours of its release.
        let releaseAt = parameters.start.milliseconds + Int64(parameters.releaseDay) * Timestamp.day
            + Int64((a.releaseLagHours ?? 4) * Double(Timestamp.hour))
        if releaseAt >= ctx.dayStart, releaseAt < ctx.dayStart + Timestamp.day {
            runs.append((releaseAt, [parameters.models.released, parameters.models.existing[0].0]))
        }
        for (start, models) in runs {
            // CI runners get a fresh cloud address per run.
            let cloud = Networks.cloud(&rng)
            let src = cloud.source(cloud.address(&rng))
            var ts = start
            for model in models {
                for _ in 0..<rng.int(e.problemsPerRun) {
                    let prompt = Content.benchmarkPrompt(&rng, corpus: corpus, harness: a.member)
                    let (answer, chars) = a.member % 2 == 0 ? Answers.code(rng.pick(corpus.codingProblems), &rng) : Answers.reasoning(&rng)
                    ctx.emit(a, ts: ts, TurnContent(prompt: prompt, response: answer, responseChars: chars, model: model,
                                                    temperature: 0, maxTokens: 2048), from: src, &rng)
                    ts += Int64(rng.uniform(e.secondsBetweenRequests) * 1000)
                }
            }
        }
    }

    func agenticDay(_ a: SimAccount, _ ctx: inout DayContext, _ rng: inout SimRandom) {
        let g = parameters.agentic
        // A new release of the popular agent tool brings everyone back to it on the same day.
        let boost = ctx.day == g.toolReleaseDay ? g.toolReleaseBoost : 1
        let sessions = rng.poisson(a.activity * boost * (ctx.isWeekend ? 0.3 : 1))
        for _ in 0..<sessions {
            let weights = rng.chance(g.lateNightShare) ? Diurnal.evening : Diurnal.work
            var ts = ctx.time(localWeights: weights, tz: a.timezone, &rng)
            let src = source(a, day: ctx.day, &rng)
            let since = ctx.hoursSinceRelease(ts)
            let model = (a.releaseLagHours.map { since >= $0 } ?? false) && rng.chance(0.7)
                ? parameters.models.released : rng.pickWeighted([("atlas-2-pro", 0.8), ("atlas-2-flash", 0.2)])
            let conversationID = "c-\(a.id)-\(ctx.day)-\(rng.next() % 1_000_000)"
            let thinking = rng.chance(g.thinkingShare)
            let tools = rng.int(g.tools)
            var history = 0
            for t in 0..<rng.int(g.turnsPerSession) {
                let prompt = Content.agentStep(&rng, corpus: corpus, turn: t)
                let (answer, chars) = Answers.agentAction(&rng)
                ctx.emit(a, ts: ts, TurnContent(prompt: prompt, response: answer, responseChars: chars, model: model,
                                                thinking: thinking, tools: tools, toolCalls: rng.int(0...3), maxTokens: 16_000,
                                                conversationID: conversationID, turn: t, historyChars: history), from: src, &rng)
                history += prompt.utf8.count + chars
                ts += Int64(rng.uniform(g.secondsBetweenTurns) * 1000)
            }
        }
    }

    func classroomDay(_ a: SimAccount, _ ctx: inout DayContext, _ rng: inout SimRandom) {
        let c = parameters.classroom
        let week = ctx.day / 7
        if c.labWeekdays.contains(ctx.weekday), rng.chance(c.attendance) {
            let labStart = ctx.dayStart + Int64(((c.labStartHourLocal - c.timezone) % 24 + 24) % 24) * Timestamp.hour
            var ts = labStart + Int64(rng.uniform(0, 1_800) * 1000)
            let labEnd = labStart + Int64(c.labHours * Double(Timestamp.hour))
            for t in 0..<rng.int(c.exchangesPerLab) where ts < labEnd {
                let prompt = Content.homeworkPrompt(&rng, week: week)
                let (answer, chars) = Answers.code(rng.pick(corpus.codingProblems), &rng)
                ctx.emit(a, ts: ts, TurnContent(prompt: prompt, response: answer, responseChars: chars, model: "atlas-2-flash",
                                                conversationID: "c-\(a.id)-\(ctx.day)-lab", turn: t),
                         from: source(a, day: ctx.day, &rng), &rng)
                ts += Int64(rng.uniform(60, 600) * 1000)
            }
        }
        for _ in 0..<rng.poisson(a.activity) {
            let ts = ctx.time(localWeights: Diurnal.evening, tz: a.timezone, &rng)
            let isp = Networks.consumer(&rng)
            let prompt = Content.homeworkPrompt(&rng, week: week)
            let (answer, chars) = Answers.code(rng.pick(corpus.codingProblems), &rng)
            ctx.emit(a, ts: ts, TurnContent(prompt: prompt, response: answer, responseChars: chars, model: "atlas-2-flash"),
                     from: isp.source(isp.address(&rng)), &rng)
        }
    }

    func enterpriseDay(_ a: SimAccount, _ ctx: inout DayContext, _ rng: inout SimRandom) {
        guard !ctx.isWeekend else { return }
        for _ in 0..<rng.poisson(a.activity) {
            let start = ctx.time(localWeights: Diurnal.work, tz: a.timezone, &rng)
            chatSession(a, at: start, turnsMean: parameters.enterprise.turnsMean, thinkingShare: 0.05, codingShare: 0.1,
                        &ctx, &rng)
        }
    }
}
