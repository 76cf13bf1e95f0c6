/// The byte-level state machine behind marking, streaming and scoring.
///
/// It reads UTF-8 text in pieces and finds the choice points (units) of the watermark: occurrences of a
/// variant class's form outside protected text, each with its context (the `contextWords` plain words
/// before it, variant forms replaced by their class). In `mark` mode it rewrites each unit to the form
/// the key chooses for that context; in `observe` mode it records the units for the test.
///
/// Protected, never touched (and observed only when `observeProtected` asks, as the test does): fenced and indented code blocks, inline code, text in
/// double, curly or single quotes or guillemets, `$…$` math, anything inside `{…}` or `[…]` (JSON,
/// tool-call arguments, links), lines that start with `>` (quotations) or `<` (markup, tool-call tags),
/// a whole text that starts with `{` or `[` (JSON), and every word that is not plain letters (numbers,
/// URLs, paths, identifiers, e-mail addresses, hyphenated words).
///
/// Every decision depends only on bytes before the decision point and a bounded lookahead, and the
/// engine waits for that lookahead rather than guessing, so feeding a text in any pieces gives the
/// same output as feeding it whole. Rewrites change only the letters of a unit's form (and a list's
/// bullet character), which are never protection delimiters, so a marked text has the same units, in
/// the same contexts, as the text it was made from.
struct FingerprintEngine: Sendable {
    struct Observation: Sendable {
        var classIndex: Int32
        var context: UInt64
        var form: UInt8
        var frozen: Bool
    }

    /// A whitespace-delimited run of bytes and its shape.
    struct Run {
        var start = 0
        var end = 0
        /// End of the leading punctuation `(`, `*`, `_`.
        var leadEnd = 0
        /// End of the letters (and inner apostrophes): the word's core.
        var coreEnd = 0
        /// Only leading punctuation, letters with inner apostrophes, trailing punctuation.
        var plain = false
        /// Hash of the lower-cased core (curly apostrophes as straight ones).
        var hash: UInt64 = 0
        /// Hash of the lower-cased core up to its first apostrophe (`don't` -> `don`).
        var stem: UInt64 = 0
        var firstUpper = false
        /// Every letter after the first is lower case.
        var restLower = true
        /// The core is the pronoun `I`.
        var isI = false
        var hasApostrophe = false
        var curlyApostrophe = false
        var trailHasStop = false
        /// The trailing punctuation has `.`, `!` or `?`.
        var endsSentence = false
        /// The leading punctuation is only emphasis (`*`, `_`), or nothing.
        var leadSoft = true
        /// The first trailing byte that is not emphasis (`*`, `_`); 0 when there is none.
        var trailFirst: UInt8 = 0

        var leadEmpty: Bool { leadEnd == start }
        var trailEmpty: Bool { coreEnd == end }
        /// Nothing after the word but emphasis: a following word still follows it (`**do not** go`).
        var trailSoft: Bool { trailFirst == 0 }
    }

    static let maxRun = 128
    static let maxFenceLine = 256

    let lexicon: VariantLexicon
    let key: FingerprintKey?
    let frozen: FrozenClasses
    let contextWords: Int
    /// Observe mode only: find units in protected text too (code, quotes, brackets, markup lines). The
    /// marker never touches them, so in served text they follow the key by chance; a student trained on
    /// marked text does not reproduce where protection starts and ends, so in its text they carry the mark
    /// like any other. The test scores them (`ProvenanceScorer`); which units exist still depends only on
    /// the text, so the null stays exact.
    let observeProtected: Bool

    var buf: [UInt8] = []
    var pos = 0
    var out: [UInt8] = []
    var observations: [Observation] = []
    private(set) var units = 0
    private(set) var changed = 0
    private(set) var listItemsChanged = 0

