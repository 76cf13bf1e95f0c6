/// The variant classes: pairs of surface forms that mean the same thing where the class's rule allows
/// them. Every form is written in lower case (the pronoun `I` excepted) with a straight apostrophe.
///
/// How the list is kept safe:
/// - A pair is included only if either form can replace the other wherever the rule lets the class
///   match, without changing meaning or grammar (contractions only where the expansion is grammatical;
///   connectives only at the start of a sentence and before a comma, where the two are interchangeable).
/// - Words that name things in code or markup (`color`, `center`, `license`, `program`, `gray`,
///   `initialize`, `catalog`, `dialog`, `analyzer`) are left out even where British and American spelling
///   differ, because prose about code uses them as identifiers.
/// - No word of a multi-word form is a single-word form of another class, and every word set a rule
///   looks at (`S`, `W`, `P`, ...) holds either both or neither of the first words of a class's forms:
///   `VariantLexiconTests` checks both, because otherwise marking could change which units a text has.
extension VariantLexicon {
    /// Subject pronouns: an inverted question (`Don't you think`, `Isn't it`) cannot be expanded.
    static let subjects: [String] = [
        "i", "you", "we", "they", "he", "she", "it", "there", "this", "that", "these", "those",
        "anyone", "someone", "everyone", "anybody", "somebody", "everybody", "people",
        // Not subjects, but first words of classes whose other form starts with one (`nowadays`/`these days`).
        "nowadays",
    ]

    /// Words after which `it is`/`it's`, `that is`/`that's`, ... are the same (never `has`, never the end
    /// of a clause: `I know what it is.` cannot be contracted).
    static let isFollowers: [String] = [
        "a", "an", "the", "also", "important", "possible", "likely", "unlikely", "just", "still", "very",
        "now", "best", "better", "easy", "hard", "difficult", "true", "only", "clear", "essential",
        "necessary", "recommended", "common", "worth", "no", "because", "why", "how", "what", "where",
        "when", "all", "crucial", "helpful", "always", "another", "some", "something", "nothing", "your",
        "my", "our", "their", "this", "that", "great", "good", "up", "time", "fine", "okay", "lots", "nobody",
    ]

    /// Past participles and adverbs after which `I have`/`I've` are the same (`I've a dog` is not).
    static let haveFollowers: [String] = [
        "been", "seen", "done", "made", "had", "got", "gotten", "written", "taken", "given", "found", "gone",
        "come", "heard", "used", "tried", "noticed", "included", "provided", "created", "added", "updated",
        "changed", "shown", "known", "never", "already", "just", "also", "always", "read", "received",
        "completed", "started", "finished", "explained", "mentioned", "covered", "outlined", "listed",
        "reviewed", "considered", "prepared", "decided", "lost", "worked", "spent", "ensured",
        // Never follows `have` in real text, but keeps the set closed under the class `had not`/`hadn't`.
        "hadn",
    ]

    /// Words after which `make sure` and `ensure` are the same (`make sure to` has no `ensure to`).
    static let ensureFollowers: [String] = [
        "that", "you", "your", "the", "all", "each", "every", "this", "these", "they", "we", "it", "our",
        "their", "any", "there",
        // Keeps the set closed under `nowadays`/`these days`.
        "nowadays",
    ]

    /// Words before which `while` is the noun (`a while`, `worth your while`) or a loop (`nested while
    /// loops`, `do while`), not the conjunction.
    static let whileNouns: [String] = [
        "a", "the", "your", "little", "long", "short", "good", "great", "whole", "worth", "quite", "once", "some",
        "nested", "infinite", "do", "inner", "outer",
    ]

    /// Spelling pairs whose two forms are both common in ordinary model text (reference: the first
    /// answers of the ShareGPT corpus), so neither is a rare, marked form.
    static let balancedSpellings: Set<String> = ["endeavor", "travelers", "canceled", "theater", "judgment", "acknowledgment"]

