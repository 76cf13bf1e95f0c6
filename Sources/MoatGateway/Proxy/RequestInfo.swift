import MoatCore

/// The fields of a request that limits, logging and detection need, read from the body's bytes with
/// MoatCore's `JSONScanner` (no object tree, one pass). The body itself is forwarded as it came.
struct RequestInfo: Sendable {
    var model = ""
    var stream = false
    var maxTokens: Int?
    var temperature: Double?
    var tools = 0
    var thinking = false
    var systemPrompt: String?
    /// The last user message's text.
    var prompt: String?
    /// User turns before the last.
    var turn = 0
    /// Rough input size for admission: bytes / 4.
    var estimatedInputTokens = 1

    /// Reads a request body; nil when it is not a JSON object with a non-empty `model`.
    static func parse(_ body: UnsafeRawBufferPointer, api: ModelAPI) -> RequestInfo? {
        guard let base = body.baseAddress?.assumingMemoryBound(to: UInt8.self), body.count > 0 else { return nil }
        var s = JSONScanner(base: base, count: body.count)
        var info = RequestInfo()
        info.estimatedInputTokens = max(1, body.count / 4)
        do {
            try info.read(&s, api: api)
        } catch {
            return nil
        }
        return info.model.isEmpty ? nil : info
    }

    private mutating func read(_ s: inout JSONScanner, api: ModelAPI) throws(JSONError) {
        s.skipWhitespace()
        guard s.next == UInt8(ascii: "{") else { throw JSONError("not an object") }
        var systemParts: [String] = []
        var lastUser: Int?
        var userTurns = 0
        if try s.beginObject() {
            repeat {
                let key = try s.readKey()
                if s.key(key, is: "model") {
                    model = try Self.lenientString(&s) ?? ""
                } else if s.key(key, is: "stream") {
                    stream = try Self.lenientBool(&s) ?? false
                } else if s.key(key, is: "max_tokens") || s.key(key, is: "max_completion_tokens") {
                    if let v = try Self.lenientInt(&s) { maxTokens = v }
                } else if s.key(key, is: "temperature") {
                    temperature = try Self.lenientDouble(&s)
                } else if s.key(key, is: "tools") {
                    tools = try Self.countElements(&s)
                } else if s.key(key, is: "messages") {
                    try readMessages(&s, api: api, systemParts: &systemParts, lastUser: &lastUser, userTurns: &userTurns)
                } else if api == .anthropic, s.key(key, is: "system") {
                    if let t = try Self.contentText(&s) { systemParts.insert(t, at: 0) }
                } else if api == .anthropic, s.key(key, is: "thinking") {
                    thinking = try Self.thinkingEnabled(&s)
                } else if api == .openAI, s.key(key, is: "reasoning_effort") {
                    let effort = try Self.lenientString(&s)
                    thinking = effort != nil && effort != "none"
                } else if api == .openAI, s.key(key, is: "reasoning") {
                    if try s.consumeNull() { continue } else { try s.skipValue(); thinking = true }
                } else {
                    try s.skipValue()
                }
            } while try s.endMember()
        }
        try s.expectEnd()
        if let lastUser {
            var content = s
            content.pos = lastUser
            prompt = try Self.contentText(&content)
        }
        turn = max(0, userTurns - 1)
        systemPrompt = systemParts.isEmpty ? nil : systemParts.joined(separator: "\n")
    }

