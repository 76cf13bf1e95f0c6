// Missing keys keep their defaults: a config file names only what it changes.

extension GatewayConfig {
    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let retired = try decoder.container(keyedBy: RetiredKeys.self)
        if retired.contains(.trustForwardedFor) {
            throw DecodingError.dataCorruptedError(
                forKey: .trustForwardedFor, in: retired,
                debugDescription: "replaced by `trusted_proxies`: list the addresses (CIDRs) of your proxies, e.g. [10.0.0.0/8]")
        }
        if retired.contains(.eventTimeHeader) {
            throw DecodingError.dataCorruptedError(
                forKey: .eventTimeHeader, in: retired,
                debugDescription: "event times from clients exist only in replay mode: write `replay: {event_time_header: NAME}` instead")
        }
        listen = try c.decodeIfPresent(Listener.self, forKey: .listen) ?? listen
        admin = try c.decodeIfPresent(AdminListener.self, forKey: .admin) ?? admin
        store = try c.decodeIfPresent(String.self, forKey: .store) ?? store
        localStore = try c.decodeIfPresent(String.self, forKey: .localStore) ?? localStore
        leaseIdleSeconds = try c.decodeIfPresent(Double.self, forKey: .leaseIdleSeconds) ?? leaseIdleSeconds
        replicaName = try c.decodeIfPresent(String.self, forKey: .replicaName)
        upstreams = try c.decodeIfPresent(Upstreams.self, forKey: .upstreams) ?? upstreams
        trustedProxies = try c.decodeIfPresent([String].self, forKey: .trustedProxies) ?? trustedProxies
        tlsFingerprintHeader = try c.decodeIfPresent(String.self, forKey: .tlsFingerprintHeader) ?? tlsFingerprintHeader
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? maxBodyBytes
        upstreamTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .upstreamTimeoutSeconds) ?? upstreamTimeoutSeconds
        upstreamMaxConnections = try c.decodeIfPresent(Int.self, forKey: .upstreamMaxConnections) ?? upstreamMaxConnections
        clientIdleTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .clientIdleTimeoutSeconds) ?? clientIdleTimeoutSeconds
        forwardHeaders = try c.decodeIfPresent([String].self, forKey: .forwardHeaders) ?? forwardHeaders
        log = try c.decodeIfPresent(LogConfig.self, forKey: .log) ?? log
        replay = try c.decodeIfPresent(ReplayConfig.self, forKey: .replay)
        limits = try c.decodeIfPresent(LimitsConfig.self, forKey: .limits) ?? limits
        policy = try c.decodeIfPresent(PolicyConfig.self, forKey: .policy) ?? policy
        fingerprint = try c.decodeIfPresent(FingerprintConfig.self, forKey: .fingerprint) ?? fingerprint
        regions = try c.decodeIfPresent(RegionsConfig.self, forKey: .regions) ?? regions
        detectionReorderSeconds = try c.decodeIfPresent(Double.self, forKey: .detectionReorderSeconds) ?? detectionReorderSeconds
        accountsRefreshSeconds = try c.decodeIfPresent(Double.self, forKey: .accountsRefreshSeconds) ?? accountsRefreshSeconds
        detectionResumeDays = try c.decodeIfPresent(Double.self, forKey: .detectionResumeDays)
        limitsSaveMs = try c.decodeIfPresent(Int.self, forKey: .limitsSaveMs) ?? limitsSaveMs
        asnHeader = try c.decodeIfPresent(String.self, forKey: .asnHeader)
        asnOrgHeader = try c.decodeIfPresent(String.self, forKey: .asnOrgHeader)
        countryHeader = try c.decodeIfPresent(String.self, forKey: .countryHeader)
    }
}

extension GatewayConfig.Listener {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? "127.0.0.1"
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? 8080
    }
}

extension GatewayConfig.AdminListener {
    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? port
        token = try c.decodeIfPresent(String.self, forKey: .token) ?? token
        tokenEnv = try c.decodeIfPresent(String.self, forKey: .tokenEnv) ?? tokenEnv
    }
}

extension GatewayConfig.Upstreams {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        openai = try c.decodeIfPresent(GatewayConfig.Upstream.self, forKey: .openai)
        anthropic = try c.decodeIfPresent(GatewayConfig.Upstream.self, forKey: .anthropic)
    }
}

extension LimitsConfig {
    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        defaultTier = try c.decodeIfPresent(String.self, forKey: .defaultTier) ?? defaultTier
        tiers = try c.decodeIfPresent([String: Tier].self, forKey: .tiers) ?? tiers
        assign = try c.decodeIfPresent([Rule].self, forKey: .assign) ?? assign
        defaultMaxTokens = try c.decodeIfPresent(Int.self, forKey: .defaultMaxTokens) ?? defaultMaxTokens
    }
}

extension PolicyConfig {
    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        campaign = try c.decodeIfPresent(GatewayAction.self, forKey: .campaign) ?? campaign
        suspicious = try c.decodeIfPresent(GatewayAction.self, forKey: .suspicious) ?? suspicious
        reviewBelowConfidence = try c.decodeIfPresent(Double.self, forKey: .reviewBelowConfidence) ?? reviewBelowConfidence
        takedown = try c.decodeIfPresent(Bool.self, forKey: .takedown) ?? takedown
        throttleTier = try c.decodeIfPresent(String.self, forKey: .throttleTier) ?? throttleTier
    }
}

extension GatewayConfig.ReplayConfig {
    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        eventTimeHeader = try c.decodeIfPresent(String.self, forKey: .eventTimeHeader) ?? eventTimeHeader
        maxAgeDays = try c.decodeIfPresent(Double.self, forKey: .maxAgeDays) ?? maxAgeDays
        maxFutureSeconds = try c.decodeIfPresent(Double.self, forKey: .maxFutureSeconds) ?? maxFutureSeconds
        lockstep = try c.decodeIfPresent(Bool.self, forKey: .lockstep) ?? lockstep
    }
}

extension GatewayConfig.LogConfig {
    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        durability = try c.decodeIfPresent(Durability.self, forKey: .durability) ?? durability
        fsyncIntervalMs = try c.decodeIfPresent(Int.self, forKey: .fsyncIntervalMs) ?? fsyncIntervalMs
        maxBacklogMB = try c.decodeIfPresent(Double.self, forKey: .maxBacklogMB) ?? maxBacklogMB
    }
}
