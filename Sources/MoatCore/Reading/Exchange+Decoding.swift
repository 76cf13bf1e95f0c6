/// The fields of an exchange line, matched from raw key bytes without building Strings.
enum ExchangeKey {
    case id, ts, accountID, model, inputTokens, outputTokens, orgID, apiKeyID, endpoint, conversationID, turn
    case systemPrompt, prompt, response, reasoningTokens, thinkingRequested, tools, toolCalls, maxTokens
    case temperature, stream, status, latencyMs, client, label, outcome, countermeasure, unknown

    @inline(__always)
    static func match(_ p: UnsafePointer<UInt8>, _ n: Int) -> ExchangeKey {
        @inline(__always) func eq(_ s: StaticString) -> Bool { JSONScanner.equals(p, s) }
        switch n {
        case 2:
            if eq("id") { return .id }
            if eq("ts") { return .ts }
        case 4:
            if eq("turn") { return .turn }
        case 5:
            if eq("model") { return .model }
            if eq("tools") { return .tools }
            if eq("label") { return .label }
        case 6:
            switch p[0] {
            case UInt8(ascii: "o"): if eq("org_id") { return .orgID }
            case UInt8(ascii: "p"): if eq("prompt") { return .prompt }
            case UInt8(ascii: "s"):
                if eq("stream") { return .stream }
                if eq("status") { return .status }
            case UInt8(ascii: "c"): if eq("client") { return .client }
            default: break
            }
        case 7:
            if eq("outcome") { return .outcome }
        case 8:
            if eq("endpoint") { return .endpoint }
            if eq("response") { return .response }
        case 10:
            switch p[0] {
            case UInt8(ascii: "a"):
                if eq("account_id") { return .accountID }
                if eq("api_key_id") { return .apiKeyID }
            case UInt8(ascii: "m"): if eq("max_tokens") { return .maxTokens }
            case UInt8(ascii: "l"): if eq("latency_ms") { return .latencyMs }
            case UInt8(ascii: "t"): if eq("tool_calls") { return .toolCalls }
            default: break
            }
        case 11:
            if eq("temperature") { return .temperature }
        case 12:
            if eq("input_tokens") { return .inputTokens }
        case 13:
            if eq("output_tokens") { return .outputTokens }
            if eq("system_prompt") { return .systemPrompt }
        case 14:
            if eq("countermeasure") { return .countermeasure }
        case 15:
            if eq("conversation_id") { return .conversationID }
        case 16:
            if eq("reasoning_tokens") { return .reasoningTokens }
        case 18:
            if eq("thinking_requested") { return .thinkingRequested }
        default:
            break
        }
        return .unknown
    }
}

/// The fields of the nested `client` object.
enum ClientKey {
    case ip, asn, asnOrg, country, userAgent, tlsFingerprint, unknown

    @inline(__always)
    static func match(_ p: UnsafePointer<UInt8>, _ n: Int) -> ClientKey {
        @inline(__always) func eq(_ s: StaticString) -> Bool { JSONScanner.equals(p, s) }
        switch n {
        case 2: if eq("ip") { return .ip }
        case 3: if eq("asn") { return .asn }
        case 7:
            if eq("asn_org") { return .asnOrg }
            if eq("country") { return .country }
        case 10: if eq("user_agent") { return .userAgent }
        case 15: if eq("tls_fingerprint") { return .tlsFingerprint }
        default: break
        }
        return .unknown
    }
}

extension Exchange {
    /// Decodes one line of the exchange log (contract section 1).
    ///
    /// Unknown fields are skipped, `null` counts as absent, duplicate keys: the last one wins.
    /// With `fields: .withoutText`, `system_prompt`, `prompt` and `response` are checked (JSON syntax,
    /// type, UTF-8) but not built, and come back nil; with `.withoutResponse`, only `response` is.
    public static func decode(line: UnsafeBufferPointer<UInt8>, file: String, lineNumber: Int,
                              fields: ExchangeReader.Fields = .all) throws(ContractError) -> Exchange {
        try JSONScanner.decodeLine(line, file: file, lineNumber: lineNumber) { (s) throws(JSONError) in
            try decode(&s, withText: fields != .withoutText, withResponse: fields == .all)
        }
    }

