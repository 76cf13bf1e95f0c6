import Testing
@testable import MoatProvenance

@Suite struct MarkingTests {
    /// Substrings of the samples that marking must return byte for byte, whatever the key.
    static let protectedParts: [(String, String)] = [
        (SampleTexts.code, "```python\ndef organize(items):\n    # It's important: do not remove this line. For example, we are careful.\n    return sorted(items)  # don't touch\n```"),
        (SampleTexts.code, "`organize()`"),
        (SampleTexts.code, "`python -c \"print('it is not')\"`"),
        (SampleTexts.code, "    indented code: it is not prose, do not touch it\n    for example = 1"),
        (SampleTexts.json, SampleTexts.json),
        (SampleTexts.embeddedJSON, "{\"status\": \"ok\", \"note\": \"it is important that we do not change this\", \"values\": [1, 2, 3]}"),
        (SampleTexts.embeddedJSON, "\"note\" field"),
        (SampleTexts.embeddedJSON, "[do not touch this either, it is in brackets]"),
        (SampleTexts.toolCall, "<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": \"it is not raining, for example\"}}\n</tool_call>"),
        (SampleTexts.mixed, "https://example.com/it-is-not/for_example?q=do+not"),
        (SampleTexts.mixed, "3.5 GB"),
        (SampleTexts.mixed, "\"it is not the color I wanted, for example\""),
        (SampleTexts.mixed, "'it is not'"),
        (SampleTexts.mixed, "“I am not sure,”"),
        (SampleTexts.mixed, "$it is not math$"),
        (SampleTexts.mixed, "DO NOT change caps"),
        (SampleTexts.mixed, "do.not@example.com"),
        (SampleTexts.mixed, "> It is not a quote I will change, for example."),
    ]

    @Test func codeJSONToolCallsURLsQuotesAndNumbersComeBackByteIdentical() {
        for (text, part) in Self.protectedParts {
            #expect(text.contains(part), "fixture: \(part)")
            for i in 0..<64 {
                let marked = Fingerprinter(key: TestKeys.key(i)).mark(text)
                #expect(marked.contains(part), "key \(i) altered: \(part)")
            }
        }
    }

    @Test func aWholeJSONAnswerIsNeverChanged() {
        let answers = [SampleTexts.json, "  [\"it is not\", \"do not\", \"for example\"]\n\nIt is a list.", "{\n  \"a\": \"do not\"\n}\n\nIt is not prose."]
        for answer in answers {
            for i in 0..<32 {
                #expect(Fingerprinter(key: TestKeys.key(i)).mark(answer) == answer)
            }
        }
    }

    @Test func prosePartsAreRewrittenByTheKeyAndDifferBetweenKeys() {
        var outputs = Set<String>()
        var changed = 0
        for i in 0..<16 {
            let (marked, stats) = Fingerprinter(key: TestKeys.key(i)).markWithStats(SampleTexts.prose)
            outputs.insert(marked)
            changed += stats.changed
            #expect(stats.units >= 25, "units \(stats.units)")
        }
        #expect(outputs.count == 16)
        #expect(changed > 16 * 8)
    }

    @Test func specificRewritesKeepCaseAndPunctuation() {
        // Find keys that flip each form, and check the rendering.
        let cases: [(String, String)] = [
            ("It is important to read. ", "It's important to read. "),
            ("We don't know yet. ", "We do not know yet. "),
            ("Additionally, it rains. ", "In addition, it rains. "),
            ("I am happy. ", "I'm happy. "),
            ("**Do not** go there. ", "**Don't** go there. "),
            ("Don’t go there. ", "Do not go there. "),
        ]
        for (input, expected) in cases {
            var seen = false
            for i in 0..<64 where Fingerprinter(key: TestKeys.key(i)).mark(input) == expected {
                seen = true
                break
            }
            #expect(seen, "no key rewrites \(input) to \(expected)")
        }
        // Contractions keep the text's curly apostrophes.
        var curly = false
        for i in 0..<64 where Fingerprinter(key: TestKeys.key(i)).mark("Don’t worry, it is a test. ").contains("it’s a test") {
            curly = true
        }
        #expect(curly)
    }

    @Test func grammarRulesKeepUnsafeSpotsUntouched() {
        // Inverted questions, clause ends, `has` readings, `make sure to`, mid-sentence `first,`.
        let untouched = [
            "Don't you think so? ", "Isn't it great? ", "I know what it is. ", "Yes, I am. ",
            "It's been a while. ", "Make sure to save. ", "The first, second and third runs. ",
            "Let us know. ", "Thus far it works. ", "Even though it rains. ", "More often than not. ",
            // `while` the noun or a loop, `finally` inside a sentence.
            "It takes a while to load. ", "Use a while loop here. ", "Avoid nested while loops. ", "Worth your while now. ",
            "The while statement. ", "We finally won. ", "Finally we won. ",
        ]
        let lexicon = VariantLexicon.shared
        for text in untouched {
            // Wording units only: the space after a comma is a unit of its own (and only ever changes spaces).
            let observed = units(of: text).filter { lexicon.special(Int($0.classIndex)) == nil }
            #expect(observed.isEmpty, "\(text): \(observed.count) unit(s)")
            for i in 0..<16 {
                #expect(singleSpaced(Fingerprinter(key: TestKeys.key(i)).mark(text)) == text)
            }
        }
    }

