import MoatCore

/// Anthropic messages shapes: `message`, the streaming event sequence and errors.
extension MockUpstream {
    static let signature = "mock-signature"

    static func anthropicBody(_ request: MockRequest, _ completion: MockCompletion) -> [UInt8] {
        var j = JSONBuffer()
        j.beginObject()
        anthropicHead(&j, request, completion)
        j.key("content"); j.beginArray()
        if request.thinking {
            j.beginObject()
            j.key("type"); j.string("thinking")
            j.key("thinking"); j.string(completion.thinkingText)
            j.key("signature"); j.string(signature)
            j.endObject()
        }
        j.beginObject()
        j.key("type"); j.string("text")
        j.key("text"); j.string(completion.text)
        j.endObject()
        j.endArray()
        j.key("stop_reason"); j.string(stopReason(completion))
        j.key("stop_sequence"); j.null()
        j.key("usage"); j.beginObject()
        j.key("input_tokens"); j.int(completion.inputTokens)
        j.key("output_tokens"); j.int(completion.outputTokens)
        j.endObject()
        j.endObject()
        return j.bytes
    }

    /// message_start, ping, one start/deltas/stop run per content block, message_delta, message_stop.
    static func anthropicEvents(_ request: MockRequest, _ completion: MockCompletion) -> [[UInt8]] {
        var events: [[UInt8]] = []
        func event(_ name: String, _ fields: (inout JSONBuffer) -> Void) {
            var j = JSONBuffer(capacity: 256)
            j.beginObject()
            j.key("type"); j.string(name)
            fields(&j)
            j.endObject()
            events.append(j.sse(event: name))
        }
        func block(_ index: Int, type: String, deltaType: String, field: StaticString, pieces: [String],
                   extra: [(String, StaticString, String)] = []) {
            event("content_block_start") { j in
                j.key("index"); j.int(index)
                j.key("content_block"); j.beginObject()
                j.key("type"); j.string(type)
                j.key(field); j.string("")
                for (_, key, _) in extra { j.key(key); j.string("") }
                j.endObject()
            }
            let deltas = pieces.map { (deltaType, field, $0) } + extra
            for (type, key, value) in deltas {
                event("content_block_delta") { j in
                    j.key("index"); j.int(index)
                    j.key("delta"); j.beginObject()
                    j.key("type"); j.string(type)
                    j.key(key); j.string(value)
                    j.endObject()
                }
            }
            event("content_block_stop") { j in j.key("index"); j.int(index) }
        }

        event("message_start") { j in
            j.key("message"); j.beginObject()
            anthropicHead(&j, request, completion)
            j.key("content"); j.beginArray(); j.endArray()
            j.key("stop_reason"); j.null()
            j.key("stop_sequence"); j.null()
            j.key("usage"); j.beginObject()
            j.key("input_tokens"); j.int(completion.inputTokens)
            j.key("output_tokens"); j.int(1)
            j.endObject()
            j.endObject()
        }
        event("ping") { _ in }
        var index = 0
        if request.thinking {
            block(index, type: "thinking", deltaType: "thinking_delta", field: "thinking",
                  pieces: MockCompletion.pieces(completion.thinking),
                  extra: [("signature_delta", "signature", signature)])
            index += 1
        }
        block(index, type: "text", deltaType: "text_delta", field: "text", pieces: MockCompletion.pieces(completion.answer))
        event("message_delta") { j in
            j.key("delta"); j.beginObject()
            j.key("stop_reason"); j.string(stopReason(completion))
            j.key("stop_sequence"); j.null()
            j.endObject()
            j.key("usage"); j.beginObject()
            j.key("output_tokens"); j.int(completion.outputTokens)
            j.endObject()
        }
        event("message_stop") { _ in }
        return events
    }

    /// `{"type":"error","error":{"type","message"}}`.
    static func anthropicError(status: Int, message: String) -> [UInt8] {
        let type = switch status {
        case 401: "authentication_error"
        case 402: "billing_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 504: "timeout_error"
        case 529: "overloaded_error"
        case 500...: "api_error"
        default: "invalid_request_error"
        }
        var j = JSONBuffer(capacity: 256)
        j.beginObject()
        j.key("type"); j.string("error")
        j.key("error"); j.beginObject()
        j.key("type"); j.string(type)
        j.key("message"); j.string(message)
        j.endObject()
        j.endObject()
        return j.bytes
    }

    private static func anthropicHead(_ j: inout JSONBuffer, _ request: MockRequest, _ completion: MockCompletion) {
        j.key("id"); j.string("msg_mock" + completion.id)
        j.key("type"); j.string("message")
        j.key("role"); j.string("assistant")
        j.key("model"); j.string(request.model)
    }

    private static func stopReason(_ completion: MockCompletion) -> String {
        completion.truncated ? "max_tokens" : "end_turn"
    }
}
