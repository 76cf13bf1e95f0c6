import MoatCore
import NIOCore

/// Byte edits of a JSON text: ranges cut out (members or elements with their separating comma) or replaced.
struct JSONEdits {
    private(set) var edits: [(range: Range<Int>, replacement: [UInt8])] = []

    var isEmpty: Bool { edits.isEmpty }

    mutating func replace(_ range: Range<Int>, with bytes: [UInt8]) { edits.append((range, bytes)) }

    /// Writes `source` with the edits applied (in order of position) to `out`.
    func apply(_ source: UnsafeRawBufferPointer, into out: inout ByteBuffer) {
        var at = 0
        for (range, replacement) in edits.sorted(by: { $0.range.lowerBound < $1.range.lowerBound }) {
            guard range.lowerBound >= at else { continue }
            out.writeBytes(UnsafeRawBufferPointer(rebasing: source[at..<range.lowerBound]))
            out.writeBytes(replacement)
            at = range.upperBound
        }
        out.writeBytes(UnsafeRawBufferPointer(rebasing: source[at...]))
    }

    /// Tracks the members of one object (or elements of one array) to remove some of them with the right
    /// commas: a removed one after a kept one takes the comma before it; a run of removed ones at the
    /// start takes everything up to the next kept one.
    struct Removal {
        private var lastEnd: Int?
        private var leadingStart: Int?
        private var leadingEnd = 0

        mutating func keep(start: Int, end: Int, _ edits: inout JSONEdits) {
            if let s = leadingStart {
                edits.replace(s..<start, with: [])
                leadingStart = nil
            }
            lastEnd = end
        }

        mutating func remove(start: Int, end: Int, _ edits: inout JSONEdits) {
            if let last = lastEnd {
                edits.replace(last..<end, with: [])
                lastEnd = end
            } else {
                if leadingStart == nil { leadingStart = start }
                leadingEnd = end
            }
        }

        /// At the closing bracket: a run of removed ones with nothing kept after them goes entirely.
        mutating func close(_ edits: inout JSONEdits) {
            if let s = leadingStart { edits.replace(s..<leadingEnd, with: []) }
            leadingStart = nil
        }
    }
}

/// The `withhold_reasoning` countermeasure: thinking blocks and reasoning text are removed from answers
/// (Anthropic `thinking` / `redacted_thinking` blocks, OpenAI `reasoning_content` / `reasoning`), in
/// streams too, where Anthropic's block indices are renumbered so SDKs see a consistent stream. Edits are
/// made on the bytes; everything else in the answer stays byte for byte.
struct WithholdReasoning: AnswerTransform {
    var name: String { "withhold_reasoning" }
    /// Anthropic stream: indices of removed blocks.
    private var removed: [Int] = []

    // MARK: Complete answers

