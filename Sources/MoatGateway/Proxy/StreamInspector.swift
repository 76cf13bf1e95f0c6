import Foundation

/// Watches a server-sent-event stream as it passes through: collects usage and text for the exchange log
/// and, when reasoning is withheld, drops thinking blocks and reasoning deltas.
///
/// Without withholding, the bytes are forwarded untouched as they arrive and only a copy is parsed.
/// With withholding, events are forwarded whole, one by one, with Anthropic's block indices renumbered
/// so that SDKs see a consistent stream.
struct StreamInspector {
    let api: ModelAPI
    let withholdReasoning: Bool
    private(set) var info = ResponseInfo()
    private var pending: [UInt8] = []
    private var removedBlocks: Set<Int> = []

    init(api: ModelAPI, withholdReasoning: Bool) {
        self.api = api
        self.withholdReasoning = withholdReasoning
    }

    /// Takes the next chunk; returns the bytes to forward (nil: forward the chunk unchanged).
    mutating func feed(_ chunk: [UInt8]) -> [UInt8]? {
        pending.append(contentsOf: chunk)
        var out: [UInt8] = []
        while let end = Self.eventEnd(pending) {
            let event = Array(pending[..<end.start])
            pending.removeFirst(end.next)
            if let rewritten = handle(event) { out.append(contentsOf: rewritten) }
        }
        return withholdReasoning ? out : nil
    }

    /// Whatever is left when the stream ends.
    mutating func finish() -> [UInt8]? {
        guard !pending.isEmpty else { return withholdReasoning ? [] : nil }
        let rest = pending
        pending = []
        return withholdReasoning ? rest : nil
    }

    /// End of the first complete event: index of its blank line and where the next event starts.
    static func eventEnd(_ b: [UInt8]) -> (start: Int, next: Int)? {
        var i = 0
        while i + 1 < b.count {
            if b[i] == 10, b[i + 1] == 10 { return (i, i + 2) }
            if b[i] == 13, i + 3 < b.count, b[i + 1] == 10, b[i + 2] == 13, b[i + 3] == 10 { return (i, i + 4) }
            i += 1
        }
        return nil
    }

    /// Parses one event; returns the bytes to forward for it (including its blank line), nil to drop it.
    private mutating func handle(_ event: [UInt8]) -> [UInt8]? {
        let original = event + [10, 10]
        let text = String(decoding: event, as: UTF8.self)
        var eventName: String?
        var dataLines: [Substring] = []
        for line in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            if line.hasPrefix("event:") { eventName = line.dropFirst(6).trimmingCharacters(in: .whitespaces) }
            if line.hasPrefix("data:") { dataLines.append(line.dropFirst(5).drop { $0 == " " }) }
        }
        let data = dataLines.joined(separator: "\n")
        guard !data.isEmpty, data != "[DONE]",
              var object = try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] else { return original }
        switch api {
        case .openAI:
            info.readOpenAIUsage(object["usage"])
            guard var choices = object["choices"] as? [[String: Any]],
                  info.absorbOpenAIChoices(&choices, part: "delta", withholdReasoning: withholdReasoning) else { return original }
            object["choices"] = choices
            return Self.serialize(event: nil, object) ?? original
        case .anthropic:
            let type = object["type"] as? String ?? eventName ?? ""
            switch type {
            case "message_start":
                let usage = (object["message"] as? [String: Any])?["usage"] as? [String: Any]
                info.inputTokens = usage?["input_tokens"] as? Int
                if let out = usage?["output_tokens"] as? Int { info.outputTokens = out }
            case "message_delta":
                if let out = (object["usage"] as? [String: Any])?["output_tokens"] as? Int { info.outputTokens = out }
            case "content_block_start":
                let block = object["content_block"] as? [String: Any]
                let blockType = block?["type"] as? String
                if blockType == "tool_use" { info.toolCalls += 1 }
                if withholdReasoning, blockType == "thinking" || blockType == "redacted_thinking",
                   let index = object["index"] as? Int {
                    removedBlocks.insert(index)
                    return nil
                }
            case "content_block_delta":
                let delta = object["delta"] as? [String: Any]
                if delta?["type"] as? String == "text_delta", let t = delta?["text"] as? String { info.appendText(t) }
            default:
                break
            }
            guard withholdReasoning, let index = object["index"] as? Int else { return original }
            if removedBlocks.contains(index) { return nil }
            let shift = removedBlocks.filter { $0 < index }.count
            guard shift > 0 else { return original }
            object["index"] = index - shift
            return Self.serialize(event: eventName ?? type, object) ?? original
        }
    }

    static func serialize(event: String?, _ object: [String: Any]) -> [UInt8]? {
        guard let json = try? JSONSerialization.data(withJSONObject: object) else { return nil }
        var out: [UInt8] = []
        if let event { out += Array("event: \(event)\n".utf8) }
        out += Array("data: ".utf8) + Array(json) + [10, 10]
        return out
    }
}