    @Test("while/whilst, finally/lastly and website/web site are units where they are interchangeable")
    func newerClassesMatchWhereInterchangeable() {
        let lexicon = VariantLexicon.shared
        for (text, name) in [("It helps, while it lasts. ", "while/whilst"), ("Whilst it rains, we wait. ", "while/whilst"),
                             ("It was late. Finally, we left. ", "finally/lastly"), ("Lastly, check it. ", "finally/lastly"),
                             ("Open the website today. ", "website/web site"), ("Open the web site today. ", "website/web site"),
                             ("Both web sites load. ", "websites/web sites")] {
            let named = units(of: text).filter { lexicon.name(of: Int($0.classIndex)) == name }
            #expect(named.count == 1, "\(text)")
        }
        let marked = (0..<16).map { Fingerprinter(key: TestKeys.key($0)).mark("Open the website today. ") }
        #expect(Set(marked) == ["Open the website today. ", "Open the web site today. "])
    }

    @Test("with no context words, every occurrence of a class gets the same keyed form")
    func noContextMeansOneChoicePerClass() {
        let scheme = FingerprintScheme(contextWords: 0)
        let text = "You do not know. We don't care. They do not go. It is not here. It isn't there yet. "
        let observed = units(of: text, scheme: scheme)
        #expect(observed.count >= 5)
        #expect(Set(observed.map(\.context)).count == 1)
        for i in 0..<8 {
            let marked = Fingerprinter(key: TestKeys.key(i), scheme: scheme).mark(text)
            let after = units(of: marked, scheme: scheme)
            #expect(after.map(\.classIndex) == observed.map(\.classIndex))
            for cls in Set(after.map(\.classIndex)) {
                #expect(Set(after.filter { $0.classIndex == cls }.map(\.form)).count == 1, "\(marked)")
            }
        }
    }

