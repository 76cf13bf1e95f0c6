import MoatCore

/// The staged engine's line format: one tab-separated line per record, text with `\\`, `\t`, `\n`, `\r`
/// escaped and `\N` for a missing value. Every line starts with its kind, an event time and a sort key, so a
/// distributed sort (Spark SQL) can order lines without understanding the rest.
///
/// - `E  ts  id  account  model  input  output  reasoning  turn  thinking  tools  tool_calls  max_tokens
///   temperature  stream  ip  asn  asn_org  country  user_agent  tls  prompt80  system80  capability  cot  f_thinking
///   f_tools  templates  sp_exact  sp_signature  shape` — one exchange digest. `sp_signature` is `\N` when the
///   signature is in the dictionary (an `S` line), else inline.
/// - `S  0  exact  signature` — a system prompt's family signature (hex, comma-separated).
/// - `I  0  count  first_error` — lines stage 1 skipped as invalid (with `--skip-invalid`).
/// - `P  first_ts  account  kind  value  last_ts  count` — a posting: an account held a shared value.
public enum StagedRow {
    public static let kindIndex = 0

    // MARK: Encoding

    /// Appends the `E` line of a digest (with its newline). `inlineSignature`: write the signature into the
    /// line instead of leaving it to the dictionary.
    public static func encode(_ d: ExchangeDigest, inlineSignature: Bool, into out: inout [UInt8]) {
        let e = d.exchange
        let f = d.features
        out.append(UInt8(ascii: "E"))
        field(int: Int(e.ts.milliseconds), &out)
        field(e.id, &out)
        field(e.accountID, &out)
        field(e.model, &out)
        field(int: e.inputTokens, &out)
        field(int: e.outputTokens, &out)
        field(int: e.reasoningTokens, &out)
        field(int: e.turn, &out)
        field(bool: e.thinkingRequested, &out)
        field(int: e.tools, &out)
        field(int: e.toolCalls, &out)
        field(int: e.maxTokens, &out)
        field(e.temperature.map { "\($0)" }, &out)
        field(bool: e.stream, &out)
        field(e.client.ip, &out)
        field(int: e.client.asn, &out)
        field(e.client.asnOrg, &out)
        field(e.client.country, &out)
        field(e.client.userAgent, &out)
        field(e.client.tlsFingerprint, &out)
        field(e.prompt, &out)
        field(e.systemPrompt, &out)
        field(f.capability.rawValue, &out)
        field("\(f.chainOfThought)", &out)
        field(bool: f.thinking, &out)
        field(bool: f.tools, &out)
        field(hexList: f.templates, &out)
        field(hex: f.systemPromptHash, &out)
        if inlineSignature, let s = d.systemPromptSignature { field(hexList: s, &out) } else { field(nil, &out) }
        field(hex: f.shape, &out)
        out.append(10)
    }

