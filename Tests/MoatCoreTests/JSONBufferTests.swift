import Testing
@testable import MoatCore

@Suite struct JSONBufferTests {
    func text(_ build: (inout JSONBuffer) -> Void) -> String {
        var j = JSONBuffer()
        build(&j)
        return String(decoding: j.bytes, as: UTF8.self)
    }

    @Test func objectsArraysAndCommas() {
        let s = text { j in
            j.beginObject()
            j.key("a"); j.int(1)
            j.key("b"); j.beginArray(); j.int(1); j.string("x"); j.beginObject(); j.endObject(); j.null(); j.endArray()
            j.key("c"); j.beginObject(); j.key("d"); j.bool(true); j.key("e"); j.bool(false); j.endObject()
            j.field("f", nil as String?)
            j.field("g", 2.5)
            j.endObject()
            j.newline()
            j.beginArray(); j.endArray()
        }
        #expect(s == "{\"a\":1,\"b\":[1,\"x\",{},null],\"c\":{\"d\":true,\"e\":false},\"g\":2.5}\n[]")
    }

    @Test func integers() {
        var out: [UInt8] = []
        for v: Int64 in [0, 7, -7, 10, 1_234_567_890, .max, .min] {
            out.removeAll()
            JSONBuffer.appendInt(v, to: &out)
            #expect(String(decoding: out, as: UTF8.self) == "\(v)")
        }
    }

    @Test func doubles() {
        #expect(text { $0.double(3) } == "3")
        #expect(text { $0.double(-2) } == "-2")
        #expect(text { $0.double(0.1) } == "0.1")
        #expect(text { $0.double(1234.5) } == "1234.5")
        #expect(text { $0.double(1e20) } == "1e+20")
        #expect(text { $0.double(.nan) } == "null")
        #expect(text { $0.double(.infinity) } == "null")
    }

    @Test func stringEscaping() {
        #expect(text { $0.string("a\"b\\c\nd\re\tf/") } == #""a\"b\\c\nd\re\tf/""#)
        #expect(text { $0.string("\u{0}\u{1}\u{1F}\u{7F}") } == "\"\\u0000\\u0001\\u001f\u{7F}\"")
        #expect(text { $0.string("é日😀") } == "\"é日😀\"")
    }

    /// Everything JSONBuffer writes, the scanner reads back identically.
    @Test func stringsRoundTripThroughTheScanner() throws {
        var all = ""
        for v in 0..<0x80 { all.unicodeScalars.append(Unicode.Scalar(UInt8(v))) }
        let samples = [all, "", "plain", "é日😀\u{10FFFF}\u{FFFD}", String(repeating: "\\\"", count: 100)]
        for sample in samples {
            var e = Exchange(id: sample, ts: Timestamp(milliseconds: 0), accountID: "a", model: "m", inputTokens: 0,
                             outputTokens: 0)
            e.prompt = sample
            let decoded = try #require(decode(e.jsonLine).value)
            #expect(decoded.id == sample)
            #expect(decoded.prompt == sample)
        }
    }

    @Test func timestampsAreQuotedRFC3339() {
        #expect(text { $0.timestamp(Timestamp(milliseconds: 1_776_845_702_114)) } == "\"2026-04-22T08:15:02.114Z\"")
    }
}
