import MoatCore
import MoatProvenance
import NIOCore

/// The `fingerprint` countermeasure: the visible text of answers is marked with the campaign's key
/// (`MoatProvenance.Fingerprinter`: keyed choices between equivalent wordings; code, JSON, URLs, numbers,
/// quotations and what the prompt contains are never touched), in complete answers and in streams.
///
/// Only answer text is rewritten: OpenAI `choices[].message.content` / `choices[].delta.content`, Anthropic
/// `text` blocks / `text_delta`s. Tool calls and their arguments, `input_json_delta`s, thinking (signed by
/// the provider) and every other byte of the answer stay as they came. The JSON string is decoded, marked
/// and re-encoded; everything around it is copied.
///
/// Streams keep streaming: each text delta is replaced by the marked text that is final so far. The
/// marker holds back at most the current word and the few after it that decide a choice, so a delta may
/// go out shorter (or empty) and the rest follows in the next ones. When a text ends (OpenAI: a
/// `finish_reason`; Anthropic: `content_block_stop`) what is still held goes out first, in a copy of that
/// text's last delta event.
struct FingerprintAnswer: AnswerTransform {
    var name: String { "fingerprint" }
    let marker: Fingerprinter
    let prompt: FingerprintPrompt

    /// One text being streamed: the marker's state and the last delta event seen for it (a template for
    /// the event that carries what is held back), with where its string value sits in the event's bytes.
    private struct Pending {
        var stream: FingerprintStream
        var template: [UInt8] = []
        var value: Range<Int> = 0..<0
    }

    /// By OpenAI choice index or Anthropic content block index.
    private var pending: [Int: Pending] = [:]

    init(marker: Fingerprinter, prompt: FingerprintPrompt) {
        self.marker = marker
        self.prompt = prompt
    }

    // MARK: Complete answers

    mutating func rewrite(body: inout ByteBuffer, api: ModelAPI, allocator: ByteBufferAllocator) {
        let marker = self.marker, prompt = self.prompt
        let result: ByteBuffer? = body.withUnsafeReadableBytes { bytes in
            guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else { return nil }
            var s = JSONScanner(base: base, count: bytes.count)
            var edits = JSONEdits()
            func mark(_ span: JSONStringSpan, _ scanner: JSONScanner) {
                var out: [UInt8] = []
                scanner.withStringBytes(span) { text in
                    var stream = marker.stream(prompt: prompt)
                    var marked: [UInt8] = []
                    stream.feed(utf8: text, into: &marked)
                    stream.finish(into: &marked)
                    if marked.elementsEqual(text) { return }
                    marked.withUnsafeBufferPointer { JSONBuffer.appendEscaped($0, to: &out) }
                }
                if !out.isEmpty { edits.replace(span.start..<span.end, with: out) }
            }
            do {
                s.skipWhitespace()
                guard s.next == UInt8(ascii: "{"), try s.beginObject() else { return nil }
                repeat {
                    let key = try s.readKey()
                    if api == .openAI, s.key(key, is: "choices"), s.next == UInt8(ascii: "[") {
                        try Self.openAIChoices(&s, part: "message") { _, content, _, scanner in
                            if let content { mark(content, scanner) }
                        }
                    } else if api == .anthropic, s.key(key, is: "content"), s.next == UInt8(ascii: "[") {
                        if try s.beginArray() {
                            repeat {
                                if let text = try Self.textOfBlock(&s, textType: "text") { mark(text, s) }
                            } while try s.endElement()
                        }
                    } else {
                        try s.skipValue()
                    }
                } while try s.endMember()
            } catch {
                return nil
            }
            guard !edits.isEmpty else { return nil }
            var out = allocator.buffer(capacity: bytes.count + 64)
            edits.apply(bytes, into: &out)
            return out
        }
        if let result { body = result }
    }

    /// `choices[*]`: calls `body(index, content string of part, finish_reason set, scanner)` per choice.
    static func openAIChoices(_ s: inout JSONScanner, part: StaticString,
                              _ body: (Int, JSONStringSpan?, Bool, JSONScanner) -> Void) throws(JSONError) {
        guard try s.beginArray() else { return }
        var position = 0
        repeat {
            defer { position += 1 }
            guard s.next == UInt8(ascii: "{") else {
                try s.skipValue()
                continue
            }
            var index = position
            var content: JSONStringSpan?
            var finished = false
            if try s.beginObject() {
                repeat {
                    let key = try s.readKey()
                    if s.key(key, is: part), s.next == UInt8(ascii: "{") {
                        if try s.beginObject() {
                            repeat {
                                let k = try s.readKey()
                                if s.key(k, is: "content"), s.next == UInt8(ascii: "\"") {
                                    content = try s.scanString(field: "content")
                                } else {
                                    try s.skipValue()
                                }
                            } while try s.endMember()
                        }
                    } else if s.key(key, is: "index"), s.next != UInt8(ascii: "n") {
                        index = try s.readInt(field: "index", nonNegative: true) ?? position
                    } else if s.key(key, is: "finish_reason") {
                        finished = !(try s.consumeNull())
                        if finished { try s.skipValue() }
                    } else {
                        try s.skipValue()
                    }
                } while try s.endMember()
            }
            body(index, content, finished, s)
        } while try s.endElement()
    }