    @Test func markedTextHasTheSameUnitsAndEveryOneFollowsTheKey() {
        let texts = SampleTexts.all + [syntheticText(sentences: 300, seed: 7)]
        for (t, text) in texts.enumerated() {
            let before = units(of: text)
            for i in 0..<24 {
                let key = TestKeys.key(i)
                let marked = Fingerprinter(key: key).mark(text)
                let after = units(of: marked)
                #expect(after.map(\.classIndex) == before.map(\.classIndex), "text \(t) key \(i): classes differ")
                #expect(after.map(\.context) == before.map(\.context), "text \(t) key \(i): contexts differ")
                let lexicon = VariantLexicon.shared
                for o in after {
                    #expect(o.form == key.greenForm(tag: lexicon.tag(of: Int(o.classIndex)), context: o.context),
                            "text \(t) key \(i): \(lexicon.name(of: Int(o.classIndex))) does not follow the key")
                }
            }
        }
    }

    @Test func markingTwiceChangesNothingMore() {
        for text in SampleTexts.all {
            let marker = Fingerprinter(key: TestKeys.key(3))
            let once = marker.mark(text)
            #expect(marker.mark(once) == once)
        }
    }

    @Test func classesInThePromptAreLeftAlone() {
        let answer = "It is a good idea.\nYou don't need it.\nColour or color?\nI'd organize it."
        let prompt = FingerprintPrompt("Should I write \"do not\" or \"don't\"? Also, it's late. Organise it.")
        #expect(prompt.frozenClasses == 3)
        for i in 0..<32 {
            let (marked, stats) = Fingerprinter(key: TestKeys.key(i)).markWithStats(answer, prompt: prompt)
            #expect(marked.contains("It is a good idea") && marked.contains("don't need") && marked.contains("organize it"),
                    "key \(i): \(marked)")
            #expect(stats.changed == 0)
        }
        let observed = units(of: answer, prompt: prompt)
        #expect(observed.count == 3 && observed.allSatisfy(\.frozen))
    }

    @Test func aPromptWithBulletsFreezesTheListMarker() {
        let list = "Steps:\n\n- one thing\n- two things\n"
        #expect(FingerprintPrompt("Make a list like\n  - this\n").frozenClasses == 1)
        for i in 0..<16 {
            #expect(Fingerprinter(key: TestKeys.key(i)).mark(list, prompt: FingerprintPrompt("- a\n- b")) == list)
        }
    }

    @Test func aListGetsOneBulletCharacter() {
        let list = "Steps:\n\n- one\n* two\n- three\n  - nested\n\nText.\n\n* other list\n"
        var both = Set<String>()
        for i in 0..<32 {
            let marked = Fingerprinter(key: TestKeys.key(i)).mark(list)
            let lines = marked.split(separator: "\n", omittingEmptySubsequences: false)
            let first = Set([lines[2], lines[3], lines[4]].map { $0.first! })
            #expect(first.count == 1, "\(marked)")
            #expect(lines[5].drop { $0 == " " }.first == lines[2].first)
            both.insert(String(lines[2].first!))
        }
        #expect(both == ["-", "*"])
    }

    @Test func sentenceSpacingAndNumberedListDelimitersAreDecidedByTheKey() {
        let text = "Read this. Then that! Is it done? Yes.\n\n1. First step\n2. Second step\n10. Tenth step\n"
        var spacings = Set<String>()
        var delimiters = Set<Character>()
        for i in 0..<32 {
            let marked = Fingerprinter(key: TestKeys.key(i)).mark(text)
            let lines = marked.split(separator: "\n", omittingEmptySubsequences: false)
            spacings.insert(String(lines[0]))
            // Words and numbers never change; one delimiter for the whole list.
            #expect(lines[0].split(separator: " ") == ["Read", "this.", "Then", "that!", "Is", "it", "done?", "Yes."])
            let list = lines[2...4]
            #expect(list.map { $0.filter { $0 != "." && $0 != ")" } } == ["1 First step", "2 Second step", "10 Tenth step"])
            let used = Set(list.map { $0.first { $0 == "." || $0 == ")" }! })
            #expect(used.count == 1, "\(marked)")
            delimiters.formUnion(used)
        }
        #expect(spacings.count > 4)
        #expect(delimiters == [".", ")"])
        // A gap before a lower-case word, or of three spaces, is no unit.
        #expect(units(of: "e.g. this one.   Next one").isEmpty)
    }

    @Test("the space after a comma, colon or semicolon before a word is a unit: one or two spaces, by the key")
    func clauseSpacingIsDecidedByTheKey() {
        let text = "So, we plan: then we build; and we test, carefully.\n"
        let lexicon = VariantLexicon.shared
        let gaps = units(of: text).filter { $0.classIndex == Int32(lexicon.clauseGapClass) }
        #expect(gaps.count == 4)
        var spacings = Set<String>()
        for i in 0..<32 {
            let marked = Fingerprinter(key: TestKeys.key(i)).mark(text)
            #expect(singleSpaced(marked) == text)
            spacings.insert(marked)
            // Marked text has the same units, each in the key's form.
            let after = units(of: marked).filter { $0.classIndex == Int32(lexicon.clauseGapClass) }
            #expect(after.map(\.context) == gaps.map(\.context))
            for o in after {
                #expect(o.form == TestKeys.key(i).greenForm(tag: lexicon.tag(of: Int(o.classIndex)), context: o.context))
            }
        }
        #expect(spacings.count > 4)
        // Not a unit: before a number or a symbol, three spaces, inside code or quotes, a number like 1,000.
        for untouched in ["Items: 1, 2 and 3.", "So,   wide.", "Run `a, b` now.", "He said \"yes, no\" twice.", "About 1,000 of them."] {
            #expect(units(of: untouched).filter { $0.classIndex == Int32(lexicon.clauseGapClass) }.isEmpty, "\(untouched)")
            for i in 0..<8 { #expect(Fingerprinter(key: TestKeys.key(i)).mark(untouched) == untouched) }
        }
        // A prompt with two spaces after a comma freezes the class.
        let prompt = FingerprintPrompt("Write it like this,  with two spaces.")
        for i in 0..<8 { #expect(Fingerprinter(key: TestKeys.key(i)).mark(text, prompt: prompt) == text) }
    }

    @Test("the test scores units in protected text too; the marker never touches them")
    func scorerReadsProtectedTextTheMarkerLeavesAlone() {
        let text = "Use it.\n\n```\n# It is not done, do not run\n```\n\n\"It is not here, do not go.\" Then stop.\n"
        for i in 0..<8 {
            let marked = Fingerprinter(key: TestKeys.key(i)).mark(text)
            #expect(marked.contains("# It is not done, do not run") && marked.contains("\"It is not here, do not go.\""))
        }
        var scorer = ProvenanceScorer()
        scorer.add(text)
        var skipping = ProvenanceScorer(scoresProtected: false)
        skipping.add(text)
        #expect(skipping.distinctUnits == 0)
        #expect(scorer.distinctUnits >= 4)
    }
}

/// The text with every run of spaces made one space (undoes the spacing classes, nothing else).
func singleSpaced(_ text: String) -> String {
    var out = ""
    var previousSpace = false
    for c in text {
        if c == " " && previousSpace { continue }
        previousSpace = c == " "
        out.append(c)
    }
    return out
}
