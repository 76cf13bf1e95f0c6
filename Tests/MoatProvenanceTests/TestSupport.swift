@testable import MoatProvenance

/// A deterministic generator for property tests (SplitMix64).
struct SeededRandom: RandomNumberGenerator {
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

enum TestKeys {
    static let master = try! FingerprintMasterKey(encoded: "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
    static func key(_ i: Int) -> FingerprintKey { master.campaignKey("campaign-\(i)") }
}

/// The units of a text: (class, context, form, frozen), in order.
func units(of text: String, prompt: FingerprintPrompt = .none, scheme: FingerprintScheme = .standard)
    -> [FingerprintEngine.Observation]
{
    var engine = FingerprintEngine(key: nil, frozen: prompt.frozen, contextWords: scheme.contextWords)
    engine.feed(text.utf8)
    engine.finish()
    return engine.observations
}

/// Text made of every class's forms in random contexts, independent of any key.
func syntheticText(sentences: Int, seed: UInt64) -> String {
    var rng = SeededRandom(seed: seed)
    let lexicon = VariantLexicon.shared
    let fillers = ["the", "model", "answer", "river", "stone", "we", "plan", "data", "result", "people",
                   "value", "team", "report", "simple", "clear", "work", "light", "garden", "paper", "system"]
    var out = ""
    for _ in 0..<sentences {
        var words: [String] = []
        for _ in 0..<Int.random(in: 1...4, using: &rng) { words.append(fillers.randomElement(using: &rng)!) }
        let cls = lexicon.classes.randomElement(using: &rng)!
        let form = cls.forms[Int.random(in: 0...1, using: &rng)]
        words.append(String(decoding: form.text, as: UTF8.self))
        words.append(["the", "a", "important", "been", "that", "your"].randomElement(using: &rng)!)
        for _ in 0..<Int.random(in: 1...3, using: &rng) { words.append(fillers.randomElement(using: &rng)!) }
        out += words.joined(separator: " ") + ". "
    }
    return out
}
