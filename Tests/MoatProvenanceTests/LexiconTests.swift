import Testing
@testable import MoatProvenance

@Suite struct VariantLexiconTests {
    let lexicon = VariantLexicon.shared

    /// The first word of each form, up to its apostrophe: what a rule sees of a following unit.
    func stems(_ cls: VariantLexicon.VariantClass) -> [UInt64] {
        cls.forms.map { form in
            let word = form.words[0]
            return TextHash.word(Array(word.prefix { $0 != UInt8(ascii: "'") }))
        }
    }

    @Test func everyWordSetARuleReadsHoldsBothFormsOfAClassOrNeither() {
        var sets: [Set<UInt64>] = []
        for cls in lexicon.classes {
            for s in [cls.rule.nextIn, cls.rule.nextNotIn] { if let s { sets.append(s) } }
        }
        for set in sets {
            for cls in lexicon.classes {
                let s = stems(cls)
                #expect(set.contains(s[0]) == set.contains(s[1]), "\(cls.name) is half in a rule's word set")
            }
        }
        // The word before a unit is read as its context token: a class never hides a word a rule reads.
        for cls in lexicon.classes {
            guard let prev = cls.rule.prevNotIn else { continue }
            for other in lexicon.classes {
                for form in other.forms where form.words.count == 1 {
                    #expect(!prev.contains(form.hashes[0]), "\(other.name) is a word a rule reads")
                }
            }
        }
    }

    @Test func noFormWordIsASingleWordFormOfAnotherClass() {
        var single: [UInt64: String] = [:]
        for cls in lexicon.classes {
            for form in cls.forms where form.words.count == 1 { single[form.hashes[0]] = cls.name }
        }
        for cls in lexicon.classes {
            for form in cls.forms where form.words.count > 1 {
                for h in form.hashes {
                    if let other = single[h] { #expect(other == cls.name, "\(cls.name) contains a form of \(other)") }
                }
            }
        }
    }

    @Test func formsAreDistinctAndEachWordBelongsToOneClass() {
        var owner: [String: String] = [:]
        for cls in lexicon.classes {
            #expect(cls.forms.count == 2)
            #expect(cls.forms[0].text != cls.forms[1].text)
            for form in cls.forms {
                let text = String(decoding: form.text, as: UTF8.self)
                #expect(owner[text] == nil, "\(text) is in \(owner[text] ?? "") and \(cls.name)")
                owner[text] = cls.name
            }
        }
        #expect(lexicon.classes.count > 250)
        #expect(Set(lexicon.classes.map(\.tag)).count == lexicon.classes.count)
    }
}
