import MoatCore

/// What an answer said and cost, gathered at byte level while it passes through: usage, the start of its
/// text (for the log), tool calls, and how much text went by (the output estimate when no usage came).
struct AnswerInfo: Sendable {
    var inputTokens: Int?
    var outputTokens: Int?
    var reasoningTokens: Int?
    /// The answer's text, up to `textCap` bytes (cut at a character boundary).
    var text: [UInt8] = []
    var toolCalls = 0
    /// Bytes of answer and reasoning text seen, uncapped: the output estimate when no usage is reported
    /// (an OpenAI stream without `stream_options.include_usage`, a stream cut short).
    var outputBytes = 0
    /// An Anthropic stream sent an `error` event: the upstream broke off inside an answer.
    var streamError = false
    /// The terminal event (`data: [DONE]`, `message_stop`) was seen.
    var ended = false
    static let textCap = 2_000

    /// Output tokens: the reported usage, else an estimate from the text seen (4 bytes per token), so an
    /// answer without usage is neither logged nor charged as zero output.
    var outputTokensOrEstimate: Int { outputTokens ?? (outputBytes + 3) / 4 }

    var textString: String? { text.isEmpty ? nil : String(decoding: text, as: UTF8.self) }

    mutating func appendText(_ s: JSONScanner, _ span: JSONStringSpan) {
        outputBytes += span.count
        guard text.count < Self.textCap else { return }
        s.withStringBytes(span) { bytes in
            var n = min(bytes.count, Self.textCap - text.count)
            // Never cut inside a UTF-8 sequence.
            while n < bytes.count, n > 0, bytes[n] & 0xC0 == 0x80 { n -= 1 }
            text.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[0..<n]))
        }
    }

    // MARK: - Complete answers

    /// Reads a complete (non-streamed) answer body. Stops quietly at malformed JSON, keeping what it read.
    mutating func readAnswer(_ body: UnsafeRawBufferPointer, api: ModelAPI) {
        guard let base = body.baseAddress?.assumingMemoryBound(to: UInt8.self), body.count > 0 else { return }
        var s = JSONScanner(base: base, count: body.count)
        s.skipWhitespace()
        guard s.next == UInt8(ascii: "{") else { return }
        do {
            if try s.beginObject() {
                repeat {
                    let key = try s.readKey()
                    switch api {
                    case .openAI:
                        if s.key(key, is: "usage") {
                            try readOpenAIUsage(&s)
                        } else if s.key(key, is: "choices") {
                            try readOpenAIChoices(&s, part: "message", streamed: false)
                        } else {
                            try s.skipValue()
                        }
                    case .anthropic:
                        if s.key(key, is: "usage") {
                            try readAnthropicUsage(&s, final: true)
                        } else if s.key(key, is: "content") {
                            try readAnthropicContent(&s)
                        } else {
                            try s.skipValue()
                        }
                    }
                } while try s.endMember()
            }
        } catch {
            return
        }
    }

    // MARK: - Stream events

    /// Reads the JSON of one SSE `data:` line of a stream.
    mutating func readEvent(data: UnsafeRawBufferPointer, api: ModelAPI) {
        guard let base = data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count > 0 else { return }
        if data.count == 6, base[0] == UInt8(ascii: "["), base[1] == UInt8(ascii: "D") {
            ended = true  // [DONE]
            return
        }
        var s = JSONScanner(base: base, count: data.count)
        s.skipWhitespace()
        guard s.next == UInt8(ascii: "{") else { return }
        do {
            switch api {
            case .openAI: try readOpenAIChunk(&s)
            case .anthropic: try readAnthropicEvent(&s)
            }
        } catch {
            return
        }
    }

    private mutating func readOpenAIChunk(_ s: inout JSONScanner) throws(JSONError) {
        if try s.beginObject() {
            repeat {
                let key = try s.readKey()
                if s.key(key, is: "usage") {
                    try readOpenAIUsage(&s)
                } else if s.key(key, is: "choices") {
                    try readOpenAIChoices(&s, part: "delta", streamed: true)
                } else {
                    try s.skipValue()
                }
            } while try s.endMember()
        }
    }

    /// `usage: {prompt_tokens, completion_tokens, completion_tokens_details: {reasoning_tokens}}` or null.
    private mutating func readOpenAIUsage(_ s: inout JSONScanner) throws(JSONError) {
        guard s.next == UInt8(ascii: "{") else { return try s.skipValue() }
        if try s.beginObject() {
            repeat {
                let key = try s.readKey()
                if s.key(key, is: "prompt_tokens") {
                    inputTokens = try RequestInfo.lenientInt(&s)
                } else if s.key(key, is: "completion_tokens") {
                    outputTokens = try RequestInfo.lenientInt(&s)
                } else if s.key(key, is: "completion_tokens_details"), s.next == UInt8(ascii: "{") {
                    if try s.beginObject() {
                        repeat {
                            let k = try s.readKey()
                            if s.key(k, is: "reasoning_tokens") {
                                reasoningTokens = try RequestInfo.lenientInt(&s)
                            } else {
                                try s.skipValue()
                            }
                        } while try s.endMember()
                    }
                } else {
                    try s.skipValue()
                }
            } while try s.endMember()
        }
    }

    /// Every choice's `message` (complete answer) or `delta` (stream chunk).
    private mutating func readOpenAIChoices(_ s: inout JSONScanner, part: StaticString, streamed: Bool) throws(JSONError) {
        guard s.next == UInt8(ascii: "[") else { return try s.skipValue() }
        guard try s.beginArray() else { return }
        repeat {
            guard s.next == UInt8(ascii: "{") else {
                try s.skipValue()
                continue
            }
            if try s.beginObject() {
                repeat {
                    let key = try s.readKey()
                    if s.key(key, is: part), s.next == UInt8(ascii: "{") {
                        try readOpenAIMessage(&s, streamed: streamed)
                    } else {
                        try s.skipValue()
                    }
                } while try s.endMember()
            }
        } while try s.endElement()
    }

    private mutating func readOpenAIMessage(_ s: inout JSONScanner, streamed: Bool) throws(JSONError) {
        if try s.beginObject() {
            repeat {
                let key = try s.readKey()
                if s.key(key, is: "content"), s.next == UInt8(ascii: "\"") {
                    appendText(s, try s.scanString(field: "content"))
                } else if s.key(key, is: "reasoning_content") || s.key(key, is: "reasoning"), s.next == UInt8(ascii: "\"") {
                    outputBytes += try s.scanString(field: "reasoning").count
                } else if s.key(key, is: "tool_calls"), s.next == UInt8(ascii: "[") {
                    try readToolCalls(&s, streamed: streamed)
                } else {
                    try s.skipValue()
                }
            } while try s.endMember()
        }
    }

    /// Counts tool calls: every element of a complete message's list; in a stream, the deltas that start
    /// a call (they carry its `id`; later deltas of the same call only add arguments).
    private mutating func readToolCalls(_ s: inout JSONScanner, streamed: Bool) throws(JSONError) {
        guard try s.beginArray() else { return }
        repeat {
            var starts = !streamed
            if s.next != UInt8(ascii: "{") {
                try s.skipValue()
            } else if try s.beginObject() {
                repeat {
                    let key = try s.readKey()
                    if s.key(key, is: "id"), s.next == UInt8(ascii: "\"") { starts = true }
                    if s.key(key, is: "function"), s.next == UInt8(ascii: "{") {
                        try countArguments(&s)
                    } else {
                        try s.skipValue()
                    }
                } while try s.endMember()
            }
            if starts { toolCalls += 1 }
        } while try s.endElement()
    }

    /// A tool call's arguments are output too.
    private mutating func countArguments(_ s: inout JSONScanner) throws(JSONError) {
        if try s.beginObject() {
            repeat {
                let key = try s.readKey()
                if s.key(key, is: "arguments"), s.next == UInt8(ascii: "\"") {
                    outputBytes += try s.scanString(field: "arguments").count
                } else {
                    try s.skipValue()
                }
            } while try s.endMember()
        }
    }

    /// `usage: {input_tokens, output_tokens}`. In a stream, `message_start` carries the input and a
    /// placeholder output (not final); `message_delta` carries the final output.
    private mutating func readAnthropicUsage(_ s: inout JSONScanner, final: Bool) throws(JSONError) {
        guard s.next == UInt8(ascii: "{") else { return try s.skipValue() }
        if try s.beginObject() {
            repeat {
                let key = try s.readKey()
                if s.key(key, is: "input_tokens") {
                    if let v = try RequestInfo.lenientInt(&s) { inputTokens = v }
                } else if s.key(key, is: "output_tokens") {
                    let v = try RequestInfo.lenientInt(&s)
                    if final, let v { outputTokens = v }
                } else {
                    try s.skipValue()
                }
            } while try s.endMember()
        }
    }

    /// A complete message's `content` blocks.
    private mutating func readAnthropicContent(_ s: inout JSONScanner) throws(JSONError) {
        guard s.next == UInt8(ascii: "[") else { return try s.skipValue() }
        guard try s.beginArray() else { return }
        repeat {
            guard s.next == UInt8(ascii: "{") else {
                try s.skipValue()
                continue
            }
            try readAnthropicBlock(&s)
        } while try s.endElement()
    }

    /// One content block (or a stream's `content_block` / `delta`): text counts as answer, thinking as
    /// output, tool_use as a tool call.
    private mutating func readAnthropicBlock(_ s: inout JSONScanner) throws(JSONError) {
        if try s.beginObject() {
            repeat {
                let key = try s.readKey()
                if s.key(key, is: "type"), s.next == UInt8(ascii: "\"") {
                    if s.string(try s.scanString(field: "type"), is: "tool_use") { toolCalls += 1 }
                } else if s.key(key, is: "text"), s.next == UInt8(ascii: "\"") {
                    appendText(s, try s.scanString(field: "text"))
                } else if s.key(key, is: "thinking") || s.key(key, is: "partial_json"), s.next == UInt8(ascii: "\"") {
                    outputBytes += try s.scanString(field: "thinking").count
                } else {
                    try s.skipValue()
                }
            } while try s.endMember()
        }
    }

    private mutating func readAnthropicEvent(_ s: inout JSONScanner) throws(JSONError) {
        if try s.beginObject() {
            repeat {
                let key = try s.readKey()
                if s.key(key, is: "type"), s.next == UInt8(ascii: "\"") {
                    let span = try s.scanString(field: "type")
                    if s.string(span, is: "message_stop") { ended = true }
                    if s.string(span, is: "error") { streamError = true }
                } else if s.key(key, is: "message"), s.next == UInt8(ascii: "{") {
                    // message_start: {message: {usage: {input_tokens, output_tokens: placeholder}}}
                    if try s.beginObject() {
                        repeat {
                            let k = try s.readKey()
                            if s.key(k, is: "usage") { try readAnthropicUsage(&s, final: false) } else { try s.skipValue() }
                        } while try s.endMember()
                    }
                } else if s.key(key, is: "usage") {
                    try readAnthropicUsage(&s, final: true)  // message_delta
                } else if s.key(key, is: "content_block") || s.key(key, is: "delta"), s.next == UInt8(ascii: "{") {
                    try readAnthropicBlock(&s)
                } else {
                    try s.skipValue()
                }
            } while try s.endMember()
        }
    }
}
