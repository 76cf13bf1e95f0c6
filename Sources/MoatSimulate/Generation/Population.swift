import MoatCore
/// Builds every simulated account from the scenario's parameters, deterministically from the seed.
struct Population {
    var accounts: [SimAccount] = []
    /// Proxy pools shared by campaigns (`NetworkPlan.pool`).
    var pools: [[NetworkSource]] = []

    init(_ p: ScenarioParameters, seed: UInt64) {
        let start = p.start.milliseconds
        let day = Timestamp.day
        var rng = SimRandom(seed, 1)
        var list: [SimAccount] = []
        var pools: [[NetworkSource]] = []

        func cardHash(_ tag: String, _ n: Int) -> String {
            var h = SimRandom(seed, UInt64(truncatingIfNeeded: tag.hashValueStable), UInt64(n))
            return "pm_" + String(h.next(), radix: 16)
        }
        func add(_ archetype: Archetype, id: String, member: Int, created: Int64, activeFrom: Int64, tz: Int,
                 activity: Double, network: NetworkPlan, client: ClientStack, system: String? = nil,
                 org: String? = nil, email: String, card: String?, verification: String, program: String,
                 country: String, label: String? = nil, releaseLag: Double? = nil, until: Int64 = .max) {
            let record = Account(accountID: id, createdAt: Timestamp(milliseconds: created), orgID: org,
                                 emailDomain: email, paymentFingerprint: card, verification: verification,
                                 program: program, country: country, label: label)
            list.append(SimAccount(index: list.count, archetype: archetype, record: record, timezone: tz,
                                       activity: activity, activeFrom: activeFrom, network: network, client: client,
                                       systemPrompt: system, member: member, releaseLagHours: releaseLag,
                                       activeUntil: until))
        }
        let commonDomains: [(String, Double)] = [("gmail.com", 50), ("outlook.com", 12), ("yahoo.com", 6), ("icloud.com", 6),
                                                 ("hotmail.com", 4), ("proton.me", 2), ("qq.com", 3)]
        func pastSignup(_ rng: inout SimRandom, maxDays: Double) -> Int64 {
            start - Int64(rng.uniform(1, maxDays) * Double(day))
        }

        // Ordinary individuals.
        let ind = p.individuals
        for i in 0..<ind.accounts {
            var r = SimRandom(seed, 10, UInt64(i))
            let cloud = r.chance(ind.cloudShare)
            let isp = cloud ? Networks.cloud(&r) : Networks.consumer(&r)
            let network: NetworkPlan = cloud ? .fixed([isp.source(isp.address(&r))]) : .home(isp: isp, roams: r.chance(ind.roamingShare))
            let country = cloud ? Networks.consumer(&r).country : isp.country
            let isNew = r.chance(ind.newSignupShare)
            let created = isNew ? start + Int64(r.uniform(0, Double(p.days) * 0.8) * Double(day)) : pastSignup(&r, maxDays: 700)
            let company = r.chance(0.25)
            let email = company ? "co\(r.int(1...40_000)).com" : r.pickWeighted(commonDomains)
            let program = r.pickWeighted([("standard", 88.0), ("startup", 5), ("research", 3), ("education", 4)])
            add(.individual, id: String(format6: "u", i), member: i, created: created,
                activeFrom: max(created, start), tz: Networks.timezone(country: country, &r),
                activity: min(ind.sessionsCap, r.logNormal(median: ind.sessionsMedian, sigma: ind.sessionsSigma)),
                network: network, client: Clients.ordinary(&r), email: email, card: cardHash("ind", i),
                verification: r.pickWeighted([("email", 60.0), ("phone", 30), ("id", 5), ("none", 5)]),
                program: program, country: country)
        }

        // SaaS backends.
        let companies = ["Zendly", "Shopwise", "Ticketry", "Learnly", "Docuflow", "Mailmint", "Carebot", "Legalese",
                         "Tripmate", "Fintrack", "Hirebase", "Quillbox", "Medinote", "Salescope", "Homely"]
        for i in 0..<p.saas.accounts {
            var r = SimRandom(seed, 11, UInt64(i))
            let cloud = Networks.cloud(&r)
            let prefix = r.next()
            let ips = (0..<r.int(p.saas.egressIPs)).map { cloud.source(cloud.address(inPrefix: prefix, host: $0 * 7 + 3)) }
            let company = companies[i % companies.count] + (i >= companies.count ? "\(i)" : "")
            var client = Clients.ordinary(&r)
            client.userAgent = r.chance(0.5) ? "OpenAI/Python 1.\(r.int(40...58)).0" : "Go-http-client/2.0"
            client.tlsFingerprint = client.userAgent.hasPrefix("Go") ? Clients.tlsGo : Clients.tlsPython
            add(.saas, id: String(format6: "s", i), member: i, created: pastSignup(&r, maxDays: 500), activeFrom: start,
                tz: r.pick([-5, -8, 0, 1]), activity: r.logNormal(median: p.saas.exchangesMedian, sigma: p.saas.exchangesSigma),
                network: .fixed(ips), client: client,
                system: Content.saasSystemPrompt(company: company, product: company + " Assistant"),
                org: "org-\(company.lowercased())", email: company.lowercased() + ".io", card: cardHash("saas", i),
                verification: "business", program: "standard", country: "US")
        }

        // Evaluation harnesses.
        for i in 0..<p.evalHarness.accounts {
            var r = SimRandom(seed, 12, UInt64(i))
            let lab = ["evalworks", "benchlab", "openeval", "modelscope-qa", "ai-audit", "redteam-inc"][i % 6]
            add(.evalHarness, id: String(format6: "e", i), member: i, created: pastSignup(&r, maxDays: 400), activeFrom: start,
                tz: r.pick([-8, -5, 1]), activity: p.evalHarness.runsPerWeek / 7, network: .fixed([]),
                client: ClientStack(userAgent: "OpenAI/Python 1.\(r.int(40...58)).0", tlsFingerprint: Clients.tlsPython, endpoint: "chat.completions"),
                org: "org-\(lab)", email: "\(lab).ai", card: cardHash("eval", i), verification: "business",
                program: r.chance(0.5) ? "research" : "standard", country: "US", releaseLag: r.uniform(p.evalHarness.releaseReactionHours))
        }

        // Agentic coding power users.
        for i in 0..<p.agentic.accounts {
            var r = SimRandom(seed, 13, UInt64(i))
            let isp = Networks.consumer(&r)
            add(.agentic, id: String(format6: "a", i), member: i, created: pastSignup(&r, maxDays: 300), activeFrom: start,
                tz: Networks.timezone(country: isp.country, &r), activity: r.uniform(p.agentic.sessionsPerWorkday),
                network: .home(isp: isp, roams: r.chance(0.4)), client: Clients.codingAgent, system: Content.agentSystemPrompt,
                email: r.chance(0.5) ? "gmail.com" : "dev\(r.int(1...9000)).io", card: cardHash("agent", i),
                verification: r.pick(["email", "phone"]), program: r.chance(0.2) ? "startup" : "standard",
                country: isp.country, releaseLag: r.chance(0.6) ? r.uniform(1, 72) : nil)
        }

        // A university class.
        let campus = Networks.university
        let campusNAT = [campus.source("128.103.44.10"), campus.source("128.103.44.11")]
        let semester = start - 30 * day
        for i in 0..<p.classroom.accounts {
            var r = SimRandom(seed, 14, UInt64(i))
            let created = semester + Int64(r.uniform(0, p.classroom.signupSpreadDays) * Double(day))
            add(.classroom, id: String(format6: "k", i), member: i, created: created, activeFrom: start,
                tz: p.classroom.timezone, activity: p.classroom.homeworkSessionsPerDay, network: .fixed(campusNAT),
                client: ClientStack(userAgent: "OpenAI/Python 1.52.0", tlsFingerprint: Clients.tlsPython, endpoint: "chat.completions"),
                email: "cs.stateu.edu", card: nil, verification: "email", program: "education", country: "US")
        }

        // An enterprise.
        let proxy = Networks.enterpriseProxy
        let egress = [proxy.source("130.61.20.5"), proxy.source("130.61.20.6")]
        let corporateCard = cardHash("globex", 0)
        for i in 0..<p.enterprise.accounts {
            var r = SimRandom(seed, 15, UInt64(i))
            add(.enterprise, id: String(format6: "g", i), member: i, created: start - Int64(r.uniform(200, 207) * Double(day)),
                activeFrom: start, tz: p.enterprise.timezone, activity: r.uniform(p.enterprise.sessionsPerWorkday),
                network: .fixed(egress),
                client: ClientStack(userAgent: "globex-copilot/4.2.0 (internal)", tlsFingerprint: Clients.tlsJava, endpoint: "chat.completions"),
                system: Content.enterpriseSystemPrompt, org: "org-globex", email: "globex.com", card: corporateCard,
                verification: "business", program: "enterprise", country: "DE")
        }

        // Campaign: hydra cluster.
        let h = p.hydra
        var hydraPool: [NetworkSource] = []
        for _ in 0..<h.proxyExits {
            let isp = Networks.consumer(&rng)
            hydraPool.append(isp.source(isp.address(&rng)))
        }
        pools.append(hydraPool)
        let hydraPoolIndex = pools.count - 1
        let throwaway = (0..<h.throwawayDomains).map { "\(["inboxly", "mailnest", "quickpost", "tempbox", "fastmail-x", "zmail", "postbin", "mailtap"][$0 % 8])\($0 / 8).\(["xyz", "top", "site", "online"][$0 % 4])" }
        for i in 0..<h.accounts {
            var r = SimRandom(seed, 20, UInt64(i))
            let wave = i % h.waves
            let waveStart = start + Int64((h.startDay * 24 + Double(wave) * h.hoursBetweenWaves) * Double(Timestamp.hour))
            let created = waveStart - 3 * day + Int64(r.uniform(0, 2) * Double(Timestamp.hour))
            add(.hydra, id: String(format6: "h", i), member: i, created: created,
                activeFrom: waveStart + Int64(r.uniform(0, 1.5) * Double(Timestamp.hour)), tz: 8,
                activity: r.uniform(h.exchangesPerDay), network: .pool(hydraPoolIndex),
                client: ClientStack(userAgent: "OpenAI/Python 1.\(r.int(44...52)).0", tlsFingerprint: Clients.tlsGo, endpoint: "chat.completions"),
                email: r.pick(throwaway), card: cardHash("hydra", r.index(h.prepaidCards)), verification: "email",
                program: r.chance(0.6) ? "startup" : "education", country: r.pick(["US", "SG", "GB", "CA", "DE"]),
                label: h.name, releaseLag: r.uniform(2, h.releaseMoveHours))
        }

        // Campaign: low-and-slow chain-of-thought harvest.
        let c = p.cotHarvest
        let prefixes: [(AutonomousSystem, UInt64)] = (0..<c.prefixes).map { _ in (rng.pick(Networks.smallHosts), rng.next()) }
        for i in 0..<c.accounts {
            var r = SimRandom(seed, 21, UInt64(i))
            let (host, prefix) = prefixes[r.index(prefixes.count)]
            let ips = (0..<r.int(1...2)).map { _ in host.source(host.address(inPrefix: prefix, host: r.int(2...250))) }
            add(.cotHarvest, id: String(format6: "r", i), member: i, created: start - Int64(r.uniform(40, 55) * Double(day)),
                activeFrom: start + Int64((c.startDay + r.uniform(0, 1.0)) * Double(day)), tz: c.timezone,
                activity: r.uniform(c.exchangesPerDay), network: .fixed(ips),
                client: ClientStack(userAgent: "OpenAI/Python 1.\(r.int(38...46)).0", tlsFingerprint: Clients.tlsPython, endpoint: "chat.completions"),
                email: r.pickWeighted(commonDomains), card: cardHash("cot", r.index(c.cards)), verification: "phone",
                program: r.chance(0.5) ? "research" : "standard", country: r.pick(["US", "SG", "MY"]), label: c.name)
        }

        // Campaign: blend driven by one scheduler.
        let b = p.blend
        var blendPool: [NetworkSource] = []
        for _ in 0..<b.proxyExits {
            let cloud = Networks.cloud(&rng)
            blendPool.append(cloud.source(cloud.address(&rng)))
        }
        pools.append(blendPool)
        let blendPoolIndex = pools.count - 1
        for i in 0..<b.accounts {
            var r = SimRandom(seed, 22, UInt64(i))
            add(.blend, id: String(format6: "b", i), member: i, created: start - Int64(r.uniform(2, 12) * Double(day)),
                activeFrom: start + Int64(b.startDay * Double(day)), tz: 0, activity: 1, network: .pool(blendPoolIndex),
                client: ClientStack(userAgent: "Anthropic/Python 0.\(r.int(34...40)).0", tlsFingerprint: Clients.tlsChromeImpersonation, endpoint: "messages"),
                email: r.pickWeighted(commonDomains), card: cardHash("blend", i), verification: "email", program: "standard",
                country: r.pick(["US", "GB", "CA", "AU"]), label: b.name)
        }
        // Campaign: no shared hard infrastructure, one scheduler (generated day by day in `generateSleeperDay`).
        let sl = p.sleeper
        let orchestrator = ClientStack(userAgent: "python-httpx/0.27.0", tlsFingerprint: Clients.tlsPython, endpoint: "chat.completions")
        let freeMail = commonDomains.filter { $0.0 != "qq.com" }
        for i in 0..<sl.accounts {
            var r = SimRandom(seed, 23, UInt64(i))
            let isp = Networks.consumer(&r)
            add(.sleeper, id: String(format6: "w", i), member: i, created: start - Int64(r.uniform(5, 150) * Double(day)),
                activeFrom: start + Int64((sl.startDay + r.uniform(0, 0.5)) * Double(day)),
                tz: Networks.timezone(country: isp.country, &r), activity: 1,
                network: .rotating(isp: isp, days: r.int(sl.addressDays)),
                client: r.chance(sl.sharedClientShare) ? orchestrator : Clients.ordinary(&r),
                email: r.pickWeighted(freeMail), card: cardHash("sleeper", i),
                verification: r.pickWeighted([("phone", 50.0), ("email", 50)]),
                program: r.pickWeighted([("standard", 80.0), ("startup", 10), ("research", 10)]),
                country: isp.country, label: sl.name)
        }

        // Campaign: low and slow, spread over several hosting prefixes at several providers, no shared card.
        let d = p.drip
        let dripPrefixes: [(AutonomousSystem, UInt64)] = (0..<d.prefixes).map { k in
            (Networks.smallHostingProviders[k % Networks.smallHostingProviders.count], rng.next())
        }
        for i in 0..<d.accounts {
            var r = SimRandom(seed, 24, UInt64(i))
            let (host, prefix) = dripPrefixes[i % dripPrefixes.count]
            let ips = (0..<r.int(1...2)).map { _ in host.source(host.address(inPrefix: prefix, host: r.int(2...250))) }
            add(.drip, id: String(format6: "d", i), member: i, created: start - Int64(r.uniform(20, 90) * Double(day)),
                activeFrom: start + Int64((d.startDay + r.uniform(0, 1.5)) * Double(day)), tz: d.timezone,
                activity: r.uniform(d.exchangesPerDay), network: .fixed(ips),
                client: ClientStack(userAgent: "OpenAI/Python 1.\(r.int(35...45)).0", tlsFingerprint: Clients.tlsPython, endpoint: "chat.completions"),
                email: r.pickWeighted(freeMail), card: cardHash("drip", i), verification: "phone",
                program: r.chance(0.5) ? "research" : "standard", country: r.pick(["TR", "AE", "GE"]), label: d.name)
        }

        // Campaign: taken down, then back with fresh accounts and new infrastructure but the same behaviour.
        let ph = p.phoenix
        let phoenixClient = ClientStack(userAgent: "undici/6.19.2", tlsFingerprint: Clients.tlsNode, endpoint: "messages")
        for (wave, label) in [ph.name, ph.returnName].enumerated() where ph.accounts > 0 {
            var pool: [NetworkSource] = []
            for _ in 0..<ph.proxyExits {
                let isp = Networks.consumer(&rng)
                pool.append(isp.source(isp.address(&rng)))
            }
            pools.append(pool)
            let poolIndex = pools.count - 1
            let domains = (0..<ph.domains).map { k in
                "\(["relaymail", "boxpost", "inkmail", "zipinbox", "mailcrate"][(k + wave * 2) % 5])\(wave)\(k).\(["io", "app", "dev", "me"][k % 4])"
            }
            let waveStart = start + Int64((wave == 0 ? ph.startDay : ph.returnDay) * Double(day))
            let waveEnd = wave == 0 ? start + Int64(ph.takedownDay * Double(day)) : Int64.max
            for i in 0..<ph.accounts {
                var r = SimRandom(seed, 25 + UInt64(wave), UInt64(i))
                add(wave == 0 ? .phoenix : .phoenixReturn, id: String(format6: wave == 0 ? "p" : "q", i), member: i,
                    created: waveStart - 2 * day + Int64(r.uniform(0, 6) * Double(Timestamp.hour)),
                    activeFrom: waveStart + Int64(r.uniform(0, 3) * Double(Timestamp.hour)), tz: 8,
                    activity: r.uniform(ph.exchangesPerDay), network: .pool(poolIndex), client: phoenixClient,
                    email: r.pick(domains), card: cardHash("phoenix\(wave)", r.index(ph.cards)), verification: "email",
                    program: r.chance(0.5) ? "startup" : "research", country: r.pick(["US", "SG", "GB", "NL"]),
                    label: label, until: waveEnd)
            }
        }
        self.accounts = list
        self.pools = pools
    }
}

extension String {
    /// `u-000042`: compact, sortable account ids.
    init(format6 prefix: String, _ n: Int) {
        let digits = String(n)
        let padding = String(repeating: "0", count: Swift.max(0, 6 - digits.count))
        self.init(prefix + "-" + padding + digits)
    }

    /// A hash that is the same in every process (Swift's `hashValue` is seeded per run).
    var hashValueStable: UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }
}

extension SimRandom {
    mutating func uniform(_ r: ClosedRange<Double>) -> Double { uniform(r.lowerBound, r.upperBound) }
}