    /// Raw class table: (form 0, form 1, rule). Rules: `next` a word must follow; `!S`, `!not`, `!far`,
    /// `!than` the following word is not in that set; `W`, `P`, `E` it is in that set; `start` at the
    /// start of a sentence; `comma` a comma follows the form; `punct` punctuation follows the form;
    /// `T` it is `that`; `!ofwhen` it is not `of`, `when`, `where` or `that`; `!even-as` the word before
    /// is not `even` or `as`; `!while` the word before is not one of `whileNouns`; `!loop` the next word is
    /// not `loop(s)` or `statement(s)`.
    static let table: [(String, String, String)] = {
        var t: [(String, String, String)] = [
            // Negative contractions: never before a subject (inverted questions).
            ("do not", "don't", "next !S"), ("does not", "doesn't", "next !S"), ("did not", "didn't", "next !S"),
            ("is not", "isn't", "next !S r"), ("are not", "aren't", "next !S r"), ("was not", "wasn't", "next !S"),
            ("were not", "weren't", "next !S r"), ("cannot", "can't", "next !S"), ("will not", "won't", "next !S"),
            ("would not", "wouldn't", "next !S"), ("should not", "shouldn't", "next !S r"),
            ("couldn't", "could not", "next !S r"), ("has not", "hasn't", "next !S"), ("have not", "haven't", "next !S"),
            ("had not", "hadn't", "next !S"), ("must not", "mustn't", "next !S r"),
            // Affirmative contractions: only inside a clause; never before `not` (that is the negative class).
            ("I am", "I'm", "next"), ("you are", "you're", "next !not"), ("we are", "we're", "next !not"),
            ("they are", "they're", "next !not"), ("I will", "I'll", "next !not"), ("you will", "you'll", "next !not"),
            ("we will", "we'll", "next !not"), ("they will", "they'll", "next !not"),
            ("it is", "it's", "next W"), ("that is", "that's", "next W"), ("there is", "there's", "next W"),
            ("here is", "here's", "next W"), ("what is", "what's", "next W"),
            ("I have", "I've", "next P"), ("you have", "you've", "next P"), ("we have", "we've", "next P"),
            ("they have", "they've", "next P"),
            // Connectives.
            ("for example", "for instance", "punct r"),
            ("in addition", "additionally", "start comma"), ("moreover", "furthermore", ""),
            ("therefore", "thus", "!far r"), ("first", "firstly", "start comma r"), ("second", "secondly", "start comma"),
            ("third", "thirdly", "start comma"), ("in conclusion", "to conclude", "start comma r"),
            ("in summary", "overall", "start comma"), ("as a result", "consequently", "start comma r"),
            ("similarly", "likewise", "start comma r"), ("in contrast", "by contrast", "start comma r"),
            ("in other words", "put differently", "start comma r"), ("in general", "generally", "start comma"),
            ("although", "though", "next !even-as"),
            ("and so on", "and so forth", "r"), ("every time", "each time", ""),
            ("keep in mind", "bear in mind", "r"), ("worth noting", "worth mentioning", "r"),
            ("a lot of", "lots of", "r"), ("please note", "note", "start T"), ("as well", "too", "punct"),
            ("in order to", "so as to", "r"), ("instead of", "rather than", ""),
            ("in the meantime", "meanwhile", "start comma"), ("nevertheless", "nonetheless", ""),
            ("nowadays", "these days", ""), ("currently", "at the moment", "!ofwhen r"), ("in short", "in brief", "start comma"),
            ("everyone", "everybody", "r"), ("someone", "somebody", "r"), ("anyone", "anybody", "r"), ("no one", "nobody", ""),
            ("kind of", "sort of", "r"), ("afterwards", "afterward", ""), ("amid", "amidst", ""),
            ("percent", "per cent", "r"), ("to do this", "to do so", ""),
            ("make sure", "ensure", "next E"), ("ensures", "makes sure", "next E r"), ("made sure", "ensured", "next E"),
            ("ensuring", "making sure", "next E r"),
            // Synonymous adverbs.
            ("perhaps", "maybe", ""), ("often", "frequently", "!than"), ("usually", "typically", ""),
            ("especially", "particularly", ""), ("nearly", "almost", ""), ("completely", "entirely", ""),
            ("mainly", "primarily", ""), ("towards", "toward", "r"), ("among", "amongst", "r"),
            ("learned", "learnt", "r"), ("spelled", "spelt", "r"), ("dreamed", "dreamt", "r"), ("burned", "burnt", ""),
            ("leaped", "leapt", ""), ("spoiled", "spoilt", "r"), ("inquiry", "enquiry", "r"), ("inquiries", "enquiries", "r"),
            ("focused", "focussed", "r"), ("focusing", "focussing", "r"), ("specialty", "speciality", "r"),
            // A conjunction, never the noun (`a while`, `worth your while`): a word follows, and the one
            // before is not a determiner or adjective of the noun.
            ("while", "whilst", "next !while !loop r"),
            ("finally", "lastly", "start comma r"),
            ("website", "web site", "r"), ("websites", "web sites", "r"),
        ]
        // -ize / -ise, with their inflections.
        let ize = [
            "organiz", "realiz", "recogniz", "prioritiz", "minimiz", "maximiz", "summariz", "emphasiz", "categoriz",
            "optimiz", "utiliz", "customiz", "apologiz", "criticiz", "memoriz", "visualiz", "finaliz", "standardiz",
            "specializ", "characteriz", "generaliz", "personaliz", "synchroniz", "moderniz", "mobiliz", "stabiliz",
            "monetiz", "centraliz", "localiz", "normaliz", "familiariz", "harmoniz", "revolutioniz", "sympathiz",
            "maximiz", "jeopardiz", "legaliz", "neutraliz", "hospitaliz", "scrutiniz", "energiz", "incentiviz",
            "decentraliz", "civiliz", "globaliz", "fertiliz", "synthesiz", "symboliz", "socializ", "individualiz",
            "polariz", "coloniz", "revitaliz", "virtualiz", "containeriz", "internationaliz", "capitaliz",
        ]
        var seen = Set<String>()
        for stem in ize where seen.insert(stem).inserted {
            let uk = String(stem.dropLast()) + "s"
            for ending in ["e", "es", "ed", "ing", "ation", "ations"] {
                t.append((stem + ending, uk + ending, "r"))
            }
        }
        // analyze has no -ation, and "analyses" is also the plural of "analysis".
        t += [("analyze", "analyse", "r"), ("analyzed", "analysed", "r"), ("analyzing", "analysing", "r")]
        // -or / -our.
        for (us, uk) in [
            ("behavior", "behaviour"), ("behaviors", "behaviours"), ("behavioral", "behavioural"),
            ("favor", "favour"), ("favors", "favours"), ("favorite", "favourite"), ("favorites", "favourites"),
            ("favorable", "favourable"), ("favored", "favoured"), ("honor", "honour"), ("honors", "honours"),
            ("honored", "honoured"), ("labor", "labour"), ("neighbor", "neighbour"), ("neighbors", "neighbours"),
            ("neighborhood", "neighbourhood"), ("neighborhoods", "neighbourhoods"), ("flavor", "flavour"),
            ("flavors", "flavours"), ("humor", "humour"), ("rumor", "rumour"), ("rumors", "rumours"),
            ("endeavor", "endeavour"), ("endeavors", "endeavours"), ("vapor", "vapour"), ("harbor", "harbour"),
            ("glamor", "glamour"), ("savor", "savour"), ("odor", "odour"), ("odors", "odours"),
            // -l- / -ll-
            ("traveled", "travelled"), ("traveling", "travelling"), ("traveler", "traveller"),
            ("travelers", "travellers"), ("canceled", "cancelled"), ("canceling", "cancelling"),
            ("labeled", "labelled"), ("labeling", "labelling"), ("modeled", "modelled"), ("modeling", "modelling"),
            ("fueled", "fuelled"), ("fueling", "fuelling"), ("signaled", "signalled"), ("signaling", "signalling"),
            ("leveled", "levelled"), ("totaled", "totalled"), ("counselor", "counsellor"),
            ("counselors", "counsellors"), ("jewelry", "jewellery"), ("marvelous", "marvellous"),
            // other spellings
            ("theater", "theatre"), ("theaters", "theatres"), ("fiber", "fibre"), ("fibers", "fibres"),
            ("liter", "litre"), ("liters", "litres"), ("defense", "defence"), ("offense", "offence"),
            ("fulfill", "fulfil"), ("fulfillment", "fulfilment"), ("enrollment", "enrolment"),
            ("skillful", "skilful"), ("aging", "ageing"), ("judgment", "judgement"), ("judgments", "judgements"),
            ("acknowledgment", "acknowledgement"), ("mold", "mould"), ("cozy", "cosy"), ("aluminum", "aluminium"),
            ("plow", "plough"), ("willful", "wilful"), ("installment", "instalment"),
        ] {
            // The British form is rare in ordinary model text, except for these.
            t.append((us, uk, VariantLexicon.balancedSpellings.contains(us) ? "" : "r"))
        }
        return t
    }()
}
