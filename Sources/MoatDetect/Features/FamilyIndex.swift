/// Near-duplicate families of texts (system prompts): texts whose word sets mostly agree, with numbers and
/// names masked, get one family id, so that a campaign rotating a handful of variants shows as one value.
///
/// A text's signature is a MinHash over its set of masked words. Families are found by
/// locality-sensitive hashing on bands of the signature, and confirmed by the share of equal MinHash values
/// (an estimate of the Jaccard similarity of the two word sets). A text joins the first family, in event
/// order, that it resembles; otherwise it founds one. Memory is bounded: past `maxFamilies`, new texts keep
/// their exact hash as their family.
struct FamilyIndex {
    struct Family {
        var signature: [UInt64]
        /// Distinct texts (exact hashes) seen in the family, and the least similarity with which one joined.
        var variants: Int
        var minSimilarity: Double
        var label: String
    }

    let hashes: Int
    let bands: Int
    let similarity: Double
    let maxFamilies: Int
    let maxTexts: Int

    private(set) var families: [UInt64: Family] = [:]
    private var byBand: [UInt64: UInt64] = [:]
    /// Exact text hash -> family, and the similarity it was assigned with.
    private var byText: [UInt64: (family: UInt64, similarity: Double)] = [:]

    init(config: DetectionConfig) {
        hashes = config.familyHashes
        bands = max(1, config.familyBands)
        similarity = config.familySimilarity
        maxFamilies = config.maxFamilies
        maxTexts = config.maxFamilyTexts
    }

    /// The family of a text, given its exact hash.
    mutating func family(of text: String, exact: UInt64) -> UInt64 {
        let hashes = hashes
        return family(exact: exact, label: text, signature: Self.signature(text, hashes: hashes))
    }

    /// The family of a text given its exact hash, its start (`label`, at least 80 characters when the text
    /// has them) and its signature (`signature(_:hashes:)`), which the caller computed ahead.
    mutating func family(exact: UInt64, label text: String, signature: @autoclosure () -> [UInt64]) -> UInt64 {
        if let known = byText[exact] { return known.family }
        let signature = signature()
        var assigned = exact
        var bestSimilarity = 1.0
        if !signature.isEmpty {
            var best: (UInt64, Double)?
            for key in bandKeys(signature) {
                guard let candidate = byBand[key], let f = families[candidate] else { continue }
                let s = Self.similarity(signature, f.signature)
                if s >= similarity, s > (best?.1 ?? -1) { best = (candidate, s) }
            }
            if let (family, s) = best {
                assigned = family
                bestSimilarity = s
                if var f = families[family] {
                    f.variants += 1
                    f.minSimilarity = min(f.minSimilarity, s)
                    families[family] = f
                }
            } else if families.count < maxFamilies {
                families[exact] = Family(signature: signature, variants: 1, minSimilarity: 1, label: String(text.prefix(80)))
                for key in bandKeys(signature) where byBand[key] == nil { byBand[key] = exact }
            }
        }
        if byText.count < maxTexts { byText[exact] = (assigned, bestSimilarity) }
        return assigned
    }

    /// The family's portable sketch (`TextFamily`), from the text that founded it.
    func sketch(_ family: UInt64) -> [UInt64]? {
        families[family].map { Array($0.signature.prefix(TextFamily.sketchLength)) }
    }

    /// How many distinct texts a family holds, and the least similarity with which one joined it.
    func describe(_ family: UInt64) -> (variants: Int, minSimilarity: Double) {
        guard let f = families[family] else { return (1, 1) }
        return (f.variants, f.minSimilarity)
    }

    private func bandKeys(_ signature: [UInt64]) -> [UInt64] {
        let rows = max(1, signature.count / bands)
        var keys: [UInt64] = []
        keys.reserveCapacity(bands)
        for b in 0..<bands {
            var h = StableHash(seed: 40 + UInt64(b))
            for r in (b * rows)..<min(signature.count, (b + 1) * rows) { h.add(signature[r]) }
            keys.append(h.value)
        }
        return keys
    }

    static func similarity(_ a: [UInt64], _ b: [UInt64]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return 0 }
        var equal = 0
        for i in a.indices where a[i] == b[i] { equal += 1 }
        return Double(equal) / Double(a.count)
    }

    /// MinHash over the set of masked words. A word with a digit becomes `#`; a capitalized word that does not
    /// start a sentence becomes `@` (names of personas, products, companies). Word sets, not word order: an
    /// operator's variants reorder and reword clauses but keep most of their vocabulary.
    static func signature(_ text: String, hashes: Int, maxBytes: Int = 4_000) -> [UInt64] {
        var shingles: [UInt64] = []
        var h = StableHash()
        var inWord = false, hasDigit = false, capital = false, sentenceStart = true
        var count = 0
        func endWord() {
            var token = h.value
            if hasDigit { token = 0x23 } else if capital && !sentenceStart { token = 0x40 }
            shingles.append(token)
            count += 1
            h = StableHash()
            inWord = false
            hasDigit = false
            capital = false
            sentenceStart = false
        }
        var n = 0
        for b in text.utf8 {
            n += 1
            if n > maxBytes { break }
            let isUpper = b >= 65 && b <= 90
            let lower = isUpper ? b + 32 : b
            let isAlnum = (lower >= 97 && lower <= 122) || (lower >= 48 && lower <= 57) || lower == 95 || lower >= 128
            if isAlnum {
                if !inWord { capital = isUpper; inWord = true }
                if lower >= 48 && lower <= 57 { hasDigit = true }
                h.add(lower)
                continue
            }
            if inWord { endWord() }
            if b == 46 || b == 33 || b == 63 || b == 10 || b == 58 { sentenceStart = true }  // . ! ? newline :
        }
        if inWord { endWord() }
        guard count >= 3 else { return [] }
        var mins = [UInt64](repeating: .max, count: hashes)
        for s in shingles {
            for k in 0..<hashes {
                let v = StableHash.mix(s ^ (UInt64(k + 1) &* 0x9E37_79B9_7F4A_7C15))
                if v < mins[k] { mins[k] = v }
            }
        }
        return mins
    }
}
