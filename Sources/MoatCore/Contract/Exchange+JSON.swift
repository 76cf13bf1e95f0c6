extension Exchange {
    /// Appends this exchange as one compact JSON object (no newline), fields in contract order.
    public func write(to j: inout JSONBuffer) {
        j.beginObject()
        j.key("id"); j.string(id)
        j.key("ts"); j.timestamp(ts)
        j.key("account_id"); j.string(accountID)
        j.field("org_id", orgID)
        j.field("api_key_id", apiKeyID)
        j.key("model"); j.string(model)
        j.field("endpoint", endpoint)
        j.field("conversation_id", conversationID)
        j.field("turn", turn)
        j.key("input_tokens"); j.int(inputTokens)
        j.key("output_tokens"); j.int(outputTokens)
        j.field("reasoning_tokens", reasoningTokens)
        j.field("thinking_requested", thinkingRequested)
        j.field("tools", tools)
        j.field("tool_calls", toolCalls)
        j.field("max_tokens", maxTokens)
        j.field("temperature", temperature)
        j.field("stream", stream)
        j.field("status", status)
        j.field("latency_ms", latencyMs)
        j.field("outcome", outcome)
        j.field("countermeasure", countermeasure)
        if !client.isEmpty {
            j.key("client")
            j.beginObject()
            j.field("ip", client.ip)
            j.field("asn", client.asn)
            j.field("asn_org", client.asnOrg)
            j.field("country", client.country)
            j.field("user_agent", client.userAgent)
            j.field("tls_fingerprint", client.tlsFingerprint)
            j.endObject()
        }
        j.field("system_prompt", systemPrompt)
        j.field("prompt", prompt)
        j.field("response", response)
        if let label { j.key("label"); j.string(label) }
        j.endObject()
    }

    /// The exchange as one JSON line, without the trailing newline.
    public var jsonLine: String {
        var j = JSONBuffer()
        write(to: &j)
        return String(decoding: j.bytes, as: UTF8.self)
    }
}

extension Account {
    public func write(to j: inout JSONBuffer) {
        j.beginObject()
        j.key("account_id"); j.string(accountID)
        if let createdAt { j.key("created_at"); j.timestamp(createdAt) }
        j.field("org_id", orgID)
        j.field("email_domain", emailDomain)
        j.field("payment_fingerprint", paymentFingerprint)
        j.field("verification", verification)
        j.field("program", program)
        j.field("country", country)
        if let label { j.key("label"); j.string(label) }
        j.endObject()
    }

    public var jsonLine: String {
        var j = JSONBuffer()
        write(to: &j)
        return String(decoding: j.bytes, as: UTF8.self)
    }
}

extension CampaignLabel {
    public func write(to j: inout JSONBuffer) {
        j.beginObject()
        j.key("account_id"); j.string(accountID)
        j.key("campaign"); j.string(campaign)
        j.endObject()
    }
}