    /// `messages`: counts user turns, keeps where the last user message's content is, collects system text.
    private func readMessages(_ s: inout JSONScanner, api: ModelAPI, systemParts: inout [String], lastUser: inout Int?,
                              userTurns: inout Int) throws(JSONError) {
        guard s.next == UInt8(ascii: "[") else { return try s.skipValue() }
        guard try s.beginArray() else { return }
        repeat {
            guard s.next == UInt8(ascii: "{") else {
                try s.skipValue()
                continue
            }
            var role = Role.other
            var contentAt: Int?
            if try s.beginObject() {
                repeat {
                    let key = try s.readKey()
                    if s.key(key, is: "role"), s.next == UInt8(ascii: "\"") {
                        let span = try s.scanString(field: "role")
                        if s.string(span, is: "user") {
                            role = .user
                        } else if s.string(span, is: "system") || s.string(span, is: "developer") {
                            role = .system
                        }
                    } else if s.key(key, is: "content") {
                        contentAt = s.pos
                        try s.skipValue()
                    } else {
                        try s.skipValue()
                    }
                } while try s.endMember()
            }
            switch role {
            case .user:
                userTurns += 1
                lastUser = contentAt
            case .system:
                if let at = contentAt {
                    var c = s
                    c.pos = at
                    if let t = try Self.contentText(&c) { systemParts.append(t) }
                }
            case .other:
                break
            }
        } while try s.endElement()
    }

    private enum Role { case user, system, other }

    /// A message content's text: a string, or the `text` of its content blocks joined by newlines.
    static func contentText(_ s: inout JSONScanner) throws(JSONError) -> String? {
        switch s.next {
        case UInt8(ascii: "\""):
            return s.makeString(try s.scanString(field: "content"))
        case UInt8(ascii: "["):
            var parts: [String] = []
            if try s.beginArray() {
                repeat {
                    guard s.next == UInt8(ascii: "{") else {
                        try s.skipValue()
                        continue
                    }
                    if try s.beginObject() {
                        repeat {
                            let key = try s.readKey()
                            if s.key(key, is: "text"), s.next == UInt8(ascii: "\"") {
                                parts.append(s.makeString(try s.scanString(field: "text")))
                            } else {
                                try s.skipValue()
                            }
                        } while try s.endMember()
                    }
                } while try s.endElement()
            }
            return parts.isEmpty ? nil : parts.joined(separator: "\n")
        default:
            try s.skipValue()
            return nil
        }
    }

    /// Anthropic `thinking: {type: enabled | adaptive}`.
    static func thinkingEnabled(_ s: inout JSONScanner) throws(JSONError) -> Bool {
        guard s.next == UInt8(ascii: "{") else {
            try s.skipValue()
            return false
        }
        var enabled = false
        if try s.beginObject() {
            repeat {
                let key = try s.readKey()
                if s.key(key, is: "type"), s.next == UInt8(ascii: "\"") {
                    let span = try s.scanString(field: "type")
                    enabled = s.string(span, is: "enabled") || s.string(span, is: "adaptive")
                } else {
                    try s.skipValue()
                }
            } while try s.endMember()
        }
        return enabled
    }

    static func countElements(_ s: inout JSONScanner) throws(JSONError) -> Int {
        guard s.next == UInt8(ascii: "[") else {
            try s.skipValue()
            return 0
        }
        var n = 0
        if try s.beginArray() {
            repeat {
                try s.skipValue()
                n += 1
            } while try s.endElement()
        }
        return n
    }

    // Values of an unexpected type are skipped (the upstream judges the request), not errors here.

    static func lenientString(_ s: inout JSONScanner) throws(JSONError) -> String? {
        guard s.next == UInt8(ascii: "\"") else {
            try s.skipValue()
            return nil
        }
        return s.makeString(try s.scanString(field: nil))
    }

    static func lenientBool(_ s: inout JSONScanner) throws(JSONError) -> Bool? {
        switch s.next {
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): return try s.readBool(field: "bool")
        default:
            try s.skipValue()
            return nil
        }
    }

    static func lenientInt(_ s: inout JSONScanner) throws(JSONError) -> Int? {
        let c = s.next
        guard c == UInt8(ascii: "-") || (c >= 48 && c <= 57) else {
            try s.skipValue()
            return nil
        }
        let start = s.pos
        do {
            return try s.readInt(field: "int", nonNegative: false)
        } catch {
            s.pos = start
            try s.skipValue()
            return nil
        }
    }

    static func lenientDouble(_ s: inout JSONScanner) throws(JSONError) -> Double? {
        let c = s.next
        guard c == UInt8(ascii: "-") || (c >= 48 && c <= 57) else {
            try s.skipValue()
            return nil
        }
        return try s.readDouble(field: "number")
    }
}
