/// The choice points of the watermark: classes of equivalent surface forms, indexed by the first word
/// of each form.
///
/// Each class has exactly two forms (so a text independent of the key follows it with probability 1/2)
/// and a rule that says where the two are interchangeable. The list of markdown bullet markers
/// (`-` or `*`) is one more class, decided once per list. Built once; immutable and shared.
final class VariantLexicon: Sendable {
    static let shared = VariantLexicon()

    /// What must hold around a form for the class to apply. Every condition looks only at things the
    /// rewrite never changes (the next word's stem, the punctuation after the form, the position in the
    /// sentence), so a marked text has the same units as the text it was made from.
    struct Rule: Sendable {
        /// A plain word must follow after one space (no punctuation after the form).
        var needsNextWord = false
        /// Stems (lower case, before any apostrophe) the next word must not be.
        var nextNotIn: Set<UInt64>? = nil
        /// Stems the next word must be.
        var nextIn: Set<UInt64>? = nil
        /// Words the previous word must not be.
        var prevNotIn: Set<UInt64>? = nil
        /// A comma follows the form.
        var needsComma = false
        /// Punctuation follows the form (it is not directly followed by a word).
        var needsPunctuation = false
        /// The form starts a sentence (or a line).
        var sentenceStart = false
        /// The second form is rare in ordinary model text: where a text uses it, the key's choice shows
        /// more than where it uses the common one (the marked-form test).
        var rareSecond = false
    }

    struct Form: Sendable {
        /// Lower-case words with a straight apostrophe.
        var words: [[UInt8]]
        /// What is written: the words joined by single spaces (`I` capitalised).
        var text: [UInt8]
        /// `TextHash.word` of each word.
        var hashes: [UInt64]
    }

    struct VariantClass: Sendable {
        /// Stable identity of the class, part of the keyed hash (so adding classes never changes others).
        var tag: UInt64
        var forms: [Form]
        var rule: Rule
        var name: String
    }

    /// A form that can start at a word: (class index, form index, word count).
    struct Candidate: Sendable {
        var classIndex: Int32
        var form: UInt8
        var words: UInt8
    }

    let classes: [VariantClass]
    /// First word's hash -> candidates, longest first.
    let index: [UInt64: [Candidate]]
    /// Most words in any form.
    let maxWords: Int
    /// Conventions that are not words, each a class after the word classes: the bullet character of a
    /// list (`-` or `*`), the delimiter of a numbered list (`1.` or `1)`), both decided once per list, the
    /// space between two sentences on a line (one or two), and the space after a comma, colon or semicolon
    /// before a word (one or two). Two spaces render as one in Markdown and HTML; both spacing classes
    /// have a rare second form, and they are the densest choice points of the mark.
    enum Special: Int, CaseIterable {
        case bullet, numberDelimiter, sentenceGap, clauseGap

        var name: String {
            switch self {
            case .bullet: return "-/* (bullet marker)"
            case .numberDelimiter: return "1./1) (numbered-list delimiter)"
            case .sentenceGap: return "one/two spaces after a sentence"
            case .clauseGap: return "one/two spaces after a comma, colon or semicolon"
            }
        }

        var forms: (String, String) {
            switch self {
            case .bullet: return ("-", "*")
            case .numberDelimiter: return (".", ")")
            case .sentenceGap, .clauseGap: return (" ", "  ")
            }
        }
    }

    func index(of special: Special) -> Int { classes.count + special.rawValue }
    var bulletClass: Int { index(of: .bullet) }
    var numberClass: Int { index(of: .numberDelimiter) }
    var gapClass: Int { index(of: .sentenceGap) }
    var clauseGapClass: Int { index(of: .clauseGap) }
    let specialTags: [UInt64]
    var classCount: Int { classes.count + Special.allCases.count }

    func special(_ classIndex: Int) -> Special? { Special(rawValue: classIndex - classes.count) }

