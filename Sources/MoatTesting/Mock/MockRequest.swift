import Foundation
import Hummingbird

/// Which API a mock route speaks: it decides the request fields read and the shapes written.
enum MockAPI: Sendable {
    case openAI, anthropic
}

/// The parts of a chat request the mock reads, from either API.
struct MockRequest: Sendable {
    var model: String
    /// Characters of all text in the system prompt and the messages.
    var characters: Int
    var lastUserText: String
    var stream: Bool
    /// OpenAI `stream_options.include_usage`.
    var includeUsage: Bool
    /// `max_completion_tokens` or `max_tokens` (OpenAI), `max_tokens` (Anthropic).
    var maxTokens: Int?
    /// Anthropic `thinking: {type: enabled}` or OpenAI `reasoning_effort` (other than "none").
    var thinking: Bool
    var thinkingBudget: Int?

    struct Invalid: Error {
        var message: String
    }

    init(_ body: ByteBuffer, api: MockAPI) throws(Invalid) {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
        } catch {
            throw Invalid(message: "request body is not valid JSON")
        }
        guard let object = root as? [String: Any] else { throw Invalid(message: "request body must be a JSON object") }
        guard let messages = object["messages"] as? [Any] else { throw Invalid(message: "messages: field required") }

        model = object["model"] as? String ?? "mock-model"
        stream = object["stream"] as? Bool ?? false
        includeUsage = (object["stream_options"] as? [String: Any])?["include_usage"] as? Bool ?? false
        characters = 0
        lastUserText = ""
        if api == .anthropic, let system = object["system"] { characters += Self.text(of: system).count }
        for case let message as [String: Any] in messages {
            let text = Self.text(of: message["content"] ?? "")
            characters += text.count
            if message["role"] as? String == "user" { lastUserText = text }
        }

        switch api {
        case .openAI:
            maxTokens = object["max_completion_tokens"] as? Int ?? object["max_tokens"] as? Int
            let effort = object["reasoning_effort"] as? String
            thinking = effort != nil && effort != "none"
            thinkingBudget = nil
        case .anthropic:
            maxTokens = object["max_tokens"] as? Int
            let config = object["thinking"] as? [String: Any]
            let type = config?["type"] as? String
            thinking = type == "enabled" || type == "adaptive"
            thinkingBudget = config?["budget_tokens"] as? Int
        }
        if let maxTokens, maxTokens < 1 { throw Invalid(message: "max_tokens: must be at least 1") }
    }

    /// The text of a message content: a string, or the `text` of each block of an array.
    private static func text(of content: Any) -> String {
        if let s = content as? String { return s }
        guard let blocks = content as? [Any] else { return "" }
        var parts: [String] = []
        for case let block as [String: Any] in blocks {
            if let t = block["text"] as? String { parts.append(t) }
        }
        return parts.joined(separator: "\n")
    }
}
