import MoatCore

/// OpenAI chat completions shapes: `chat.completion`, `chat.completion.chunk` events and errors.
extension MockUpstream {
    static func openAIBody(_ request: MockRequest, _ completion: MockCompletion) -> [UInt8] {
        var j = JSONBuffer()
        j.beginObject()
        openAIHead(&j, request, completion, object: "chat.completion")
        j.key("choices"); j.beginArray(); j.beginObject()
        j.key("index"); j.int(0)
        j.key("message"); j.beginObject()
        j.key("role"); j.string("assistant")
        j.key("content"); j.string(completion.text)
        if request.thinking { j.key("reasoning_content"); j.string(completion.thinkingText) }
        j.key("refusal"); j.null()
        j.endObject()
        j.key("logprobs"); j.null()
        j.key("finish_reason"); j.string(completion.truncated ? "length" : "stop")
        j.endObject(); j.endArray()
        j.key("usage"); openAIUsage(&j, completion)
        j.endObject()
        return j.bytes
    }

    /// A role chunk, reasoning and content deltas of a few words, a finish chunk, the usage chunk
    /// when `stream_options.include_usage`, and `[DONE]`.
    static func openAIEvents(_ request: MockRequest, _ completion: MockCompletion) -> [[UInt8]] {
        var events: [[UInt8]] = []
        func chunk(finish: String? = nil, _ delta: (inout JSONBuffer) -> Void) {
            var j = JSONBuffer(capacity: 256)
            j.beginObject()
            openAIHead(&j, request, completion, object: "chat.completion.chunk")
            j.key("choices"); j.beginArray(); j.beginObject()
            j.key("index"); j.int(0)
            j.key("delta"); j.beginObject(); delta(&j); j.endObject()
            j.key("logprobs"); j.null()
            j.key("finish_reason")
            if let finish { j.string(finish) } else { j.null() }
            j.endObject(); j.endArray()
            if request.includeUsage { j.key("usage"); j.null() }
            j.endObject()
            events.append(j.sse(event: nil))
        }
        chunk { j in
            j.key("role"); j.string("assistant"); j.key("content"); j.string(""); j.key("refusal"); j.null()
        }
        for piece in MockCompletion.pieces(completion.thinking) {
            chunk { j in j.key("reasoning_content"); j.string(piece) }
        }
        for piece in MockCompletion.pieces(completion.answer) {
            chunk { j in j.key("content"); j.string(piece) }
        }
        chunk(finish: completion.truncated ? "length" : "stop") { _ in }
        if request.includeUsage {
            var j = JSONBuffer(capacity: 256)
            j.beginObject()
            openAIHead(&j, request, completion, object: "chat.completion.chunk")
            j.key("choices"); j.beginArray(); j.endArray()
            j.key("usage"); openAIUsage(&j, completion)
            j.endObject()
            events.append(j.sse(event: nil))
        }
        events.append(Array("data: [DONE]\n\n".utf8))
        return events
    }

    /// `{"error":{"message","type","param":null,"code"}}`.
    static func openAIError(status: Int, message: String) -> [UInt8] {
        let (type, code): (String, String?) = switch status {
        case 401: ("invalid_request_error", "invalid_api_key")
        case 403: ("invalid_request_error", "permission_denied")
        case 404: ("invalid_request_error", "not_found")
        case 413: ("invalid_request_error", "request_too_large")
        case 429: ("requests", "rate_limit_exceeded")
        case 529: ("server_error", "overloaded")
        case 500...: ("server_error", nil)
        default: ("invalid_request_error", nil)
        }
        var j = JSONBuffer(capacity: 256)
        j.beginObject()
        j.key("error"); j.beginObject()
        j.key("message"); j.string(message)
        j.key("type"); j.string(type)
        j.key("param"); j.null()
        j.key("code")
        if let code { j.string(code) } else { j.null() }
        j.endObject()
        j.endObject()
        return j.bytes
    }

    private static func openAIHead(_ j: inout JSONBuffer, _ request: MockRequest, _ completion: MockCompletion,
                                   object: StaticString) {
        j.key("id"); j.string("chatcmpl-mock" + completion.id)
        j.key("object"); j.string(object.description)
        j.key("created"); j.int(created)
        j.key("model"); j.string(request.model)
    }

    private static func openAIUsage(_ j: inout JSONBuffer, _ completion: MockCompletion) {
        j.beginObject()
        j.key("prompt_tokens"); j.int(completion.inputTokens)
        j.key("completion_tokens"); j.int(completion.outputTokens)
        j.key("total_tokens"); j.int(completion.inputTokens + completion.outputTokens)
        j.key("completion_tokens_details"); j.beginObject()
        j.key("reasoning_tokens"); j.int(completion.thinking.count)
        j.endObject()
        j.endObject()
    }
}
