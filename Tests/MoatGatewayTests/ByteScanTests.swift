import Foundation
@testable import MoatGateway
import NIOCore
import Testing

/// The proxy reads requests and answers at byte level (MoatCore's `JSONScanner`) and rewrites them only
/// when a countermeasure applies; these check what it reads and writes against `JSONSerialization`.
@Suite("moat serve: byte-level request and answer scanning")
struct ByteScanTests {
    func info(_ json: String, _ api: ModelAPI) -> RequestInfo? {
        var s = json
        return s.withUTF8 { RequestInfo.parse(UnsafeRawBufferPointer($0), api: api) }
    }

    @Test func requestFieldsOfBothAPIs() throws {
        let openAI = try #require(info("""
            {"model":"gpt-x","stream":true,"max_completion_tokens":77,"temperature":0.25,"reasoning_effort":"high",
             "tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}],
             "messages":[{"role":"system","content":"Be brief."},{"role":"developer","content":[{"type":"text","text":"Use tools."}]},
                         {"role":"user","content":"first"},{"role":"assistant","content":"ok"},
                         {"role":"user","content":[{"type":"text","text":"second \\"quoted\\" \\u00e9"},{"type":"image_url","image_url":{}},{"type":"text","text":"part"}]}]}
            """, .openAI))
        #expect(openAI.model == "gpt-x")
        #expect(openAI.stream)
        #expect(openAI.maxTokens == 77)
        #expect(openAI.temperature == 0.25)
        #expect(openAI.thinking)
        #expect(openAI.tools == 2)
        #expect(openAI.turn == 1)
        #expect(openAI.prompt == "second \"quoted\" é\npart")
        #expect(openAI.systemPrompt == "Be brief.\nUse tools.")

        let anthropic = try #require(info("""
            {"messages":[{"role":"user","content":"hello"}],"system":[{"type":"text","text":"Sys."}],"model":"claude",
             "max_tokens":64,"thinking":{"budget_tokens":1024,"type":"enabled"},"stream":false}
            """, .anthropic))
        #expect(anthropic.model == "claude")
        #expect(!anthropic.stream)
        #expect(anthropic.maxTokens == 64)
        #expect(anthropic.thinking)
        #expect(anthropic.prompt == "hello")
        #expect(anthropic.systemPrompt == "Sys.")
        #expect(anthropic.turn == 0)
        #expect(info(#"{"model":"m","reasoning_effort":"none","messages":[]}"#, .openAI)?.thinking == false)
    }

    @Test func malformedRequestsAreRefused() {
        #expect(info("{not json", .openAI) == nil)
        #expect(info(#"{"messages":[]}"#, .openAI) == nil, "no model")
        #expect(info(#"{"model":""}"#, .openAI) == nil)
        #expect(info(#"["model"]"#, .openAI) == nil)
        #expect(info(#"{"model":"m"} trailing"#, .openAI) == nil)
        #expect(info(#"{"model":"m","max_tokens":"many","temperature":"hot"}"#, .openAI)?.maxTokens == nil,
                "odd types are the upstream's to judge")
    }

    @Test func answerUsageAndText() {
        var a = AnswerInfo()
        var openAI = #"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Hi there","reasoning_content":"hmm","tool_calls":[{"id":"c1","function":{"name":"f","arguments":"{}"}}]}}],"usage":{"prompt_tokens":12,"completion_tokens":7,"completion_tokens_details":{"reasoning_tokens":3}}}"#
        openAI.withUTF8 { a.readAnswer(UnsafeRawBufferPointer($0), api: .openAI) }
        #expect(a.inputTokens == 12 && a.outputTokens == 7 && a.reasoningTokens == 3)
        #expect(a.textString == "Hi there")
        #expect(a.toolCalls == 1)

        var b = AnswerInfo()
        var anthropic = #"{"content":[{"type":"thinking","thinking":"let me see"},{"type":"text","text":"Answer."},{"type":"tool_use","id":"t","name":"x","input":{}}],"usage":{"input_tokens":5,"output_tokens":9}}"#
        anthropic.withUTF8 { b.readAnswer(UnsafeRawBufferPointer($0), api: .anthropic) }
        #expect(b.inputTokens == 5 && b.outputTokens == 9)
        #expect(b.textString == "Answer.")
        #expect(b.toolCalls == 1)
    }

    func rewritten(_ json: String, _ api: ModelAPI) -> String {
        var buffer = ByteBuffer(string: json)
        var t = WithholdReasoning()
        t.rewrite(body: &buffer, api: api, allocator: ByteBufferAllocator())
        return String(buffer: buffer)
    }

    func object(_ json: String) -> NSDictionary? { try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? NSDictionary }

    @Test(arguments: [
        (#"{"choices":[{"message":{"reasoning_content":"r","content":"c"}}]}"#, #"{"choices":[{"message":{"content":"c"}}]}"#),
        (#"{"choices":[{"message":{"content":"c","reasoning_content":"r"}}]}"#, #"{"choices":[{"message":{"content":"c"}}]}"#),
        (#"{"choices":[{"message":{"reasoning":"x", "reasoning_content":"r" , "content":"c","role":"assistant"}}]}"#,
         #"{"choices":[{"message":{"content":"c","role":"assistant"}}]}"#),
        (#"{"choices":[{"message":{"role":"assistant","reasoning_content":"r","content":"c","reasoning":"x"}}]}"#,
         #"{"choices":[{"message":{"role":"assistant","content":"c"}}]}"#),
        (#"{"choices":[{"message":{"reasoning_content":"only"}}],"usage":{"x":1}}"#, #"{"choices":[{"message":{}}],"usage":{"x":1}}"#),
    ])
    func openAIReasoningIsCutOut(input: String, expected: String) {
        let out = rewritten(input, .openAI)
        #expect(object(out) == object(expected), "\(out)")
    }

    @Test func anthropicThinkingBlocksAreCutOut() {
        let input = #"{"id":"m","content":[{"type":"thinking","thinking":"a","signature":"s"},{"type":"redacted_thinking","data":"x"},{"type":"text","text":"T"},{"type":"thinking","thinking":"b"}],"usage":{"output_tokens":3}}"#
        let out = rewritten(input, .anthropic)
        #expect(object(out) == object(#"{"id":"m","content":[{"type":"text","text":"T"}],"usage":{"output_tokens":3}}"#), "\(out)")
        let untouched = #"{"id":"m","content":[{"type":"text","text":"T"}]}"#
        #expect(rewritten(untouched, .anthropic) == untouched, "nothing to withhold: the bytes as they were")
    }

    static let anthropicStream = [
        #"event: message_start\#ndata: {"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1}}}\#n\#n"#,
        #"event: content_block_start\#ndata: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}\#n\#n"#,
        #"event: content_block_delta\#ndata: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hmm"}}\#n\#n"#,
        #"event: content_block_stop\#ndata: {"type":"content_block_stop","index":0}\#n\#n"#,
        #"event: content_block_start\#ndata: {"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}\#n\#n"#,
        #"event: content_block_delta\#ndata: {"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hello"}}\#n\#n"#,
        #"event: content_block_stop\#ndata: {"type":"content_block_stop","index":1}\#n\#n"#,
        #"event: message_delta\#ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}}\#n\#n"#,
        #"event: message_stop\#ndata: {"type":"message_stop"}\#n\#n"#,
    ]

    /// Relays `events` cut into chunks of `size` bytes; returns (sent before the end, sent at the end, info).
    func relay(_ events: [String], api: ModelAPI, size: Int, transforms: TransformChain? = nil) -> (String, String, AnswerInfo) {
        let all = Array(events.joined().utf8)
        var r = StreamRelay(api: api, transforms: transforms)
        var sent = ""
        var i = 0
        while i < all.count {
            let chunk = ByteBuffer(bytes: all[i..<min(i + size, all.count)])
            if let out = r.feed(chunk, allocator: ByteBufferAllocator()) { sent += String(buffer: out) }
            i += size
        }
        let rest = r.finish(allocator: ByteBufferAllocator()).map { String(buffer: $0) } ?? ""
        return (sent, rest, r.info)
    }

    @Test(arguments: [1, 7, 64, 4096])
    func streamsPassThroughWithOnlyTheTerminalEventHeld(chunkSize: Int) {
        let events = Self.anthropicStream
        let (sent, rest, info) = relay(events, api: .anthropic, size: chunkSize)
        #expect(sent == events.dropLast().joined(), "every event but the last, as it came")
        #expect(rest == events.last!, "the terminal event waits for the log")
        #expect(info.inputTokens == 10 && info.outputTokens == 7 && info.textString == "Hello" && info.ended)

        let openAI = [
            #"data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\#n\#n"#,
            #"data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\#r\#n\#r\#n"#,
            #"data: {"choices":[{"index":0,"delta":{}, "finish_reason":"stop"}],"usage":null}\#n\#n"#,
            #"data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\#n\#n"#,
            "data: [DONE]\n\n",
        ]
        let (s2, r2, i2) = relay(openAI, api: .openAI, size: chunkSize)
        #expect(s2 == openAI.dropLast().joined())
        #expect(r2 == "data: [DONE]\n\n")
        #expect(i2.inputTokens == 3 && i2.outputTokens == 2 && i2.textString == "Hi")
    }

    @Test(arguments: [3, 50, 4096])
    func withheldStreamsDropThinkingAndRenumberBlocks(chunkSize: Int) throws {
        let (sent, rest, info) = relay(Self.anthropicStream, api: .anthropic, size: chunkSize,
                                       transforms: TransformChain([WithholdReasoning()]))
        let all = sent + rest
        #expect(!all.contains("thinking"))
        #expect(all.contains(#""index":0,"delta":{"type":"text_delta","text":"Hello"}"#))
        #expect(!all.contains(#""index":1"#))
        #expect(rest.contains("message_stop") && !sent.contains("message_stop"))
        #expect(info.outputTokens == 7)
    }
}