    // Lines and blocks.
    private var atLineStart = true
    private var lineBlank = false
    private var prevLineBlank = true
    private var lineProtected = false
    private var fenceChar: UInt8 = 0
    private var fenceLen = 0
    private var indentedCode = false
    private var anyContent = false
    private var wholeProtected = false
    private var listBlock = false
    private var blankInList = false
    private var bulletBlock = false
    /// The bullet character every item of the current list gets; 0 keeps each item's own.
    private var bulletChar: UInt8 = 0
    private var numberBlock = false
    /// The delimiter every numbered item of the current list gets; 0 keeps each item's own.
    private var numberChar: UInt8 = 0
    /// The run just consumed ended a sentence: the spaces after it may be a unit.
    private var gapPending = false
    /// The run just consumed ended in a comma, colon or semicolon: the spaces after it may be a unit.
    private var clausePending = false

    // Inline state.
    private var ticks = 0
    private var dq = false, cdq = false, guil = false, sq = false, csq = false, math = false
    private var depth = 0
    private var midRun = false
    private var urlMode = false
    private var runAlnum = false
    private var runStop = false
    private var prevByte: UInt8 = 0x0A
    private var sentenceStart = true
    private var curly = false

    // Context: the last `contextWords` tokens, a ring (with no context words, every unit of a class has the
    // same context: one keyed choice per class and campaign).
    private var ctx: [UInt64]
    private var ctxHead = 0
    private var lookahead: [Run] = []

    init(lexicon: VariantLexicon = .shared, key: FingerprintKey?, frozen: FrozenClasses, contextWords: Int,
         observeProtected: Bool = false) {
        self.lexicon = lexicon
        self.key = key
        self.observeProtected = key == nil && observeProtected
        self.frozen = frozen
        self.contextWords = max(0, min(contextWords, 8))
        ctx = Array(repeating: 0, count: max(1, self.contextWords))
        lookahead.reserveCapacity(lexicon.maxWords + 2)
    }

    var marking: Bool { key != nil }
    var pendingBytes: Int { buf.count - pos }

    private var inlineProtected: Bool {
        !observeProtected && (ticks > 0 || dq || cdq || guil || sq || csq || math || depth > 0)
    }

    // MARK: - Driving

    mutating func feed<S: Sequence<UInt8>>(_ bytes: S) {
        buf.append(contentsOf: bytes)
        process(final: false)
    }

    mutating func finish() {
        process(final: true)
    }

    private mutating func process(final: Bool) {
        while pos < buf.count {
            if atLineStart {
                if !lineStart(final: final) { break }
                continue
            }
            let b = buf[pos]
            if b == 0x0A {
                newline()
                continue
            }
            if midRun {
                if !continueRun(final: final) { break }
                continue
            }
            if (fenceChar != 0 || lineProtected || wholeProtected) && !observeProtected {
                var i = pos
                while i < buf.count && buf[i] != 0x0A { i += 1 }
                emit(pos, i)
                prevByte = buf[i - 1]
                pos = i
                continue
            }
            if b == 0x20 || b == 0x09 || b == 0x0D {
                if gapPending && b == 0x20 {
                    if !spaceGap(final: final, classIndex: lexicon.gapClass, before: { $0 >= 0x41 && $0 <= 0x5A }) { break }
                    continue
                }
                if clausePending && b == 0x20 {
                    if !spaceGap(final: final, classIndex: lexicon.clauseGapClass, before: isLetter) { break }
                    continue
                }
                gapPending = false
                clausePending = false
                if marking { out.append(b) }
                prevByte = b
                pos += 1
                continue
            }
            if !runStart(final: final) { break }
        }
        if pos > 0 {
            buf.removeFirst(pos)
            pos = 0
        }
    }

    @inline(__always)
    private mutating func emit(_ from: Int, _ to: Int) {
        if marking && to > from { out.append(contentsOf: buf[from..<to]) }
    }

    private mutating func newline() {
        if marking { out.append(0x0A) }
        pos += 1
        prevByte = 0x0A
        if lineBlank {
            ticks = 0
            dq = false; cdq = false; guil = false; math = false
            depth = 0
            if listBlock { blankInList = true }
        }
        sq = false; csq = false
        gapPending = false
        clausePending = false
        lineProtected = false
        prevLineBlank = lineBlank
        atLineStart = true
        sentenceStart = true
        urlMode = false
    }

