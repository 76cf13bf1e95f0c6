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
            if let usage = object["usage"] as? [String: Any] {
                info.inputTokens = usage["prompt_tokens"] as? Int
                info.outputTokens = usage["completion_tokens"] as? Int
                info.reasoningTokens = (usage["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"] as? Int
            }
            if var choices = object["choices"] as? [[String: Any]] {
                for i in choices.indices {
                    guard var message = choices[i]["message"] as? [String: Any] else { continue }
                    if let content = message["content"] as? String { info.appendText(content) }
                    info.toolCalls += (message["tool_calls"] as? [Any])?.count ?? 0
                    if withholdReasoning {
                        for key in ["reasoning_content", "reasoning"] where message[key] != nil {
                            message[key] = nil
                            changed = true
                        }
                        choices[i]["message"] = message
                    }
                }
                if changed { object["choices"] = choices }
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
