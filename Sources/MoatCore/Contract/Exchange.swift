/// One request to the model API and its answer: a line of the exchange log (contract section 1).
public struct Exchange: Sendable, Equatable {
    public var id: String
    public var ts: Timestamp
    public var accountID: String
    public var model: String
    public var inputTokens: Int
    public var outputTokens: Int
    public var orgID: String?
    public var apiKeyID: String?
    public var endpoint: String?
    public var conversationID: String?
    public var turn: Int?
    public var systemPrompt: String?
    public var prompt: String?
    public var response: String?
    public var reasoningTokens: Int?
    public var thinkingRequested: Bool?
    public var tools: Int?
    public var toolCalls: Int?
    public var maxTokens: Int?
    public var temperature: Double?
    public var stream: Bool?
    public var status: Int?
    public var latencyMs: Double?
    /// How the exchange ended, when not simply completed (optional addition to the contract):
    /// `completed`, `client_closed`, `upstream_broken`, `timeout`, `cancelled`.
    public var outcome: String?
    /// The countermeasures the gateway applied to the answer (optional addition), e.g. `withhold_reasoning`,
    /// `fingerprint`, or both joined with `+`.
    public var countermeasure: String?
    public var client: Client
    /// Ground truth for evaluation only. Detection never reads it.
    public var label: String?

    public struct Client: Sendable, Equatable {
        public var ip: String?
        public var asn: Int?
        public var asnOrg: String?
        public var country: String?
        public var userAgent: String?
        public var tlsFingerprint: String?

        public init(ip: String? = nil, asn: Int? = nil, asnOrg: String? = nil, country: String? = nil,
                    userAgent: String? = nil, tlsFingerprint: String? = nil) {
            self.ip = ip
            self.asn = asn
            self.asnOrg = asnOrg
            self.country = country
            self.userAgent = userAgent
            self.tlsFingerprint = tlsFingerprint
        }

        public var isEmpty: Bool {
            ip == nil && asn == nil && asnOrg == nil && country == nil && userAgent == nil && tlsFingerprint == nil
        }
    }

    public init(id: String, ts: Timestamp, accountID: String, model: String, inputTokens: Int, outputTokens: Int,
                orgID: String? = nil, apiKeyID: String? = nil, endpoint: String? = nil, conversationID: String? = nil,
                turn: Int? = nil, systemPrompt: String? = nil, prompt: String? = nil, response: String? = nil,
                reasoningTokens: Int? = nil, thinkingRequested: Bool? = nil, tools: Int? = nil, toolCalls: Int? = nil,
                maxTokens: Int? = nil, temperature: Double? = nil, stream: Bool? = nil, status: Int? = nil,
                latencyMs: Double? = nil, client: Client = Client(), label: String? = nil, outcome: String? = nil,
                countermeasure: String? = nil) {
        self.outcome = outcome
        self.countermeasure = countermeasure
        self.id = id
        self.ts = ts
        self.accountID = accountID
        self.model = model
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.orgID = orgID
        self.apiKeyID = apiKeyID
        self.endpoint = endpoint
        self.conversationID = conversationID
        self.turn = turn
        self.systemPrompt = systemPrompt
        self.prompt = prompt
        self.response = response
        self.reasoningTokens = reasoningTokens
        self.thinkingRequested = thinkingRequested
        self.tools = tools
        self.toolCalls = toolCalls
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.stream = stream
        self.status = status
        self.latencyMs = latencyMs
        self.client = client
        self.label = label
    }
}