    // MARK: - Line starts

    /// Classifies the line that starts at `pos`: fences, quotations, markup, indented code, bullets.
    /// Returns false when it needs more bytes.
    private mutating func lineStart(final: Bool) -> Bool {
        let n = buf.count
        var i = pos
        var indent = 0
        while i < n && (buf[i] == 0x20 || buf[i] == 0x09 || buf[i] == 0x0D) && indent < 64 {
            indent += buf[i] == 0x09 ? 4 : 1
            i += 1
        }
        if i == n && !final { return false }
        atLineStart = false
        if i == n || buf[i] == 0x0A {
            lineBlank = true
            return true
        }
        lineBlank = false
        let c = buf[i]
        if wholeProtected { return true }
        if !anyContent {
            anyContent = true
            if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                wholeProtected = true
                return true
            }
        }
        // Inside a fence: only its closing line (same character, at least as long, nothing after).
        if fenceChar != 0 {
            lineProtected = true
            if indent <= 3 {
                var k = 0
                while i + k < n && buf[i + k] == fenceChar { k += 1 }
                if i + k == n && !final { atLineStart = true; return false }
                if k >= fenceLen {
                    var j = i + k
                    while j < n && j - pos < Self.maxFenceLine && (buf[j] == 0x20 || buf[j] == 0x09 || buf[j] == 0x0D) { j += 1 }
                    if j == n && !final && j - pos < Self.maxFenceLine { atLineStart = true; return false }
                    if j == n || buf[j] == 0x0A { fenceChar = 0 }
                }
            }
            return true
        }
        // How long the marker at the start is; wait for enough bytes to tell.
        var k = 0
        while i + k < n && k < 12 && (buf[i + k] == c) { k += 1 }
        if i + k == n && !final { atLineStart = true; return false }
        var isBullet = false
        var isNumbered = false
        if (c == UInt8(ascii: "-") || c == UInt8(ascii: "*")) && k == 1 {
            if i + 1 == n && !final { atLineStart = true; return false }
            isBullet = i + 1 < n && buf[i + 1] == 0x20
        } else if c >= 0x30 && c <= 0x39 {
            var j = i
            while j < n && j - i < 10 && buf[j] >= 0x30 && buf[j] <= 0x39 { j += 1 }
            if j + 1 >= n && !final { atLineStart = true; return false }
            isNumbered = j + 1 < n && (buf[j] == UInt8(ascii: ".") || buf[j] == UInt8(ascii: ")")) && buf[j + 1] == 0x20
        }

        // Lists: bullets and numbered items, their indented continuations and lazy lines; a list ends at
        // a line that is neither, after a blank line, or at a heading.
        if isBullet || isNumbered {
            listBlock = true
            blankInList = false
        } else if listBlock {
            if indent < 2 && (blankInList || c == UInt8(ascii: "#")) {
                listBlock = false
                bulletBlock = false
                numberBlock = false
            }
            blankInList = false
        }

        if indent <= 3 && (c == UInt8(ascii: "`") || c == UInt8(ascii: "~")) && k >= 3 {
            fenceChar = c
            fenceLen = k
            lineProtected = true
            return true
        }
        if (indent <= 3 && c == UInt8(ascii: ">")) || c == UInt8(ascii: "<") {
            lineProtected = true
            return true
        }
        if indent >= 4 && (indentedCode || (prevLineBlank && !listBlock)) {
            indentedCode = true
            lineProtected = true
            return true
        }
        indentedCode = false

