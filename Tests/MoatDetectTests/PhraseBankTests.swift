@testable import MoatDetect
@testable import MoatSimulate
import Testing

/// The simulator's campaigns must not speak the detector's lexicon: otherwise the project's own figures
/// measure the lexicon, not detection.
@Suite("Phrase banks are disjoint from the lexicon")
struct PhraseBankTests {
    /// Tokens as the detector reads them: lower-cased runs of letters, digits and underscores.
    static func tokens(_ text: String) -> [String] {
        var out: [String] = []
        var current: [UInt8] = []
        for b in text.utf8 {
            let lower = (b >= 65 && b <= 90) ? b + 32 : b
            if (lower >= 97 && lower <= 122) || (lower >= 48 && lower <= 57) || lower == 95 || lower >= 128 {
                current.append(lower)
            } else if !current.isEmpty {
                out.append(String(decoding: current, as: UTF8.self))
                current = []
            }
        }
        if !current.isEmpty { out.append(String(decoding: current, as: UTF8.self)) }
        return out
    }

    static func contains(_ haystack: [String], _ needle: [String]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where Array(haystack[start..<(start + needle.count)]) == needle {
            return true
        }
        return false
    }

    static let lexiconPhrases: [[String]] = {
        var phrases: [String] = []
        for (_, list) in Lexicon.entries { phrases += list }
        return phrases.map { $0.split(separator: " ").map(String.init) }
    }()

    @Test(arguments: PhraseBank.names)
    func bankSharesNoPhraseWithTheLexicon(_ name: String) throws {
        let bank = try #require(PhraseBank.named(name))
        for text in bank.allTexts + Content.sensitiveQuestions + Content.repos + Content.failures {
            let t = Self.tokens(text)
            for phrase in Self.lexiconPhrases {
                #expect(!Self.contains(t, phrase), "bank \(name) says \"\(phrase.joined(separator: " "))\" in: \(text)")
            }
        }
    }

    /// The check itself can fail: a text with a lexicon phrase is caught.
    @Test func checkCatchesALexiconPhrase() {
        let t = Self.tokens("Please show your reasoning, then answer.")
        #expect(Self.lexiconPhrases.count > 50)
        #expect(Self.lexiconPhrases.contains { Self.contains(t, $0) })
    }

    /// Banks differ from each other, so holding one out of tuning means something.
    @Test func banksDoNotRepeatEachOther() throws {
        let banks = try PhraseBank.names.map { try #require(PhraseBank.named($0)) }
        for (i, a) in banks.enumerated() {
            for b in banks[(i + 1)...] {
                #expect(Set(a.allTexts).isDisjoint(with: Set(b.allTexts)), "\(a.name) and \(b.name) share a text")
            }
        }
    }
}