    init() {
        func set(_ words: [String]) -> Set<UInt64> { Set(words.map { TextHash.word(Array($0.utf8)) }) }
        let subjects = set(Self.subjects), isFollowers = set(Self.isFollowers)
        let haveFollowers = set(Self.haveFollowers), ensureFollowers = set(Self.ensureFollowers)
        var classes: [VariantClass] = []
        var index: [UInt64: [Candidate]] = [:]
        var maxWords = 1
        for (a, b, spec) in Self.table {
            var rule = Rule()
            for item in spec.split(separator: " ") {
                switch item {
                case "next": rule.needsNextWord = true
                case "!S": rule.nextNotIn = subjects
                case "!not": rule.nextNotIn = set(["not"])
                case "!far": rule.nextNotIn = set(["far"])
                case "!than": rule.nextNotIn = set(["than"])
                case "W": rule.nextIn = isFollowers
                case "P": rule.nextIn = haveFollowers
                case "E": rule.nextIn = ensureFollowers
                case "!even-as": rule.prevNotIn = set(["even", "as"])
                case "!while": rule.prevNotIn = set(Self.whileNouns)
                case "!loop": rule.nextNotIn = set(["loop", "loops", "statement", "statements"])
                case "T": rule.nextIn = set(["that"])
                case "!ofwhen": rule.nextNotIn = set(["of", "when", "where", "that"])
                case "start": rule.sentenceStart = true
                case "comma": rule.needsComma = true
                case "punct": rule.needsPunctuation = true
                case "r": rule.rareSecond = true
                default: preconditionFailure("unknown rule \(item) in the variant table")  // a programming error in the static table
                }
            }
            let forms = [a, b].map { text -> Form in
                let words = text.split(separator: " ").map { Array($0.lowercased().utf8) }
                return Form(words: words, text: Array(text.utf8), hashes: words.map(TextHash.word))
            }
            let ci = Int32(classes.count)
            classes.append(VariantClass(tag: TextHash.classTag(a), forms: forms, rule: rule, name: "\(a)/\(b)"))
            for (fi, form) in forms.enumerated() {
                maxWords = max(maxWords, form.words.count)
                index[TextHash.word(form.words[0]), default: []]
                    .append(Candidate(classIndex: ci, form: UInt8(fi), words: UInt8(form.words.count)))
            }
        }
        for key in index.keys { index[key]!.sort { $0.words > $1.words } }
        self.classes = classes
        self.index = index
        self.maxWords = maxWords
        self.specialTags = Special.allCases.map { TextHash.classTag($0 == .bullet ? "-/* bullet" : $0.name) }
    }

    /// The class's name, e.g. `do not/don't` (for reports and tests).
    func name(of classIndex: Int) -> String {
        special(classIndex)?.name ?? classes[classIndex].name
    }

    func tag(of classIndex: Int) -> UInt64 {
        classIndex >= classes.count ? specialTags[classIndex - classes.count] : classes[classIndex].tag
    }

    /// The class's rare form (the marked-form test counts units where it appears), if it has one.
    func rareForm(of classIndex: Int) -> UInt8? {
        if let s = special(classIndex) { return s == .sentenceGap || s == .clauseGap ? 1 : nil }
        return classes[classIndex].rule.rareSecond ? 1 : nil
    }

    /// The two forms as text.
    func forms(of classIndex: Int) -> (String, String) {
        if let s = special(classIndex) { return s.forms }
        let f = classes[classIndex].forms
        return (String(decoding: f[0].text, as: UTF8.self), String(decoding: f[1].text, as: UTF8.self))
    }
}

/// The hashes the watermark uses for words and contexts: FNV-1a 64, stable across runs and platforms.
enum TextHash {
    static let offset: UInt64 = 0xCBF2_9CE4_8422_2325
    static let prime: UInt64 = 0x100_0000_01B3

    @inline(__always)
    static func add(_ h: UInt64, _ b: UInt8) -> UInt64 { (h ^ UInt64(b)) &* prime }

    /// Hash of a word already in lower case with a straight apostrophe.
    static func word(_ bytes: [UInt8]) -> UInt64 {
        var h = offset
        for b in bytes { h = add(h, b) }
        return h
    }

    /// The context token a class contributes: distinct from any word's hash by its leading byte.
    static func classTag(_ firstForm: String) -> UInt64 {
        var h = add(offset, 0x01)
        for b in firstForm.lowercased().utf8 { h = add(h, b) }
        return h
    }

    /// Hash of a sequence of context tokens.
    @inline(__always)
    static func context(_ tokens: UnsafeBufferPointer<UInt64>) -> UInt64 {
        var h = offset
        for t in tokens {
            var v = t
            for _ in 0..<8 {
                h = add(h, UInt8(truncatingIfNeeded: v))
                v >>= 8
            }
        }
        return h
    }
}

/// The wording classes, for tools and documentation.
public enum FingerprintLexiconInfo {
    public struct Entry: Sendable {
        public var name: String
        public var forms: (String, String)
        /// The rule, as written in the table (`next !S`, `start comma`, ...).
        public var rule: String
    }

    public static var classes: [Entry] {
        VariantLexicon.table.map { Entry(name: "\($0.0)/\($0.1)", forms: ($0.0, $0.1), rule: $0.2) }
            + VariantLexicon.Special.allCases.map { Entry(name: $0.name, forms: $0.forms, rule: "special") }
    }
}