        if (isBullet || isNumbered) && !inlineProtected {
            var at = i
            while buf[at] >= 0x30 && buf[at] <= 0x39 { at += 1 }  // a numbered item's delimiter
            emit(pos, at)
            let written = listMarker(buf[at], numbered: isNumbered)
            if marking { out.append(written) }
            prevByte = written
            pos = at + 1
        }
        return true
    }

    /// The marker of a list item: the first item of a list is a unit, later items follow its choice. The
    /// key decides one bullet character and one number delimiter per campaign.
    private mutating func listMarker(_ original: UInt8, numbered: Bool) -> UInt8 {
        let forms: (UInt8, UInt8) = numbered ? (UInt8(ascii: "."), UInt8(ascii: ")")) : (UInt8(ascii: "-"), UInt8(ascii: "*"))
        let written: UInt8
        if numbered ? numberBlock : bulletBlock {
            let chosen = numbered ? numberChar : bulletChar
            written = chosen != 0 ? chosen : original
        } else {
            let cls = numbered ? lexicon.numberClass : lexicon.bulletClass
            let form: UInt8 = original == forms.1 ? 1 : 0
            // One style per campaign, not per context: a model reproduces a house style (and never sees
            // the words before a list's first marker when it starts a list after a blank line).
            let chosen = unit(classIndex: cls, tag: lexicon.tag(of: cls), form: form, fixedContext: 0)
            written = chosen == 1 ? forms.1 : forms.0
            if written != original { changed += 1 }
            let keep: UInt8 = (marking && !frozen.contains(cls)) ? written : 0
            if numbered {
                numberBlock = true
                numberChar = keep
            } else {
                bulletBlock = true
                bulletChar = keep
            }
        }
        if written != original { listItemsChanged += 1 }
        return written
    }

    /// The spaces after a sentence (before the next sentence's capital) or after a comma, colon or semicolon
    /// (before a word), on the same line: one or two are a unit of `classIndex`. False when it needs more bytes.
    private mutating func spaceGap(final: Bool, classIndex cls: Int, before next: (UInt8) -> Bool) -> Bool {
        let n = buf.count
        var j = pos
        while j < n && buf[j] == 0x20 && j - pos < 3 { j += 1 }
        if j == n && !final { return false }
        gapPending = false
        clausePending = false
        let k = j - pos
        guard k <= 2, j < n, next(buf[j]), !inlineProtected else { return true }
        let form = UInt8(k - 1)
        let chosen = unit(classIndex: cls, tag: lexicon.tag(of: cls), form: form)
        if chosen != form { changed += 1 }
        if marking {
            out.append(0x20)
            if chosen == 1 { out.append(0x20) }
        }
        prevByte = 0x20
        pos = j
        return true
    }

    // MARK: - Units

    private var contextHash: UInt64 {
        var h = TextHash.offset
        for k in 0..<contextWords {
            var v = ctx[(ctxHead + k) % contextWords]
            for _ in 0..<8 {
                h = TextHash.add(h, UInt8(truncatingIfNeeded: v))
                v >>= 8
            }
        }
        return h
    }

    /// The word (or class) before the current position, whatever the context width (rules read it).
    private var lastToken: UInt64 = 0

    private mutating func push(_ token: UInt64) {
        lastToken = token
        guard contextWords > 0 else { return }
        ctx[ctxHead] = token
        ctxHead = (ctxHead + 1) % contextWords
    }

    /// A unit at the current context (or at `fixedContext`): records it (observe) or returns the form to
    /// write (mark).
    private mutating func unit(classIndex: Int, tag: UInt64, form: UInt8, fixedContext: UInt64? = nil) -> UInt8 {
        units += 1
        let context = fixedContext ?? contextHash
        let isFrozen = frozen.contains(classIndex)
        guard let key else {
            observations.append(Observation(classIndex: Int32(classIndex), context: context, form: form, frozen: isFrozen))
            return form
        }
        return isFrozen ? form : key.greenForm(tag: tag, context: context)
    }

    // MARK: - Runs

    /// Scans the run at `at`. Nil when its end is not in the buffer yet (and it could still be plain).
    private func scanRun(at start: Int, final: Bool) -> Run? {
        let n = buf.count
        var end = start
        while end < n && end - start < Self.maxRun {
            let b = buf[end]
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { break }
            end += 1
        }
        var r = Run()
        r.start = start
        r.end = end
        if end - start >= Self.maxRun { return r }  // too long to be a word: not plain
        if end == n && !final { return nil }

        var i = start
        while i < end && (buf[i] == UInt8(ascii: "(") || buf[i] == UInt8(ascii: "*") || buf[i] == UInt8(ascii: "_")) {
            if buf[i] == UInt8(ascii: "(") { r.leadSoft = false }
            i += 1
        }
        r.leadEnd = i
        var hash = TextHash.offset
        var stem = TextHash.offset
        var inStem = true
        var letters = 0
        while i < end {
            let b = buf[i]
            if isLetter(b) {
                let lower = b | 0x20
                if letters == 0 { r.firstUpper = b < 0x61 } else if b < 0x61 { r.restLower = false }
                hash = TextHash.add(hash, lower)
                if inStem { stem = TextHash.add(stem, lower) }
                letters += 1
                i += 1
                continue
            }
            // An apostrophe between letters: ' or ’ (E2 80 99).
            var width = 0
            if b == UInt8(ascii: "'") {
                width = 1
            } else if b == 0xE2 && i + 2 < end && buf[i + 1] == 0x80 && buf[i + 2] == 0x99 {
                width = 3
            }
            if width > 0 && letters > 0 && i + width < end && isLetter(buf[i + width]) {
                hash = TextHash.add(hash, UInt8(ascii: "'"))
                inStem = false
                r.hasApostrophe = true
                if width == 3 { r.curlyApostrophe = true }
                i += width
                continue
            }
            break
        }
        r.coreEnd = i
        while i < end {
            let b = buf[i]
            switch b {
            case UInt8(ascii: "."), UInt8(ascii: "!"), UInt8(ascii: "?"):
                r.trailHasStop = true
                r.endsSentence = true
            case UInt8(ascii: ":"):
                r.trailHasStop = true
            case UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "_"):
                break
            default:
                return r  // not plain
            }
            if r.trailFirst == 0 && b != UInt8(ascii: "*") && b != UInt8(ascii: "_") { r.trailFirst = b }
            i += 1
        }
        r.plain = letters > 0
        r.hash = hash
        r.stem = stem
        r.isI = letters == 1 && r.coreEnd - r.leadEnd == 1 && (buf[r.leadEnd] | 0x20) == UInt8(ascii: "i")
        return r
    }

    @inline(__always)
    private func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }

    private mutating func runStart(final: Bool) -> Bool {
        guard let run = scanRun(at: pos, final: final) else { return false }
        gapPending = false
        clausePending = false
        if !run.plain {
            midRun = true
            urlMode = false
            runAlnum = false
            runStop = false
            return continueRun(final: final)
        }
        if inlineProtected {
            emit(run.start, run.end)
            finishPlain(run)
            return true
        }
        guard let candidates = lexicon.index[run.hash] else {
            ordinary(run)
            return true
        }
        var need = 1
        for c in candidates { need = max(need, Int(c.words) + 1) }
        guard gather(run, count: need, final: final) else { return false }
        for c in candidates where matches(c) {
            slot(c)
            return true
        }
        ordinary(run)
        return true
    }

    /// Collects `run` and up to `count - 1` runs after it that could continue a form (single spaces,
    /// plain words). False when the buffer ends before that is known.
    private mutating func gather(_ first: Run, count: Int, final: Bool) -> Bool {
        lookahead.removeAll(keepingCapacity: true)
        lookahead.append(first)
        var last = first
        let n = buf.count
        while lookahead.count < count && last.plain && last.trailSoft {
            let p = last.end
            if p >= n { if final { break } else { return false } }
            guard buf[p] == 0x20 else { break }
            if p + 1 >= n { if final { break } else { return false } }
            let q = buf[p + 1]
            if q == 0x20 || q == 0x09 || q == 0x0A || q == 0x0D { break }
            guard let next = scanRun(at: p + 1, final: final) else { return false }
            lookahead.append(next)
            last = next
            if !next.plain || !next.leadSoft { break }
        }
        return true
    }

    private func coreEquals(_ r: Run, _ word: [UInt8]) -> Bool {
        var i = r.leadEnd
        var k = 0
        while i < r.coreEnd {
            guard k < word.count else { return false }
            var b = buf[i]
            if b == 0xE2 {
                b = UInt8(ascii: "'")
                i += 3
            } else {
                if isLetter(b) { b |= 0x20 }
                i += 1
            }
            if b != word[k] { return false }
            k += 1
        }
        return k == word.count
    }

    private func matches(_ c: VariantLexicon.Candidate) -> Bool {
        let cls = lexicon.classes[Int(c.classIndex)]
        let form = cls.forms[Int(c.form)]
        let w = Int(c.words)
        guard lookahead.count >= w else { return false }
        for k in 0..<w {
            let r = lookahead[k]
            guard r.plain else { return false }
            if k > 0 {
                guard lookahead[k - 1].trailEmpty && r.leadEmpty && (r.isI || (!r.firstUpper && r.restLower)) else { return false }
            } else {
                guard r.isI || r.restLower else { return false }
            }
            if k < w - 1 && !r.trailEmpty { return false }
            guard coreEquals(r, form.words[k]) else { return false }
        }
        let last = lookahead[w - 1]
        let rule = cls.rule
        let next: Run? = (lookahead.count > w && last.trailSoft && lookahead[w].plain && lookahead[w].leadSoft) ? lookahead[w] : nil
        if rule.needsNextWord && next == nil { return false }
        if let set = rule.nextNotIn, let next, set.contains(next.stem) { return false }
        if let set = rule.nextIn {
            guard let next, set.contains(next.stem) else { return false }
        }
        if let set = rule.prevNotIn, set.contains(lastToken) { return false }
        if rule.needsComma && last.trailFirst != UInt8(ascii: ",") { return false }
        if rule.needsPunctuation && last.trailSoft { return false }
        if rule.sentenceStart && !sentenceStart { return false }
        return true
    }

    private mutating func slot(_ c: VariantLexicon.Candidate) {
        let ci = Int(c.classIndex)
        let cls = lexicon.classes[ci]
        let first = lookahead[0]
        let last = lookahead[Int(c.words) - 1]
        let chosen = unit(classIndex: ci, tag: cls.tag, form: c.form)
        for k in 0..<Int(c.words) where lookahead[k].hasApostrophe { curly = lookahead[k].curlyApostrophe }
        if marking {
            if chosen == c.form {
                emit(first.start, last.end)
            } else {
                changed += 1
                emit(first.start, first.leadEnd)
                render(cls.forms[Int(chosen)].text, capitalized: first.firstUpper)
                emit(last.coreEnd, last.end)
            }
        }
        push(cls.tag)
        sentenceStart = last.trailHasStop
        gapPending = last.endsSentence
        clausePending = !last.endsSentence && Self.isClausePunctuation(buf[last.end - 1])
        prevByte = buf[last.end - 1]
        pos = last.end
    }

    private mutating func render(_ text: [UInt8], capitalized: Bool) {
        for (k, b) in text.enumerated() {
            if b == UInt8(ascii: "'") && curly {
                out.append(0xE2); out.append(0x80); out.append(0x99)
            } else if k == 0 && capitalized && b >= 0x61 && b <= 0x7A {
                out.append(b - 0x20)
            } else {
                out.append(b)
            }
        }
    }

    private mutating func ordinary(_ run: Run) {
        push(run.hash)
        if run.hasApostrophe { curly = run.curlyApostrophe }
        emit(run.start, run.end)
        finishPlain(run)
        gapPending = run.endsSentence
        clausePending = !run.endsSentence && Self.isClausePunctuation(buf[run.end - 1])
    }

    @inline(__always)
    private static func isClausePunctuation(_ b: UInt8) -> Bool {
        b == UInt8(ascii: ",") || b == UInt8(ascii: ":") || b == UInt8(ascii: ";")
    }

    private mutating func finishPlain(_ run: Run) {
        sentenceStart = run.trailHasStop
        prevByte = buf[run.end - 1]
        pos = run.end
    }

    /// Consumes a run that is not a plain word, byte by byte, following quotes, code spans, braces,
    /// math and URLs. False when it needs more bytes to decide a byte.
    private mutating func continueRun(final: Bool) -> Bool {
        let n = buf.count
        while pos < n {
            let b = buf[pos]
            if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D {
                endRun()
                return true
            }
            var width = 1
            switch b {
            case UInt8(ascii: "`"):
                var k = 0
                while pos + k < n && buf[pos + k] == b { k += 1 }
                if pos + k == n && !final { return false }
                if ticks == 0 { ticks = k } else if ticks == k { ticks = 0 }
                width = k
            case UInt8(ascii: "\""):
                if ticks == 0 && !urlMode && !math && !isDigit(prevByte) { dq.toggle() }
            case UInt8(ascii: "$"):
                if ticks == 0 && !urlMode {
                    var k = 0
                    while pos + k < n && buf[pos + k] == b { k += 1 }
                    if pos + k == n && !final { return false }
                    if pos + k == n || !isDigit(buf[pos + k]) { math.toggle() }
                    width = k
                }
            case UInt8(ascii: "'"):
                if pos + 1 == n && !final { return false }
                if ticks == 0 && !urlMode {
                    let next: UInt8 = pos + 1 < n ? buf[pos + 1] : 0x20
                    if !sq && !isLetter(prevByte) && !isDigit(prevByte) && isLetter(next) {
                        sq = true
                    } else if sq && !isLetter(next) && !isDigit(next) {
                        sq = false
                    }
                }
            case 0xE2:
                if pos + 3 > n && !final { return false }
                if pos + 2 < n && buf[pos + 1] == 0x80 {
                    width = 3
                    let third = buf[pos + 2]
                    if ticks == 0 && !urlMode {
                        if third == 0x9C { cdq = true }
                        if third == 0x9D { cdq = false }
                        if third == 0x98 && !isLetter(prevByte) { csq = true }
                        if third == 0x99 {
                            if pos + 3 == n && !final { return false }
                            let next: UInt8 = pos + 3 < n ? buf[pos + 3] : 0x20
                            if csq && !isLetter(next) { csq = false }
                        }
                    }
                }
            case 0xC2:
                if pos + 2 > n && !final { return false }
                if pos + 1 < n && ticks == 0 && !urlMode {
                    if buf[pos + 1] == 0xAB { guil = true; width = 2 }
                    if buf[pos + 1] == 0xBB { guil = false; width = 2 }
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if ticks == 0 && !dq && !urlMode { depth += 1 }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if ticks == 0 && !dq && !urlMode && depth > 0 { depth -= 1 }
            case UInt8(ascii: ":"):
                if pos + 3 > n && !final { return false }
                if pos + 2 < n && buf[pos + 1] == UInt8(ascii: "/") && buf[pos + 2] == UInt8(ascii: "/") { urlMode = true }
            default:
                break
            }
            // Sentence ends: a run that ends in . ! ? or : (after any closing punctuation).
            if b == UInt8(ascii: ".") || b == UInt8(ascii: "!") || b == UInt8(ascii: "?") || b == UInt8(ascii: ":") {
                runStop = true
            } else if isLetter(b) || isDigit(b) {
                runAlnum = true
                runStop = false
            }
            let end = min(pos + width, n)
            emit(pos, end)
            prevByte = buf[end - 1]
            pos = end
        }
        if final { endRun() }
        return final
    }

    private mutating func endRun() {
        midRun = false
        urlMode = false
        if runStop { sentenceStart = true } else if runAlnum { sentenceStart = false }
    }

    @inline(__always)
    private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
}

/// The classes that must not be touched in one answer: those whose forms the prompt contains.
public struct FrozenClasses: Sendable, Equatable {
    var bits: [UInt64]

    init(count: Int) {
        bits = Array(repeating: 0, count: (count + 63) / 64)
    }

    static let none = FrozenClasses(count: 0)

    @inline(__always)
    func contains(_ i: Int) -> Bool {
        let w = i >> 6
        return w < bits.count && bits[w] & (1 << UInt64(i & 63)) != 0
    }

    mutating func insert(_ i: Int) {
        let w = i >> 6
        while bits.count <= w { bits.append(0) }
        bits[w] |= 1 << UInt64(i & 63)
    }

    var count: Int { bits.reduce(0) { $0 + $1.nonzeroBitCount } }
}
