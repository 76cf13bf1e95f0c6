/// What the user's own request contains, so that marking leaves it alone.
///
/// A class is frozen for an answer when any of its forms appears in the prompt (as consecutive words,
/// in any case, anywhere, code included): the answer then keeps whatever the model wrote for that class,
/// and the test excludes those units. That covers every unit whose context and form could have been
/// copied from the prompt, and questions about the variants themselves ("colour or color?"). A prompt
/// with a bulleted line freezes the bullet marker.
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
            var lineStart = true
            var bulletPossible = false
            var previous: UInt8 = 0
            var pendingApostrophe = false
            func endWord() {
                if letters > 0 { words.append(hash) }
                hash = TextHash.offset
                letters = 0
                pendingApostrophe = false
            }
            var utf8 = Array(text.utf8)
            utf8.append(0x0A)
            var i = 0
            while i < utf8.count {
                let b = utf8[i]
                let lower = b | 0x20
                if lower >= 0x61 && lower <= 0x7A {
                    if pendingApostrophe { hash = TextHash.add(hash, UInt8(ascii: "'")); pendingApostrophe = false }
                    hash = TextHash.add(hash, lower)
                    letters += 1
                } else if letters > 0 && !pendingApostrophe && (b == UInt8(ascii: "'")
                            || (b == 0xE2 && i + 2 < utf8.count && utf8[i + 1] == 0x80 && utf8[i + 2] == 0x99)) {
                    pendingApostrophe = true
                    if b == 0xE2 { i += 2 }
                } else {
                    endWord()
                }
                // A bullet: optional indentation, `-` or `*`, a space.
                if b == 0x0A {
                    lineStart = true
                    bulletPossible = false
                } else if lineStart {
                    if b == 0x20 || b == 0x09 {
                        if bulletPossible { frozen.insert(lexicon.bulletClass) }
                        bulletPossible = false
                    } else if (b == UInt8(ascii: "-") || b == UInt8(ascii: "*")) && !bulletPossible && previous != b {
                        bulletPossible = true
                    } else {
                        lineStart = false
                        bulletPossible = false
                    }
                }
                previous = b
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
