/// What the user's own request contains, so that marking leaves it alone.
///
/// A class is frozen for an answer when any of its forms appears in the prompt (as consecutive words,
/// in any case, anywhere, code included): the answer then keeps whatever the model wrote for that class,
/// and the test excludes those units. That covers every unit whose context and form could have been
/// copied from the prompt, and questions about the variants themselves ("colour or color?"). A prompt
/// with a bulleted or numbered line freezes that list marker, one with two spaces between sentences
/// freezes the sentence spacing, and one with two spaces after a comma, colon or semicolon freezes that.
public struct FingerprintPrompt: Sendable, Equatable {
    let frozen: FrozenClasses

    /// No prompt: nothing frozen.
    public static let none = FingerprintPrompt(frozen: .none)

    init(frozen: FrozenClasses) {
        self.frozen = frozen
    }

    /// The texts of the request: system prompt, user messages, earlier turns.
    public init(_ texts: [String]) {
        self.init(texts, lexicon: .shared)
    }

    public init(_ text: String) {
        self.init([text], lexicon: .shared)
    }

    init(_ texts: [String], lexicon: VariantLexicon) {
        var frozen = FrozenClasses(count: lexicon.classCount)
        var words: [UInt64] = []
        for text in texts {
            words.removeAll(keepingCapacity: true)
            var hash = TextHash.offset
            var letters = 0
            var pendingApostrophe = false
            func endWord() {
                if letters > 0 { words.append(hash) }
                hash = TextHash.offset
                letters = 0
                pendingApostrophe = false
            }
            var utf8 = Array(text.utf8)
            utf8.append(0x0A)
            let n = utf8.count
            var i = 0
            var lineStart = true
            while i < n {
                let b = utf8[i]
                if lineStart {
                    // A list item: indentation, then `-`/`*` and a space, or digits, `.`/`)` and a space.
                    var j = i
                    while j < n && (utf8[j] == 0x20 || utf8[j] == 0x09) { j += 1 }
                    if j + 1 < n && (utf8[j] == UInt8(ascii: "-") || utf8[j] == UInt8(ascii: "*")) && utf8[j + 1] == 0x20 {
                        frozen.insert(lexicon.bulletClass)
                    }
                    var d = j
                    while d < n && utf8[d] >= 0x30 && utf8[d] <= 0x39 { d += 1 }
                    if d > j && d + 1 < n && (utf8[d] == UInt8(ascii: ".") || utf8[d] == UInt8(ascii: ")")) && utf8[d + 1] == 0x20 {
                        frozen.insert(lexicon.numberClass)
                    }
                    lineStart = false
                }
                // Two spaces between sentences.
                if (b == UInt8(ascii: ".") || b == UInt8(ascii: "!") || b == UInt8(ascii: "?")) && i + 3 < n
                    && utf8[i + 1] == 0x20 && utf8[i + 2] == 0x20 && utf8[i + 3] >= 0x41 && utf8[i + 3] <= 0x5A {
                    frozen.insert(lexicon.gapClass)
                }
                // Two spaces after a comma, colon or semicolon.
                if (b == UInt8(ascii: ",") || b == UInt8(ascii: ":") || b == UInt8(ascii: ";")) && i + 3 < n
                    && utf8[i + 1] == 0x20 && utf8[i + 2] == 0x20 && (utf8[i + 3] | 0x20) >= 0x61 && (utf8[i + 3] | 0x20) <= 0x7A {
                    frozen.insert(lexicon.clauseGapClass)
                }
                let lower = b | 0x20
                if lower >= 0x61 && lower <= 0x7A {
                    if pendingApostrophe { hash = TextHash.add(hash, UInt8(ascii: "'")); pendingApostrophe = false }
                    hash = TextHash.add(hash, lower)
                    letters += 1
                } else if letters > 0 && !pendingApostrophe && (b == UInt8(ascii: "'")
                            || (b == 0xE2 && i + 2 < n && utf8[i + 1] == 0x80 && utf8[i + 2] == 0x99)) {
                    pendingApostrophe = true
                    if b == 0xE2 { i += 2 }
                } else {
                    endWord()
                }
                if b == 0x0A { lineStart = true }
                i += 1
            }
            for (start, first) in words.enumerated() {
                guard let candidates = lexicon.index[first] else { continue }
                for c in candidates where !frozen.contains(Int(c.classIndex)) {
                    let form = lexicon.classes[Int(c.classIndex)].forms[Int(c.form)]
                    guard start + form.hashes.count <= words.count else { continue }
                    var same = true
                    for k in 1..<max(1, form.hashes.count) where words[start + k] != form.hashes[k] {
                        same = false
                        break
                    }
                    if same { frozen.insert(Int(c.classIndex)) }
                }
            }
        }
        self.frozen = frozen
    }

    /// How many classes the prompt freezes.
    public var frozenClasses: Int { frozen.count }
}
