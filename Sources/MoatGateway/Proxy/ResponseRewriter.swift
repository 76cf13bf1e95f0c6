import Foundation

/// Reads usage and text out of a complete (non-streaming) answer, and strips reasoning when asked.
enum ResponseRewriter {
    /// Returns the body to send (rewritten only when reasoning is withheld) and what it said.
    static func inspect(_ body: Data, api: ModelAPI, withholdReasoning: Bool) -> (Data, ResponseInfo) {
        var info = ResponseInfo()
        guard var object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return (body, info) }
        var changed = false
        switch api {
        case .openAI:
            info.readOpenAIUsage(object["usage"])
            if var choices = object["choices"] as? [[String: Any]],
               info.absorbOpenAIChoices(&choices, part: "message", withholdReasoning: withholdReasoning) {
                object["choices"] = choices
                changed = true
            }
        case .anthropic:
            if let usage = object["usage"] as? [String: Any] {
                info.inputTokens = usage["input_tokens"] as? Int
                info.outputTokens = usage["output_tokens"] as? Int
            }
            if let content = object["content"] as? [[String: Any]] {
                var kept: [[String: Any]] = []
                for block in content {
                    let type = block["type"] as? String
                    if type == "text", let t = block["text"] as? String { info.appendText(t) }
                    if type == "tool_use" { info.toolCalls += 1 }
                    if withholdReasoning, type == "thinking" || type == "redacted_thinking" {
                        changed = true
                        continue
                    }
                    kept.append(block)
                }
                if changed { object["content"] = kept }
            }
        }
        guard changed, let data = try? JSONSerialization.data(withJSONObject: object) else { return (body, info) }
        return (data, info)
    }
}