    static func decode(_ s: inout JSONScanner, withText: Bool, withResponse: Bool) throws(JSONError) -> Exchange {
        var id: String?
        var ts: Timestamp?
        var accountID: String?
        var model: String?
        var inputTokens: Int?
        var outputTokens: Int?
        var orgID: String?
        var apiKeyID: String?
        var endpoint: String?
        var conversationID: String?
        var turn: Int?
        var systemPrompt: String?
        var prompt: String?
        var response: String?
        var reasoningTokens: Int?
        var thinkingRequested: Bool?
        var tools: Int?
        var toolCalls: Int?
        var maxTokens: Int?
        var temperature: Double?
        var stream: Bool?
        var status: Int?
        var latencyMs: Double?
        var outcome: String?
        var countermeasure: String?
        var client = Client()
        var label: String?

        try s.readRecord(matching: ExchangeKey.match) { (key, s) throws(JSONError) in
            switch key {
            case .id: id = try s.readString(field: "id")
            case .ts: ts = try s.readTimestamp(field: "ts")
            case .accountID: accountID = try s.readString(field: "account_id")
            case .model: model = try s.readString(field: "model")
            case .inputTokens: inputTokens = try s.readInt(field: "input_tokens", nonNegative: true)
            case .outputTokens: outputTokens = try s.readInt(field: "output_tokens", nonNegative: true)
            case .orgID: orgID = try s.readString(field: "org_id")
            case .apiKeyID: apiKeyID = try s.readString(field: "api_key_id")
            case .endpoint: endpoint = try s.readString(field: "endpoint")
            case .conversationID: conversationID = try s.readString(field: "conversation_id")
            case .turn: turn = try s.readInt(field: "turn", nonNegative: true)
            case .systemPrompt:
                if withText {
                    systemPrompt = try s.readString(field: "system_prompt")
                } else {
                    _ = try s.skipString(field: "system_prompt")
                }
            case .prompt:
                if withText { prompt = try s.readString(field: "prompt") } else { _ = try s.skipString(field: "prompt") }
            case .response:
                if withResponse {
                    response = try s.readString(field: "response")
                } else {
                    _ = try s.skipString(field: "response")
                }
            case .reasoningTokens: reasoningTokens = try s.readInt(field: "reasoning_tokens", nonNegative: true)
            case .thinkingRequested: thinkingRequested = try s.readBool(field: "thinking_requested")
            case .tools: tools = try s.readInt(field: "tools", nonNegative: true)
            case .toolCalls: toolCalls = try s.readInt(field: "tool_calls", nonNegative: true)
            case .maxTokens: maxTokens = try s.readInt(field: "max_tokens", nonNegative: false)
            case .temperature: temperature = try s.readDouble(field: "temperature")
            case .stream: stream = try s.readBool(field: "stream")
            case .status: status = try s.readInt(field: "status", nonNegative: false)
            case .latencyMs: latencyMs = try s.readDouble(field: "latency_ms")
            case .client: client = try decodeClient(&s)
            case .label: label = try s.readString(field: "label")
            case .outcome: outcome = try s.readString(field: "outcome")
            case .countermeasure: countermeasure = try s.readString(field: "countermeasure")
            case .unknown: try s.skipValue()
            }
        }

        guard let id else { throw JSONError("missing required field", field: "id") }
        guard let ts else { throw JSONError("missing required field", field: "ts") }
        guard let accountID else { throw JSONError("missing required field", field: "account_id") }
        guard let model else { throw JSONError("missing required field", field: "model") }
        guard let inputTokens else { throw JSONError("missing required field", field: "input_tokens") }
        guard let outputTokens else { throw JSONError("missing required field", field: "output_tokens") }
        return Exchange(
            id: id, ts: ts, accountID: accountID, model: model, inputTokens: inputTokens, outputTokens: outputTokens,
            orgID: orgID, apiKeyID: apiKeyID, endpoint: endpoint, conversationID: conversationID, turn: turn,
            systemPrompt: systemPrompt, prompt: prompt, response: response, reasoningTokens: reasoningTokens,
            thinkingRequested: thinkingRequested, tools: tools, toolCalls: toolCalls, maxTokens: maxTokens,
            temperature: temperature, stream: stream, status: status, latencyMs: latencyMs, client: client,
            label: label, outcome: outcome, countermeasure: countermeasure)
    }

    /// The `client` object; `null` gives an empty client. Duplicate `client` keys: the last one wins.
    private static func decodeClient(_ s: inout JSONScanner) throws(JSONError) -> Client {
        var c = Client()
        if try s.consumeNull() { return c }
        guard s.peek() == UInt8(ascii: "{") else {
            guard let b = s.peek(), b == UInt8(ascii: "\"") || b == UInt8(ascii: "[") || b == UInt8(ascii: "t")
                || b == UInt8(ascii: "f") || b == UInt8(ascii: "-") || (b >= 48 && b <= 57)
            else { throw s.syntaxError() }
            throw JSONError("expected an object", field: "client")
        }
        if try s.beginObject() {
            repeat {
                let key = try s.readKey()
                switch key.hasEscapes ? s.matchEscapedKey(key, ClientKey.match) : ClientKey.match(s.base + key.start, key.count) {
                case .ip: c.ip = try s.readString(field: "client.ip")
                case .asn: c.asn = try s.readInt(field: "client.asn", nonNegative: false)
                case .asnOrg: c.asnOrg = try s.readString(field: "client.asn_org")
                case .country: c.country = try s.readString(field: "client.country")
                case .userAgent: c.userAgent = try s.readString(field: "client.user_agent")
                case .tlsFingerprint: c.tlsFingerprint = try s.readString(field: "client.tls_fingerprint")
                case .unknown: try s.skipValue(depth: 1)
                }
            } while try s.endMember()
        }
        return c
    }
}