    mutating func rewrite(body: inout ByteBuffer, api: ModelAPI, allocator: ByteBufferAllocator) {
        let result: ByteBuffer? = body.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else { return nil }
            var s = JSONScanner(base: base, count: bytes.count)
            var edits = JSONEdits()
            do {
                s.skipWhitespace()
                guard s.next == UInt8(ascii: "{"), try s.beginObject() else { return nil }
                repeat {
                    let key = try s.readKey()
                    if api == .openAI, s.key(key, is: "choices") {
                        try Self.openAIChoices(&s, part: "message", &edits)
                    } else if api == .anthropic, s.key(key, is: "content"), s.next == UInt8(ascii: "[") {
                        try Self.anthropicContent(&s, &edits)
                    } else {
                        try s.skipValue()
                    }
                } while try s.endMember()
            } catch {
                return nil
            }
            guard !edits.isEmpty else { return nil }
            var out = allocator.buffer(capacity: bytes.count)
            edits.apply(bytes, into: &out)
            return out
        }
        if let result { body = result }
    }

    /// `choices[*].message` (or `.delta`): their reasoning members go.
    static func openAIChoices(_ s: inout JSONScanner, part: StaticString, _ edits: inout JSONEdits) throws(JSONError) {
        guard s.next == UInt8(ascii: "[") else { return try s.skipValue() }
        guard try s.beginArray() else { return }
        repeat {
            guard s.next == UInt8(ascii: "{") else {
                try s.skipValue()
                continue
            }
            guard try s.beginObject() else { continue }
            repeat {
                let key = try s.readKey()
                if s.key(key, is: part), s.next == UInt8(ascii: "{") {
                    var removal = JSONEdits.Removal()
                    if try s.beginObject() {
                        repeat {
                            let start = s.pos
                            let k = try s.readKey()
                            let reasoning = s.key(k, is: "reasoning_content") || s.key(k, is: "reasoning")
                            try s.skipValue()
                            if reasoning {
                                removal.remove(start: start, end: s.pos, &edits)
                            } else {
                                removal.keep(start: start, end: s.pos, &edits)
                            }
                        } while try s.endMember()
                    }
                    removal.close(&edits)
                } else {
                    try s.skipValue()
                }
            } while try s.endMember()
        } while try s.endElement()
    }

    /// `content[*]`: thinking blocks go.
    static func anthropicContent(_ s: inout JSONScanner, _ edits: inout JSONEdits) throws(JSONError) {
        var removal = JSONEdits.Removal()
        if try s.beginArray() {
            repeat {
                let start = s.pos
                var thinking = false
                if s.next != UInt8(ascii: "{") {
                    try s.skipValue()
                } else if try s.beginObject() {
                    repeat {
                        let key = try s.readKey()
                        if s.key(key, is: "type"), s.next == UInt8(ascii: "\"") {
                            let t = try s.scanString(field: "type")
                            thinking = s.string(t, is: "thinking") || s.string(t, is: "redacted_thinking")
                        } else {
                            try s.skipValue()
                        }
                    } while try s.endMember()
                }
                if thinking {
                    removal.remove(start: start, end: s.pos, &edits)
                } else {
                    removal.keep(start: start, end: s.pos, &edits)
                }
            } while try s.endElement()
        }
        removal.close(&edits)
    }

    // MARK: Streams

    mutating func transform(_ event: SSEEventView, api: ModelAPI, into out: inout ByteBuffer) {
        guard let data = event.data, let base = data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count > 1,
              data[0] == UInt8(ascii: "{") else {
            out.writeBytes(event.bytes)
            return
        }
        var s = JSONScanner(base: base, count: data.count)
        var edits = JSONEdits()
        var drop = false
        do {
            switch api {
            case .openAI:
                guard try s.beginObject() else { break }
                repeat {
                    let key = try s.readKey()
                    if s.key(key, is: "choices") {
                        try Self.openAIChoices(&s, part: "delta", &edits)
                    } else {
                        try s.skipValue()
                    }
                } while try s.endMember()
            case .anthropic:
                drop = try anthropicEvent(&s, &edits)
            }
        } catch {
            out.writeBytes(event.bytes)
            return
        }
        if drop { return }
        guard !edits.isEmpty else {
            out.writeBytes(event.bytes)
            return
        }
        // The event with its data rewritten: bytes before the data, the edited data, bytes after.
        let dataStart = data.baseAddress! - event.bytes.baseAddress!
        out.writeBytes(UnsafeRawBufferPointer(rebasing: event.bytes[..<dataStart]))
        edits.apply(data, into: &out)
        out.writeBytes(UnsafeRawBufferPointer(rebasing: event.bytes[(dataStart + data.count)...]))
    }

    /// One Anthropic event: drops thinking blocks' events, renumbers the indices of later blocks.
    /// Returns true to drop the event.
    private mutating func anthropicEvent(_ s: inout JSONScanner, _ edits: inout JSONEdits) throws(JSONError) -> Bool {
        var index: Int?
        var indexRange: Range<Int>?
        var thinkingStart = false
        guard try s.beginObject() else { return false }
        repeat {
            let key = try s.readKey()
            if s.key(key, is: "index"), s.next != UInt8(ascii: "n") {
                let start = s.pos
                index = try s.readInt(field: "index", nonNegative: true)
                indexRange = start..<s.pos
            } else if s.key(key, is: "content_block"), s.next == UInt8(ascii: "{") {
                if try s.beginObject() {
                    repeat {
                        let k = try s.readKey()
                        if s.key(k, is: "type"), s.next == UInt8(ascii: "\"") {
                            let t = try s.scanString(field: "type")
                            thinkingStart = s.string(t, is: "thinking") || s.string(t, is: "redacted_thinking")
                        } else {
                            try s.skipValue()
                        }
                    } while try s.endMember()
                }
            } else {
                try s.skipValue()
            }
        } while try s.endMember()
        guard let index, let indexRange else { return false }
        if thinkingStart {
            removed.append(index)
            return true
        }
        if removed.contains(index) { return true }
        let shift = removed.reduce(0) { $0 + ($1 < index ? 1 : 0) }
        if shift > 0 { edits.replace(indexRange, with: Array(String(index - shift).utf8)) }
        return false
    }

    mutating func finish(api: ModelAPI, into out: inout ByteBuffer) {}
}
