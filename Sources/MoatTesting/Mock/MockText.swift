/// Deterministic text for the mock upstream.
///
/// Every answer is a function of the last user message only, so the same request always gets the
/// same bytes back. Words stand in for tokens: usage counts words of output and characters/4 of input.
enum MockText {
    static let vocabulary: [String] = [
        "the", "model", "answer", "gateway", "token", "stream", "moat", "river", "stone", "light",
        "quiet", "signal", "careful", "reason", "because", "therefore", "simple", "measure", "result", "value",
        "first", "second", "then", "finally", "small", "large", "clear", "exact", "pattern", "example",
        "request", "response", "usage", "limit", "account", "campaign", "detect", "student", "teacher", "lesson",
        "north", "south", "garden", "window", "paper", "number", "letter", "system", "method", "proof",
        "and", "or", "with", "without", "under", "over", "before", "after", "each", "every",
        "bright", "steady", "gentle", "rapid",
    ]

    /// Most words an answer (or a thinking block) ever has.
    static let maxWords = 200

    /// FNV-1a 64: stable across runs and platforms, unlike `Hasher`.
    static func hash(_ s: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
        return h
    }

    /// SplitMix64 finalizer.
    static func mix(_ x0: UInt64) -> UInt64 {
        var x = x0 &+ 0x9E37_79B9_7F4A_7C15
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return x ^ (x >> 31)
    }

    /// `count` words drawn from the vocabulary by `seed`, the first capitalised; a sentence ends
    /// with a period when `complete`.
    static func words(seed: UInt64, count: Int, complete: Bool) -> [String] {
        guard count > 0 else { return [] }
        var state = seed
        var out: [String] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            state = mix(state)
            out.append(vocabulary[Int(state % UInt64(vocabulary.count))])
        }
        out[0] = out[0].prefix(1).uppercased() + out[0].dropFirst()
        if complete { out[count - 1] += "." }
        return out
    }

    /// Input tokens: characters / 4, at least 1.
    static func tokens(characters: Int) -> Int { max(1, characters / 4) }

    /// Lowercase hex of a 64-bit value, zero-padded to 16 digits.
    static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}
