import Foundation

/// The two wire protocols Moat fronts: what differs between them is kept here.
public enum ModelAPI: String, Sendable {
    case openAI = "chat.completions"
    case anthropic = "messages"

    /// The upstream path this API is forwarded to.
    var path: String { self == .openAI ? "/v1/chat/completions" : "/v1/messages" }

    /// The fields of a request that limits, logging and detection need.
    struct RequestInfo: Sendable {
        var model = ""
        var stream = false
        var maxTokens: Int?
        var temperature: Double?
        var tools = 0
        var thinking = false
        var systemPrompt: String?
        var prompt: String?
        var turn = 0
        /// Rough input size for admission: characters / 4.
        var estimatedInputTokens = 1
    }

    /// Parses a request body; nil when it is not a JSON object with a model.
    func parse(_ body: Data) -> RequestInfo? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let model = object["model"] as? String, !model.isEmpty else { return nil }
        var info = RequestInfo()
        info.model = model
        info.stream = object["stream"] as? Bool ?? false
        info.maxTokens = (object["max_tokens"] as? Int) ?? (object["max_completion_tokens"] as? Int)
        info.temperature = (object["temperature"] as? NSNumber)?.doubleValue
        info.tools = (object["tools"] as? [Any])?.count ?? 0
        info.estimatedInputTokens = max(1, body.count / 4)
        let messages = object["messages"] as? [[String: Any]] ?? []
        var userTurns = 0
        var systemParts: [String] = []
        for m in messages {
            let role = m["role"] as? String
            if role == "user" {
                userTurns += 1
                info.prompt = Self.text(m["content"])
            } else if role == "system" || role == "developer" {
                if let t = Self.text(m["content"]) { systemParts.append(t) }
            }
        }
        info.turn = max(0, userTurns - 1)
        switch self {
        case .openAI:
            info.thinking = object["reasoning_effort"] != nil || object["reasoning"] != nil
        case .anthropic:
            if let system = Self.text(object["system"]) { systemParts.insert(system, at: 0) }
            info.thinking = ((object["thinking"] as? [String: Any])?["type"] as? String) == "enabled"
        }
        info.systemPrompt = systemParts.isEmpty ? nil : systemParts.joined(separator: "\n")
        return info
    }

    /// Text of a message's content: a string, or the text parts of a list of content blocks.
    static func text(_ content: Any?) -> String? {
        if let s = content as? String { return s }
        guard let blocks = content as? [[String: Any]] else { return nil }
        let parts = blocks.compactMap { $0["text"] as? String }
        return parts.isEmpty ? nil : parts.joined(separator: "\n")
    }

    /// An error body in the API's native shape.
    func errorBody(status: Int, message: String, openAIType: String? = nil, code: String? = nil) -> Data {
        let object: [String: Any]
        switch self {
        case .anthropic:
            let type: String
            switch status {
            case 400: type = "invalid_request_error"
            case 401: type = "authentication_error"
            case 403: type = "permission_error"
            case 404: type = "not_found_error"
            case 413: type = "request_too_large"
            case 429: type = "rate_limit_error"
            case 529: type = "overloaded_error"
            default: type = "api_error"
            }
            object = ["type": "error", "error": ["type": type, "message": message]]
        case .openAI:
            let type: String
            let defaultCode: String?
            switch status {
            case 401: type = "invalid_request_error"; defaultCode = "invalid_api_key"
            case 403: type = "permission_error"; defaultCode = "access_denied"
            case 413: type = "invalid_request_error"; defaultCode = "request_too_large"
            case 429: type = "requests"; defaultCode = "rate_limit_exceeded"
            case 400..<500: type = "invalid_request_error"; defaultCode = nil
            default: type = "server_error"; defaultCode = nil
            }
            object = ["error": ["message": message, "type": openAIType ?? type, "param": NSNull(),
                                "code": (code ?? defaultCode).map { $0 as Any } ?? NSNull()]]
        }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    }
}

/// What the answer said and cost, gathered while it passes through.
struct ResponseInfo: Sendable {
    var inputTokens: Int?
    var outputTokens: Int?
    var reasoningTokens: Int?
    var text = ""
    var toolCalls = 0
    /// Characters of answer and reasoning seen, uncapped: the output estimate when no usage is reported
    /// (an OpenAI stream without `stream_options.include_usage`).
    var outputCharacters = 0
    static let textCap = 2_000

    mutating func appendText(_ s: String) {
        outputCharacters += s.count
        if text.utf8.count < Self.textCap { text += s }
    }

    /// Reasoning text: counted towards the output estimate, not logged as the answer.
    mutating func countReasoning(_ s: String) {
        outputCharacters += s.count
    }

    static let openAIReasoningKeys = ["reasoning_content", "reasoning"]

    /// Reads an OpenAI `usage` object (a complete answer's, or a stream's last chunk's).
    mutating func readOpenAIUsage(_ usage: Any?) {
        guard let usage = usage as? [String: Any] else { return }
        inputTokens = usage["prompt_tokens"] as? Int
        outputTokens = usage["completion_tokens"] as? Int
        reasoningTokens = (usage["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"] as? Int
    }

    /// Takes in one OpenAI `message` (complete answer) or `delta` (stream chunk) of every choice, removing
    /// reasoning when withheld. Returns whether `choices` changed.
    mutating func absorbOpenAIChoices(_ choices: inout [[String: Any]], part: String, withholdReasoning: Bool) -> Bool {
        var changed = false
        for i in choices.indices {
            guard var m = choices[i][part] as? [String: Any] else { continue }
            if let content = m["content"] as? String { appendText(content) }
            for key in Self.openAIReasoningKeys { if let r = m[key] as? String { countReasoning(r) } }
            toolCalls += (m["tool_calls"] as? [Any])?.count ?? 0
            guard withholdReasoning else { continue }
            for key in Self.openAIReasoningKeys where m[key] != nil {
                m[key] = nil
                changed = true
            }
            choices[i][part] = m
        }
        return changed
    }

    /// Output tokens: the reported usage, else an estimate from the characters seen (4 per token), so a
    /// stream without usage is neither logged nor charged as zero output.
    var outputTokensOrEstimate: Int {
        outputTokens ?? (outputCharacters + 3) / 4
    }
}
