import Testing
@testable import MoatCore

@Suite struct ExchangeDecodingTests {
    @Test func roundTripFullyPopulated() throws {
        let decoded = try #require(decode(fullExchange.jsonLine).value)
        #expect(decoded == fullExchange)
        #expect(decoded.client.ip == "2001:db8::1")
        #expect(decoded.systemPrompt?.contains("😀") == true)
        #expect(decoded.label == "campaign-1")
    }

    @Test func roundTripMinimal() throws {
        let minimal = Exchange(id: "a", ts: Timestamp(milliseconds: 0), accountID: "b", model: "c", inputTokens: 0,
                               outputTokens: 1)
        let text = minimal.jsonLine
        #expect(text == #"{"id":"a","ts":"1970-01-01T00:00:00.000Z","account_id":"b","model":"c","input_tokens":0,"output_tokens":1}"#)
        let decoded = try #require(decode(text).value)
        #expect(decoded == minimal)
        #expect(decoded.client.isEmpty)
        #expect(decoded.prompt == nil)
    }

    @Test func decodesEveryFieldValue() throws {
        let text = line([
            ("org_id", "\"o\""), ("api_key_id", "\"k\""), ("endpoint", "\"responses\""), ("conversation_id", "\"c\""),
            ("turn", "0"), ("system_prompt", "\"s\""), ("prompt", "\"p\""), ("response", "\"r\""),
            ("reasoning_tokens", "5"), ("thinking_requested", "false"), ("tools", "4"), ("tool_calls", "2"),
            ("max_tokens", "1024"), ("temperature", "1"), ("stream", "true"), ("status", "200"),
            ("latency_ms", "-2.5e-3"), ("label", "\"x\""),
            ("client", #"{"ip":"1.2.3.4","asn":13335,"asn_org":"CF","country":"US","user_agent":"ua","tls_fingerprint":"fp"}"#),
        ])
        let e = try #require(decode(text).value)
        #expect(e.id == "ex-1" && e.accountID == "acct-1" && e.model == "model-a")
        #expect(e.ts.rfc3339 == "2026-04-22T08:15:02.114Z")
        #expect(e.inputTokens == 12 && e.outputTokens == 34)
        #expect(e.orgID == "o" && e.apiKeyID == "k" && e.endpoint == "responses" && e.conversationID == "c")
        #expect(e.turn == 0 && e.reasoningTokens == 5 && e.tools == 4 && e.toolCalls == 2 && e.maxTokens == 1024)
        #expect(e.systemPrompt == "s" && e.prompt == "p" && e.response == "r")
        #expect(e.thinkingRequested == false && e.stream == true && e.status == 200)
        #expect(e.temperature == 1.0 && e.latencyMs == -0.0025)
        #expect(e.label == "x")
        #expect(e.client == Exchange.Client(ip: "1.2.3.4", asn: 13335, asnOrg: "CF", country: "US", userAgent: "ua",
                                            tlsFingerprint: "fp"))
    }

    @Test(arguments: ["id", "ts", "account_id", "model", "input_tokens", "output_tokens"])
    func missingRequiredField(_ field: String) throws {
        let error = try #require(decode(line([(field, nil)])).error)
        #expect(error.field == field)
        #expect(error.message == "missing required field")
        #expect(error.line == 7)
        #expect(error.file == "t.jsonl")
        // null counts as absent
        let nullError = try #require(decode(line([(field, "null")])).error)
        #expect(nullError.field == field)
        #expect(nullError.message == "missing required field")
    }

    @Test func emptyObjectNamesFirstRequiredField() throws {
        let error = try #require(decode("{}").error)
        #expect(error.field == "id")
        #expect(error.message == "missing required field")
    }

    @Test(arguments: [
        ("input_tokens", "\"12\"", "input_tokens"),
        ("account_id", "42", "account_id"),
        ("id", "true", "id"),
        ("model", "[\"m\"]", "model"),
        ("ts", "1776845702", "ts"),
        ("stream", "\"yes\"", "stream"),
        ("temperature", "\"0.7\"", "temperature"),
        ("turn", "{}", "turn"),
        ("client", "\"1.2.3.4\"", "client"),
        ("client", "[]", "client"),
        ("client", #"{"ip":{"v4":"1.2.3.4"}}"#, "client.ip"),
        ("client", #"{"asn":"AS13335"}"#, "client.asn"),
        ("client", #"{"country":7}"#, "client.country"),
        ("label", "1", "label"),
    ])
    func wrongType(_ key: String, _ value: String, _ expectedField: String) throws {
        let error = try #require(decode(line([(key, value)])).error)
        #expect(error.field == expectedField)
        #expect(error.message.hasPrefix("expected "))
    }

    @Test func wrongTypeMessageSaysWhatWasFound() throws {
        let error = try #require(decode(line([("input_tokens", "\"12\"")])).error)
        #expect(error.description == "t.jsonl:7: field `input_tokens`: expected a non-negative integer, found a string")
    }

    @Test(arguments: ["input_tokens", "output_tokens", "turn", "reasoning_tokens", "tools", "tool_calls"])
    func negativeCountsAreRejected(_ field: String) throws {
        let error = try #require(decode(line([(field, "-1")])).error)
        #expect(error.field == field)
        #expect(error.message == "must not be negative")
    }

    @Test func signedIntegerFieldsAcceptNegatives() throws {
        let e = try #require(decode(line([("max_tokens", "-1"), ("status", "-5"), ("input_tokens", "-0")])).value)
        #expect(e.maxTokens == -1)
        #expect(e.status == -5)
        #expect(e.inputTokens == 0)
    }

    @Test func integerFieldsRejectFractionsButAcceptIntegralNumbers() throws {
        let error = try #require(decode(line([("input_tokens", "1.5")])).error)
        #expect(error.field == "input_tokens")
        #expect(error.message == "expected an integer, found a fraction")
        let e = try #require(decode(line([("input_tokens", "12.0"), ("output_tokens", "1e3"), ("tools", "2.50e1")])).value)
        #expect(e.inputTokens == 12)
        #expect(e.outputTokens == 1000)
        #expect(e.tools == 25)
    }

    @Test func integerRange() throws {
        let big = try #require(decode(line([("output_tokens", "9223372036854775807"), ("max_tokens", "-9223372036854775808")])).value)
        #expect(big.outputTokens == Int.max)
        #expect(big.maxTokens == Int.min)
        for value in ["9223372036854775808", "99999999999999999999", "1e19", "-9223372036854775809"] {
            let error = try #require(decode(line([("max_tokens", value)])).error)
            #expect(error.field == "max_tokens")
            #expect(error.message == "integer out of range")
        }
    }

    @Test func doubles() throws {
        let cases: [(String, Double)] = [
            ("0.1", 0.1), ("1234.5", 1234.5), ("-0", -0.0), ("1E2", 100), ("2.5e+3", 2500), ("7e-3", 0.007),
            ("0.000001", 0.000001), ("123456789012345678901234e-10", 12_345_678_901_234.567890123),
            ("1.7976931348623157e308", .greatestFiniteMagnitude), ("4.9e-324", .leastNonzeroMagnitude),
            ("0.30000000000000004", 0.30000000000000004), ("1e-400", 0),
        ]
        for (text, expected) in cases {
            let e = try #require(decode(line([("temperature", text)])).value, "\(text)")
            #expect(e.temperature == expected, "\(text)")
        }
        let error = try #require(decode(line([("latency_ms", "1e400")])).error)
        #expect(error.field == "latency_ms")
        #expect(error.message == "number out of range")
    }

    @Test(arguments: ["01", "-", "1.", ".5", "+1", "1e", "1e+", "0x10", "--1", "1.e5", "Infinity", "NaN"])
    func invalidNumbersAreSyntaxErrors(_ text: String) throws {
        let error = try #require(decode(line([("temperature", text)])).error, "\(text)")
        #expect(error.message.hasPrefix("not valid JSON"), "\(text): \(error)")
    }

    @Test(arguments: ["2026-13-01T00:00:00Z", "yesterday", "2026-04-22T08:15:02", "2026-04-22T08:15:02.114",
                      "2026-02-30T00:00:00Z", "2026-04-22 08:15Z", "", "2026-04-22T25:00:00Z", "2026-04-22T08:15:02+0200",
                      "2026-04-22T08:15:02Z "])
    func badTimestamps(_ text: String) throws {
        let error = try #require(decode(line([("ts", "\"\(text)\"")])).error)
        #expect(error.field == "ts")
        #expect(error.message == "not an RFC 3339 time")
        #expect(error.description == "t.jsonl:7: field `ts`: not an RFC 3339 time")
    }

    @Test func offsetsConvertToUTC() throws {
        let plus = try #require(decode(line([("ts", "\"2026-04-22T10:15:02.114+02:00\"")])).value)
        #expect(plus.ts.rfc3339 == "2026-04-22T08:15:02.114Z")
        let minus = try #require(decode(line([("ts", "\"2026-04-21T23:45:02-08:30\"")])).value)
        #expect(minus.ts.rfc3339 == "2026-04-22T08:15:02.000Z")
        // an escaped timestamp is unescaped before parsing
        let escaped = try #require(decode(line([("ts", #""2026-04-22T08:15:02\u002E5Z""#)])).value)
        #expect(escaped.ts.rfc3339 == "2026-04-22T08:15:02.500Z")
    }

    @Test func nullFieldsAreAbsent() throws {
        let text = line([("org_id", "null"), ("turn", "null"), ("stream", "null"), ("temperature", "null"),
                         ("client", "null"), ("label", "null"), ("prompt", "null")])
        let e = try #require(decode(text).value)
        #expect(e.orgID == nil && e.turn == nil && e.stream == nil && e.temperature == nil && e.label == nil)
        #expect(e.prompt == nil)
        #expect(e.client.isEmpty)
        let nullInClient = try #require(decode(line([("client", #"{"ip":null,"asn":7}"#)])).value)
        #expect(nullInClient.client == Exchange.Client(asn: 7))
    }

    @Test func unknownFieldsAreSkipped() throws {
        let text = line([
            ("extra", #"{"a":[1,{"b":null,"c":[true,false,"x\"}]"]}],"d":-1.5e3,"e":{}}"#),
            ("more", #"[[], [[]], {"k": {"k": {"k": "v"}}}]"#),
            ("client", #"{"ip":"1.1.1.1","geo":{"lat":1.5,"tags":["a","b"]},"asn":1}"#),
            ("output_tokens", "99"),
        ])
        let e = try #require(decode(text).value)
        #expect(e.outputTokens == 99)
        #expect(e.client == Exchange.Client(ip: "1.1.1.1", asn: 1))
    }

    @Test func duplicateKeysLastWins() throws {
        let text = #"{"id":"a","id":"b","ts":"2026-01-01T00:00:00Z","account_id":"x","model":"m","input_tokens":1,"#
            + #""output_tokens":2,"org_id":"o","org_id":null,"input_tokens":5,"client":{"ip":"1"},"client":{"asn":3}}"#
        let e = try #require(decode(text).value)
        #expect(e.id == "b")
        #expect(e.orgID == nil)
        #expect(e.inputTokens == 5)
        #expect(e.client == Exchange.Client(asn: 3))
    }

    @Test func whitespaceBetweenTokens() throws {
        let text = " \t{ \"id\" :\t\"a\" , \"ts\": \"2026-01-01T00:00:00Z\",\"account_id\" : \"x\", \"model\":\"m\","
            + " \"input_tokens\" : 1 , \"output_tokens\" : 2 , \"client\" : { \"asn\" : 3 } } \t\r"
        let e = try #require(decode(text).value)
        #expect(e.id == "a" && e.outputTokens == 2 && e.client.asn == 3)
    }

    @Test func escapesInStrings() throws {
        let text = line([("prompt", #""a\"b\\c\/d\be\ff\ng\rh\ti\u0041\u00e9\u65e5\ud83d\ude00\u0000""#),
                         ("api_key_id", #""\u006B""#)])
        let e = try #require(decode(text).value)
        #expect(e.prompt == "a\"b\\c/d\u{08}e\u{0C}f\ng\rh\tiAé日😀\u{0}")
        #expect(e.apiKeyID == "k")
    }

    @Test func escapedKeysAreMatched() throws {
        let text = line([("\\u006frg_id", "\"o\""), ("client", #"{"\u0069p":"1.2.3.4"}"#)])
        let e = try #require(decode(text).value)
        #expect(e.orgID == "o")
        #expect(e.client.ip == "1.2.3.4")
    }

    @Test(arguments: [#""\x""#, #""\ud800""#, #""\udc00x""#, #""\ud800\u0041""#, #""\u12G4""#, #""\u12""#, #""abc\"#])
    func invalidEscapes(_ value: String) throws {
        let error = try #require(decode(line([("prompt", value)])).error, "\(value)")
        #expect(error.message.hasPrefix("not valid JSON"), "\(value): \(error)")
    }

    @Test func rawControlCharacterInStringIsRejected() throws {
        let error = try #require(decode(line([("prompt", "\"a\u{01}b\"")])).error)
        #expect(error.message.hasPrefix("not valid JSON: unescaped control character"))
        #expect(error.field == nil)
    }

    @Test(arguments: [
        #"{"id":"a","ts":"#,
        #"{"id":"a"#,
        #"{"id":"a","#,
        #"{"id""#,
        #"{"#,
        #"{"id":"a","prompt":"unterminated \"#,
        #"{"id":"a","n":nul"#,
        #"{"id":"a","n":[1,2"#,
    ])
    func truncatedLine(_ text: String) throws {
        let error = try #require(decode(text).error)
        #expect(error.field == nil)
        #expect(error.message.hasPrefix("not valid JSON: "), "\(error)")
        #expect(error.message.contains("end of line"), "\(error)")
    }

    @Test func trailingGarbage() throws {
        let error = try #require(decode(line() + " x").error)
        #expect(error.field == nil)
        #expect(error.message.hasPrefix("not valid JSON: unexpected character 'x'"))
        #expect(error.message.hasSuffix("after the end of the object"))
        let twoObjects = try #require(decode(line() + line()).error)
        #expect(twoObjects.message.contains("after the end of the object"))
    }

    @Test(arguments: ["[1,2]", "\"text\"", "42", "null", "true", "hello", "\u{FEFF}{}"])
    func notAnObject(_ text: String) throws {
        let error = try #require(decode(text).error)
        #expect(error.field == nil)
        #expect(error.message == "not valid JSON: the line is not a JSON object")
    }

    @Test(arguments: [
        #"{"id" "a"}"#, #"{"id":"a" "ts":1}"#, #"{id:"a"}"#, #"{"id":"a",}"#, #"{,}"#, #"{"a":[1,]}"#,
        #"{"a":tru}"#, #"{"a":'x'}"#, #"{"a":[1 2]}"#,
    ])
    func syntaxErrors(_ text: String) throws {
        let error = try #require(decode(text).error, "\(text)")
        #expect(error.field == nil)
        #expect(error.message.hasPrefix("not valid JSON: "), "\(text): \(error)")
    }

    @Test func deepNestingIsRejectedWithoutCrashing() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let error = try #require(decode(line([("x", deep)])).error)
        #expect(error.message == "not valid JSON: nested too deeply")
        let ok = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(decode(line([("x", ok)])).value != nil)
    }

    @Test func oneMegabytePrompt() throws {
        var prompt = ""
        prompt.reserveCapacity(1 << 20)
        for i in 0..<(1 << 20) / 16 { prompt += "word \(i % 10) é \"q\"\n " }
        var e = fullExchange
        e.prompt = prompt
        let decoded = try #require(decode(e.jsonLine).value)
        #expect(decoded.prompt == prompt)
        #expect(decoded == e)
    }

    @Test(arguments: [
        [0xFF], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80],
        [0xE2, 0x82], [0x80], [0xC3], [0xF0, 0x9F, 0x98],
    ] as [[UInt8]])
    func invalidUTF8InStrings(_ bad: [UInt8]) throws {
        let prefix = Array(line().dropLast().utf8) + Array(#","prompt":"ok "#.utf8)
        let bytes = prefix + bad + Array(#" more"}"#.utf8)
        let error = try #require(decode(bytes).error)
        #expect(error.field == "prompt")
        #expect(error.message.hasPrefix("not valid UTF-8"))
        // also in a skipped text field and in an unknown field
        #expect(decode(bytes, fields: .withoutText).error?.message.hasPrefix("not valid UTF-8") == true)
        let unknown = Array(line().dropLast().utf8) + Array(#","zz":""#.utf8) + bad + Array(#""}"#.utf8)
        #expect(decode(unknown).error?.message.hasPrefix("not valid UTF-8") == true)
    }

    @Test func validMultibyteUTF8() throws {
        let text = "aé€𐍈日本語😀\u{7FF}\u{800}\u{FFFF}\u{10000}\u{10FFFF}\u{D7FF}\u{E000}"
        let e = try #require(decode(line([("prompt", "\"\(text)\"")])).value)
        #expect(e.prompt == text)
    }

    @Test func withoutTextSkipsTextFields() throws {
        let text = fullExchange.jsonLine
        let e = try #require(decode(text, fields: .withoutText).value)
        var expected = fullExchange
        expected.systemPrompt = nil
        expected.prompt = nil
        expected.response = nil
        #expect(e == expected)
        let wrongType = try #require(decode(line([("prompt", "12")]), fields: .withoutText).error)
        #expect(wrongType.field == "prompt")
        let broken = try #require(decode(line([("response", #""bad \q""#)]), fields: .withoutText).error)
        #expect(broken.message.hasPrefix("not valid JSON"))
    }

    @Test func withoutResponseSkipsOnlyTheResponseAndStillValidatesIt() throws {
        let e = try #require(decode(fullExchange.jsonLine, fields: .withoutResponse).value)
        var expected = fullExchange
        expected.response = nil
        #expect(e == expected)
        #expect(e.prompt != nil && e.systemPrompt != nil)
        let wrongType = try #require(decode(line([("response", "12")]), fields: .withoutResponse).error)
        #expect(wrongType.field == "response")
        let broken = try #require(decode(line([("response", #""bad \q""#)]), fields: .withoutResponse).error)
        #expect(broken.message.hasPrefix("not valid JSON"))
    }

    @Test func emptyLineBuffer() throws {
        let error = try #require(decode([UInt8]()).error)
        #expect(error.message == "not valid JSON: empty line")
        #expect(error.line == 7)
    }

    /// Random truncations and mutations of valid lines: decoding must either succeed or throw, never crash.
    @Test func fuzzMutationsNeverCrash() throws {
        var rng = SplitMix64(seed: 42)
        let seeds = [Array(fullExchange.jsonLine.utf8), Array(line([("x", #"{"a":[1,{"b":"c\u00e9"}],"d":-1.5e3}"#)]).utf8)]
        let alphabet: [UInt8] = Array(#"{}[]":,\/ -+.eE0123456789abcdefnrtlsu"#.utf8) + [0, 0x1F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xFF]
        var successes = 0
        var failures = 0
        for _ in 0..<20_000 {
            var bytes = seeds[Int(rng.next() % 2)]
            switch rng.next() % 4 {
            case 0:
                bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1))))
            case 1:
                for _ in 0...(rng.next() % 3) {
                    bytes[Int(rng.next() % UInt64(bytes.count))] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                }
            case 2:
                bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: Int(rng.next() % UInt64(bytes.count + 1)))
            default:
                bytes.remove(at: Int(rng.next() % UInt64(bytes.count)))
            }
            switch decode(bytes) {
            case .success: successes += 1
            case .failure(let e):
                failures += 1
                #expect(e.file == "t.jsonl" && e.line == 7 && !e.message.isEmpty)
            }
            _ = decode(bytes, fields: .withoutText)
        }
        #expect(successes > 0)
        #expect(failures > 0)
    }
}