    /// One content block (or an Anthropic delta object): its `text` string when its `type` is `textType`.
    static func textOfBlock(_ s: inout JSONScanner, textType: StaticString) throws(JSONError) -> JSONStringSpan? {
        guard s.next == UInt8(ascii: "{") else {
            try s.skipValue()
            return nil
        }
        var isText = false
        var text: JSONStringSpan?
        if try s.beginObject() {
            repeat {
                let key = try s.readKey()
                if s.key(key, is: "type"), s.next == UInt8(ascii: "\"") {
                    let t = try s.scanString(field: "type")
                    isText = s.string(t, is: textType)
                } else if s.key(key, is: "text"), s.next == UInt8(ascii: "\"") {
                    text = try s.scanString(field: "text")
                } else {
                    try s.skipValue()
                }
            } while try s.endMember()
        }
        return isText ? text : nil
    }

    // MARK: Streams

    mutating func transform(_ event: SSEEventView, api: ModelAPI, into out: inout ByteBuffer) {
        guard let data = event.data, let base = data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count > 1,
              data[0] == UInt8(ascii: "{") else {
            // `[DONE]` and anything else that is not a JSON object: whatever is held goes first.
            flushAll(into: &out)
            out.writeBytes(event.bytes)
            return
        }
        let dataStart = data.baseAddress! - event.bytes.baseAddress!
        var s = JSONScanner(base: base, count: data.count)
        var edits = JSONEdits()
        var before: [UInt8] = []
        do {
            switch api {
            case .openAI:
                guard try s.beginObject() else { break }
                repeat {
                    let key = try s.readKey()
                    if s.key(key, is: "choices"), s.next == UInt8(ascii: "[") {
                        try Self.openAIChoices(&s, part: "delta") { index, content, finished, scanner in
                            if let content {
                                var marked: [UInt8] = []
                                var p = pending[index] ?? Pending(stream: marker.stream(prompt: prompt))
                                scanner.withStringBytes(content) { p.stream.feed(utf8: $0, into: &marked) }
                                if finished {
                                    p.stream.finish(into: &marked)
                                    pending[index] = nil
                                } else {
                                    p.template = Array(event.bytes)
                                    p.value = (dataStart + content.start)..<(dataStart + content.end)
                                    pending[index] = p
                                }
                                var escaped: [UInt8] = []
                                marked.withUnsafeBufferPointer { JSONBuffer.appendEscaped($0, to: &escaped) }
                                edits.replace(content.start..<content.end, with: escaped)
                            } else if finished {
                                flush(index, into: &before)
                            }
                        }
                    } else {
                        try s.skipValue()
                    }
                } while try s.endMember()
            case .anthropic:
                try anthropicEvent(&s, event: event, dataStart: dataStart, &edits, before: &before)
            }
        } catch {
            flushAll(into: &out)
            out.writeBytes(event.bytes)
            return
        }
        out.writeBytes(before)
        guard !edits.isEmpty else {
            out.writeBytes(event.bytes)
            return
        }
        out.writeBytes(UnsafeRawBufferPointer(rebasing: event.bytes[..<dataStart]))
        edits.apply(data, into: &out)
        out.writeBytes(UnsafeRawBufferPointer(rebasing: event.bytes[(dataStart + data.count)...]))
    }

    private mutating func anthropicEvent(_ s: inout JSONScanner, event: SSEEventView, dataStart: Int, _ edits: inout JSONEdits,
                                         before: inout [UInt8]) throws(JSONError) {
        var type: JSONStringSpan?
        var index: Int?
        var text: JSONStringSpan?
        guard try s.beginObject() else { return }
        repeat {
            let key = try s.readKey()
            if s.key(key, is: "type"), s.next == UInt8(ascii: "\"") {
                type = try s.scanString(field: "type")
            } else if s.key(key, is: "index"), s.next != UInt8(ascii: "n") {
                index = try s.readInt(field: "index", nonNegative: true)
            } else if s.key(key, is: "delta") {
                text = try Self.textOfBlock(&s, textType: "text_delta")
            } else {
                try s.skipValue()
            }
        } while try s.endMember()
        guard let type else { return }
        if s.string(type, is: "content_block_delta"), let index, let text {
            var marked: [UInt8] = []
            var p = pending[index] ?? Pending(stream: marker.stream(prompt: prompt))
            s.withStringBytes(text) { p.stream.feed(utf8: $0, into: &marked) }
            p.template = Array(event.bytes)
            p.value = (dataStart + text.start)..<(dataStart + text.end)
            pending[index] = p
            var escaped: [UInt8] = []
            marked.withUnsafeBufferPointer { JSONBuffer.appendEscaped($0, to: &escaped) }
            edits.replace(text.start..<text.end, with: escaped)
        } else if s.string(type, is: "content_block_stop"), let index {
            flush(index, into: &before)
        } else if s.string(type, is: "message_delta") || s.string(type, is: "message_stop") {
            for i in pending.keys.sorted() { flush(i, into: &before) }
        }
    }

    /// Ends text `index`: appends an event with what its marker still holds (a copy of its last delta
    /// event with the text replaced), if anything.
    private mutating func flush(_ index: Int, into out: inout [UInt8]) {
        guard var p = pending.removeValue(forKey: index) else { return }
        var rest: [UInt8] = []
        p.stream.finish(into: &rest)
        guard !rest.isEmpty, !p.template.isEmpty else { return }
        out.append(contentsOf: p.template[..<p.value.lowerBound])
        rest.withUnsafeBufferPointer { JSONBuffer.appendEscaped($0, to: &out) }
        out.append(contentsOf: p.template[p.value.upperBound...])
    }

    private mutating func flushAll(into out: inout ByteBuffer) {
        guard !pending.isEmpty else { return }
        var bytes: [UInt8] = []
        for i in pending.keys.sorted() { flush(i, into: &bytes) }
        out.writeBytes(bytes)
    }

    mutating func finish(api: ModelAPI, into out: inout ByteBuffer) {
        flushAll(into: &out)
    }
}
