import Testing
@testable import MoatProvenance

@Suite struct StreamingTests {
    static let texts = SampleTexts.all + [
        "Sure! It is a test.\r\nDon't stop. I am here\r\n\r\n- a list\r\n- of items",
        "Ends in the middle of a form: it is",
        "```\nunclosed fence, it is not prose\n",
        "Tail with spaces   \n\n   ",
        "x",
        "",
    ]

    /// Feeding the bytes in two pieces, split at every byte, gives the one-shot output.
    @Test func splittingAtEveryBytePositionGivesTheOneShotOutput() {
        for (t, text) in Self.texts.enumerated() {
            let bytes = Array(text.utf8)
            for k in [0, 5] {
                let marker = Fingerprinter(key: TestKeys.key(k))
                let whole = Array(marker.mark(text).utf8)
                for split in 0...bytes.count {
                    var stream = marker.stream()
                    var out: [UInt8] = []
                    stream.feed(utf8: bytes[..<split], into: &out)
                    stream.feed(utf8: bytes[split...], into: &out)
                    stream.finish(into: &out)
                    #expect(out == whole, "text \(t) key \(k) split at \(split)")
                    if out != whole { return }
                }
            }
        }
    }

    /// Random pieces, down to single bytes, through the String and byte interfaces.
    @Test func randomPiecesGiveTheOneShotOutput() {
        var rng = SeededRandom(seed: 42)
        for (t, text) in Self.texts.enumerated() {
            let marker = Fingerprinter(key: TestKeys.key(t))
            let whole = marker.mark(text)
            let characters = Array(text)
            for round in 0..<40 {
                // String deltas (whole characters), 1 to 12 characters each.
                var stream = marker.stream()
                var out = ""
                var i = 0
                while i < characters.count {
                    let n = Int.random(in: 1...(round < 10 ? 1 : 12), using: &rng)
                    out += stream.feed(String(characters[i..<min(i + n, characters.count)]))
                    i += n
                }
                out += stream.finish()
                #expect(out == whole, "text \(t) round \(round)")
                #expect(stream.stats == marker.markWithStats(text).stats)
            }
        }
    }

    @Test func theStreamHoldsBackOnlyAFewWords() {
        let marker = Fingerprinter(key: TestKeys.key(1))
        var stream = marker.stream()
        var maxHeld = 0
        let text = String(repeating: SampleTexts.prose + "\n\n", count: 20)
        for ch in text {
            _ = stream.feed(String(ch))
            maxHeld = max(maxHeld, stream.heldBytes)
        }
        _ = stream.finish()
        #expect(maxHeld <= 4 * 128 + 8)
        #expect(maxHeld >= 3)
        // A word is released as soon as the next space shows it is not part of a form.
        var s2 = marker.stream()
        #expect(s2.feed("Hello ") == "Hello ")
        #expect(s2.feed("world") == "")
        #expect(s2.feed(" ") == "world ")
    }

    @Test func aLongRunWithoutSpacesIsNotHeldBack() {
        var stream = Fingerprinter(key: TestKeys.key(1)).stream()
        let blob = String(repeating: "A", count: 10_000)
        let out = stream.feed(blob)
        #expect(out.utf8.count == 10_000)
        #expect(stream.heldBytes == 0)
    }

    @Test func feedingAfterFinishPassesTextThrough() {
        var stream = Fingerprinter(key: TestKeys.key(1)).stream()
        _ = stream.feed("It is a test")
        _ = stream.finish()
        #expect(stream.feed("it is a test") == "it is a test")
        #expect(stream.finish() == "")
    }

    @Test func invalidUTF8AndControlBytesPassThroughUnchanged() {
        var rng = SeededRandom(seed: 9)
        let marker = Fingerprinter(key: TestKeys.key(2))
        for _ in 0..<50 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 1...400, using: &rng) {
                // Mostly text with the bytes that steer the state machine, some arbitrary bytes.
                let pool: [UInt8] = Array("it is not a test. Don't `x` \"q\" 'a' {[]} $ :// \n\n- 1. ".utf8) + [0xE2, 0x80, 0x99, 0xC2, 0xAB, 0xFF, 0x00]
                bytes.append(Bool.random(using: &rng) ? pool.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng))
            }
            var s1 = marker.stream()
            var whole: [UInt8] = []
            s1.feed(utf8: bytes, into: &whole)
            s1.finish(into: &whole)
            var s2 = marker.stream()
            var pieces: [UInt8] = []
            var i = 0
            while i < bytes.count {
                let n = Int.random(in: 1...7, using: &rng)
                s2.feed(utf8: bytes[i..<min(i + n, bytes.count)], into: &pieces)
                i += n
            }
            s2.finish(into: &pieces)
            #expect(pieces == whole)
            // Only letters, apostrophes, spaces and list markers ever change: every other byte keeps its count.
            func histogram(_ b: [UInt8]) -> [UInt8: Int] {
                var h: [UInt8: Int] = [:]
                for x in b where !((x | 0x20) >= 0x61 && (x | 0x20) <= 0x7A) && ![0x20, 0x27, 0x2D, 0x2A, 0x2E, 0x29, 0xE2, 0x80, 0x99].contains(x) { h[x, default: 0] += 1 }
                return h
            }
            #expect(histogram(whole) == histogram(bytes))
        }
    }
}