    public static func encodeSignature(exact: UInt64, signature: [UInt64], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "S"))
        field(int: 0, &out)
        field(hex: exact, &out)
        field(hexList: signature, &out)
        out.append(10)
    }

    public static func encodeInvalid(count: Int, firstError: String?, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "I"))
        field(int: 0, &out)
        field(int: count, &out)
        field(firstError, &out)
        out.append(10)
    }

    public static func encodePosting(_ p: Posting, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "P"))
        field(int: Int(p.firstTs), &out)
        field(p.account, &out)
        field(p.kind.rawValue.description, &out)
        field(hex: p.value, &out)
        field(int: Int(p.lastTs), &out)
        field(int: p.count, &out)
        out.append(10)
    }

    @inline(__always) static func field(_ s: String?, _ out: inout [UInt8]) {
        out.append(9)
        guard let s else { out.append(92); out.append(78); return }  // \N
        for b in s.utf8 {
            switch b {
            case 92: out.append(92); out.append(92)
            case 9: out.append(92); out.append(116)
            case 10: out.append(92); out.append(110)
            case 13: out.append(92); out.append(114)
            default: out.append(b)
            }
        }
    }

    @inline(__always) static func field(int v: Int?, _ out: inout [UInt8]) {
        guard let v else { field(nil, &out); return }
        out.append(9)
        out.append(contentsOf: String(v).utf8)
    }

    @inline(__always) static func field(bool v: Bool?, _ out: inout [UInt8]) {
        guard let v else { field(nil, &out); return }
        out.append(9)
        out.append(v ? 49 : 48)
    }

    @inline(__always) static func field(hex v: UInt64?, _ out: inout [UInt8]) {
        guard let v else { field(nil, &out); return }
        out.append(9)
        out.append(contentsOf: String(v, radix: 16).utf8)
    }

    static func field(hexList vs: [UInt64], _ out: inout [UInt8]) {
        out.append(9)
        for (k, v) in vs.enumerated() {
            if k > 0 { out.append(44) }
            out.append(contentsOf: String(v, radix: 16).utf8)
        }
    }

    // MARK: Decoding

    /// One decoded line.
    public enum Record {
        case exchange(ExchangeDigest)
        case signature(exact: UInt64, signature: [UInt64])
        case invalid(count: Int, firstError: String?)
        case posting(Posting)
    }

    /// Decodes one line (without its newline).
    public static func decode(_ line: ArraySlice<UInt8>) throws(StagedRowError) -> Record {
        var r = FieldReader(line)
        let kind = try r.raw()
        guard kind.count == 1 else { throw StagedRowError("unknown record kind") }
        switch kind.first {
        case UInt8(ascii: "E"):
            let ts = try r.int64()
            let id = try r.string()
            let account = try r.string()
            let model = try r.string()
            let input = try r.int()
            let output = try r.int()
            let reasoning = try r.optionalInt()
            let turn = try r.optionalInt()
            let thinking = try r.optionalBool()
            let tools = try r.optionalInt()
            let toolCalls = try r.optionalInt()
            let maxTokens = try r.optionalInt()
            let temperature = try r.optionalString().map { s throws(StagedRowError) -> Double in
                guard let v = Double(s) else { throw StagedRowError("temperature: not a number") }
                return v
            }
            let stream = try r.optionalBool()
            let client = Exchange.Client(ip: try r.optionalString(), asn: try r.optionalInt(), asnOrg: try r.optionalString(),
                                         country: try r.optionalString(), userAgent: try r.optionalString(), tlsFingerprint: try r.optionalString())
            let prompt = try r.optionalString()
            let system = try r.optionalString()
            guard let capability = Capability(rawValue: try r.string()) else { throw StagedRowError("unknown capability") }
            guard let cot = Double(try r.string()) else { throw StagedRowError("chain of thought: not a number") }
            let fThinking = try r.bool()
            let fTools = try r.bool()
            let templates = try r.hexList()
            let exact = try r.optionalHex()
            let signature = try r.isNull() ? nil : try r.hexList()
            let shape = try r.hex()
            let e = Exchange(id: id, ts: Timestamp(milliseconds: ts), accountID: account, model: model, inputTokens: input,
                             outputTokens: output, turn: turn, systemPrompt: system, prompt: prompt,
                             reasoningTokens: reasoning, thinkingRequested: thinking, tools: tools, toolCalls: toolCalls,
                             maxTokens: maxTokens, temperature: temperature, stream: stream, client: client)
            let f = ExchangeFeatures(capability: capability, chainOfThought: cot, thinking: fThinking, tools: fTools,
                                     templates: templates, systemPromptHash: exact, shape: shape)
            return .exchange(ExchangeDigest(exchange: e, features: f, systemPromptSignature: signature))
        case UInt8(ascii: "S"):
            _ = try r.raw()
            return .signature(exact: try r.hex(), signature: try r.hexList())
        case UInt8(ascii: "I"):
            _ = try r.raw()
            return .invalid(count: try r.int(), firstError: try r.optionalString())
        case UInt8(ascii: "P"):
            let first = try r.int64()
            let account = try r.string()
            guard let k = UInt8(try r.string()), let kind = LinkKind(rawValue: k) else { throw StagedRowError("unknown link kind") }
            return .posting(Posting(account: account, kind: kind, value: try r.hex(), firstTs: first, lastTs: try r.int64(),
                                    count: try r.int()))
        default:
            throw StagedRowError("unknown record kind")
        }
    }

    struct FieldReader {
        let line: ArraySlice<UInt8>
        var pos: Int
        var field = 0

        init(_ line: ArraySlice<UInt8>) {
            self.line = line
            pos = line.startIndex
        }

        /// The next field's raw bytes (escapes left in).
        mutating func raw() throws(StagedRowError) -> ArraySlice<UInt8> {
            guard pos <= line.endIndex else { throw StagedRowError("too few fields (\(field))") }
            let start = pos
            var i = pos
            while i < line.endIndex, line[i] != 9 { i += 1 }
            pos = i + 1
            field += 1
            return line[start..<i]
        }

        /// Whether the next field is `\N` (consumed if so).
        mutating func isNull() throws(StagedRowError) -> Bool {
            guard pos + 1 < line.endIndex else { return false }
            if line[pos] == 92, line[pos + 1] == 78, pos + 2 == line.endIndex || line[pos + 2] == 9 {
                pos += 3
                field += 1
                return true
            }
            return false
        }

        mutating func optionalString() throws(StagedRowError) -> String? {
            if try isNull() { return nil }
            return try string()
        }

        mutating func string() throws(StagedRowError) -> String {
            let b = try raw()
            guard b.contains(92) else { return String(decoding: b, as: UTF8.self) }
            var out: [UInt8] = []
            out.reserveCapacity(b.count)
            var escaped = false
            for c in b {
                if escaped {
                    switch c {
                    case 116: out.append(9)
                    case 110: out.append(10)
                    case 114: out.append(13)
                    case 92: out.append(92)
                    default: throw StagedRowError("bad escape in field \(field)")
                    }
                    escaped = false
                } else if c == 92 {
                    escaped = true
                } else {
                    out.append(c)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }

        mutating func int64() throws(StagedRowError) -> Int64 {
            let b = try raw()
            var v: Int64 = 0
            var negative = false
            var digits = 0
            for (k, c) in b.enumerated() {
                if k == 0, c == 45 { negative = true; continue }
                guard c >= 48, c <= 57 else { throw StagedRowError("field \(field): not an integer") }
                v = v &* 10 &+ Int64(c - 48)
                digits += 1
            }
            guard digits > 0 else { throw StagedRowError("field \(field): not an integer") }
            return negative ? -v : v
        }

        mutating func int() throws(StagedRowError) -> Int { Int(try int64()) }

        mutating func optionalInt() throws(StagedRowError) -> Int? {
            if try isNull() { return nil }
            return try int()
        }

        mutating func bool() throws(StagedRowError) -> Bool {
            let b = try raw()
            guard b.count == 1, b.first == 48 || b.first == 49 else { throw StagedRowError("field \(field): not 0 or 1") }
            return b.first == 49
        }

        mutating func optionalBool() throws(StagedRowError) -> Bool? {
            if try isNull() { return nil }
            return try bool()
        }

        static func parseHex(_ b: ArraySlice<UInt8>, field: Int) throws(StagedRowError) -> UInt64 {
            guard !b.isEmpty, b.count <= 16 else { throw StagedRowError("field \(field): not a hex value") }
            var v: UInt64 = 0
            for c in b {
                let d: UInt8
                switch c {
                case 48...57: d = c - 48
                case 97...102: d = c - 87
                default: throw StagedRowError("field \(field): not a hex value")
                }
                v = v << 4 | UInt64(d)
            }
            return v
        }

        mutating func hex() throws(StagedRowError) -> UInt64 { try Self.parseHex(try raw(), field: field) }

        mutating func optionalHex() throws(StagedRowError) -> UInt64? {
            if try isNull() { return nil }
            return try hex()
        }

        mutating func hexList() throws(StagedRowError) -> [UInt64] {
            let b = try raw()
            guard !b.isEmpty else { return [] }
            var out: [UInt64] = []
            for part in b.split(separator: 44, omittingEmptySubsequences: false) { out.append(try Self.parseHex(part, field: field)) }
            return out
        }
    }
}

/// An account held a shared value: what stage 2 counts per key (holders, rarity) and pairs up.
public struct Posting: Sendable, Equatable {
    public var account: String
    public var kind: LinkKind
    public var value: UInt64
    public var firstTs: Int64
    public var lastTs: Int64
    public var count: Int
}

/// A staged line that cannot be read.
public struct StagedRowError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension ExchangeFeatures {
    init(capability: Capability, chainOfThought: Double, thinking: Bool, tools: Bool, templates: [UInt64],
         systemPromptHash: UInt64?, shape: UInt64) {
        self.capability = capability
        self.chainOfThought = chainOfThought
        self.thinking = thinking
        self.tools = tools
        self.templates = templates
        self.systemPromptHash = systemPromptHash
        self.shape = shape
    }
}
