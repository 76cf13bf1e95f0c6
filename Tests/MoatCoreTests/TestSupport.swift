import Foundation
@testable import MoatCore

/// The six required fields of an exchange, as JSON text, in contract order.
let requiredFields: [(String, String)] = [
    ("id", "\"ex-1\""),
    ("ts", "\"2026-04-22T08:15:02.114Z\""),
    ("account_id", "\"acct-1\""),
    ("model", "\"model-a\""),
    ("input_tokens", "12"),
    ("output_tokens", "34"),
]

/// A JSON object from (key, raw JSON value) pairs, in order.
func object(_ fields: [(String, String)]) -> String {
    "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
}

/// The minimal valid line with `changes` applied: a value replaces the field (or is appended), nil removes it.
func line(_ changes: [(String, String?)] = []) -> String {
    var fields = requiredFields
    for (key, value) in changes {
        if let i = fields.firstIndex(where: { $0.0 == key }) {
            if let value { fields[i].1 = value } else { fields.remove(at: i) }
        } else if let value {
            fields.append((key, value))
        }
    }
    return object(fields)
}

func decode(_ bytes: [UInt8], fields: ExchangeReader.Fields = .all) -> Result<Exchange, ContractError> {
    // An exactly sized allocation, so that the address sanitizer catches any read past the end.
    let exact = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)
    defer { exact.deallocate() }
    _ = exact.initialize(from: bytes)
    do throws(ContractError) {
        return .success(try Exchange.decode(line: UnsafeBufferPointer(exact), file: "t.jsonl", lineNumber: 7,
                                            fields: fields))
    } catch {
        return .failure(error)
    }
}

func decode(_ text: String, fields: ExchangeReader.Fields = .all) -> Result<Exchange, ContractError> {
    decode(Array(text.utf8), fields: fields)
}

extension Result {
    var value: Success? {
        if case .success(let v) = self { return v }
        return nil
    }
    var error: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}

/// Writes bytes to a fresh temporary file and returns its path.
func temporaryFile(_ bytes: [UInt8]) throws -> String {
    let path = NSTemporaryDirectory() + "moat-core-test-\(UUID().uuidString).jsonl"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

func temporaryFile(_ text: String) throws -> String {
    try temporaryFile(Array(text.utf8))
}

func removeFile(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// Reads every exchange of a file.
func readAll(_ path: String, skipInvalid: Bool = false, fields: ExchangeReader.Fields = .all,
             chunkSize: Int = LineReader.defaultChunkSize) throws -> (ExchangeReader, [Exchange]) {
    let reader = try ExchangeReader(path: path, skipInvalid: skipInvalid, fields: fields, chunkSize: chunkSize)
    var out: [Exchange] = []
    while let e = try reader.next() { out.append(e) }
    return (reader, out)
}

/// Deterministic random numbers for fuzzing.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

let fullExchange = Exchange(
    id: "ex-42", ts: Timestamp(milliseconds: 1_776_845_702_114), accountID: "acct-7", model: "model-b",
    inputTokens: 1523, outputTokens: 0, orgID: "org-3", apiKeyID: "key-9", endpoint: "messages",
    conversationID: "conv-1", turn: 2,
    systemPrompt: "You are \"helpful\".\nTabs\there, backslash \\ and unicode: naïve 日本語 😀 \u{01}\u{1F}",
    prompt: "Write a function\r\nthat returns 42 / 2.", response: "```swift\nfunc f() -> Int { 42 }\n```",
    reasoningTokens: 100, thinkingRequested: true, tools: 3, toolCalls: 1, maxTokens: -1, temperature: 0.7,
    stream: false, status: 429, latencyMs: 1234.5,
    client: Exchange.Client(ip: "2001:db8::1", asn: 64500, asnOrg: "Example AS", country: "DE",
                            userAgent: "python-httpx/0.27", tlsFingerprint: "t13d1516h2_8daaf6152771"),
    label: "campaign-1")
