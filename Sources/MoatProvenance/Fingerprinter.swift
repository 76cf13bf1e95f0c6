/// The parameters of the watermark that marking and testing must share.
public struct FingerprintScheme: Sendable, Equatable {
    /// How many plain words before a unit make its context (variant forms count as their class); 0: none,
    /// one keyed choice per class and campaign.
    public var contextWords: Int

    public init(contextWords: Int = FingerprintScheme.standard.contextWords) {
        self.contextWords = max(0, min(contextWords, 8))
    }

    /// The scheme `moat serve` marks with and `moat provenance score` tests by default.
    public static let standard = FingerprintScheme(rawContextWords: 1)

    private init(rawContextWords: Int) {
        contextWords = rawContextWords
    }

    /// A name for reports: `moat-fp1/c1`.
    public var name: String { "moat-fp1/c\(contextWords)" }
}

/// What marking did to one text.
public struct FingerprintStats: Sendable, Equatable {
    /// Choice points (units) met outside protected text.
    public var units: Int
    /// Units rewritten to the other form (the rest already had the key's form, or were frozen).
    public var changed: Int
    /// List items whose marker (bullet character or number delimiter) was changed.
    public var listItemsChanged: Int

    public init(units: Int = 0, changed: Int = 0, listItemsChanged: Int = 0) {
        self.units = units
        self.changed = changed
        self.listItemsChanged = listItemsChanged
    }
}

/// Marks answers with one campaign's key. A frozen, `Sendable` value: make one per key and share it.
///
/// ```swift
/// let master = try FingerprintMasterKey(encoded: environment["MOAT_FINGERPRINT_KEY"]!)
/// let marker = Fingerprinter(key: master.campaignKey("c-0007"))
/// var stream = marker.stream(prompt: FingerprintPrompt([systemPrompt, userMessage]))
/// for delta in deltas { send(stream.feed(delta)) }   // may return "" while it waits for a word to end
/// send(stream.finish())
/// ```
public struct Fingerprinter: Sendable {
    public let key: FingerprintKey
    public let scheme: FingerprintScheme

    public init(key: FingerprintKey, scheme: FingerprintScheme = .standard) {
        self.key = key
        self.scheme = scheme
    }

    /// Marks a whole text. Equal to feeding the text to `stream(prompt:)` in any pieces.
    public func mark(_ text: String, prompt: FingerprintPrompt = .none) -> String {
        var s = stream(prompt: prompt)
        let head = s.feed(text)
        return head + s.finish()
    }

    /// Marks a whole text and says what it changed.
    public func markWithStats(_ text: String, prompt: FingerprintPrompt = .none) -> (text: String, stats: FingerprintStats) {
        var s = stream(prompt: prompt)
        let head = s.feed(text)
        let tail = s.finish()
        return (head + tail, s.stats)
    }

    /// A stream for one answer's visible text (feed only text deltas: never tool-call arguments, JSON
    /// deltas, or signed thinking blocks).
    public func stream(prompt: FingerprintPrompt = .none) -> FingerprintStream {
        FingerprintStream(engine: FingerprintEngine(key: key, frozen: prompt.frozen, contextWords: scheme.contextWords))
    }
}

/// Marks one answer as it streams. Feed it the text deltas in order; each call returns the marked text
/// that is final so far. It holds back at most the current word and the few words after it that decide
/// a unit (bounded: words longer than 128 bytes are never units), so output lags input by a few words.
/// `finish()` returns the rest. The concatenated output equals `Fingerprinter.mark` of the concatenated
/// input, whatever the pieces.
///
/// Cost: one pass over the bytes, no Foundation, no regular expressions, no allocation per character;
/// one HMAC-SHA-256 per unit (about one word in twenty).
public struct FingerprintStream: Sendable {
    var engine: FingerprintEngine
    private var finished = false

    init(engine: FingerprintEngine) {
        self.engine = engine
    }

    /// Feeds a delta; returns the marked text that is ready.
    public mutating func feed(_ text: String) -> String {
        guard !finished else { return text }
        engine.feed(text.utf8)
        return drain()
    }

    /// Feeds UTF-8 bytes and appends the marked bytes that are ready to `out` (for callers that work on
    /// bytes: the output is exactly the input's bytes except for rewritten units).
    public mutating func feed<Bytes: Sequence<UInt8>>(utf8 bytes: Bytes, into out: inout [UInt8]) {
        guard !finished else {
            out.append(contentsOf: bytes)
            return
        }
        engine.feed(bytes)
        out.append(contentsOf: engine.out)
        engine.out.removeAll(keepingCapacity: true)
    }

    /// Ends the text: returns what was held back.
    public mutating func finish() -> String {
        guard !finished else { return "" }
        engine.finish()
        finished = true
        return drain()
    }

    /// Ends the text, appending what was held back to `out`.
    public mutating func finish(into out: inout [UInt8]) {
        guard !finished else { return }
        engine.finish()
        finished = true
        out.append(contentsOf: engine.out)
        engine.out.removeAll(keepingCapacity: true)
    }

    /// Bytes fed but not yet returned.
    public var heldBytes: Int { engine.pendingBytes }

    public var stats: FingerprintStats {
        FingerprintStats(units: engine.units, changed: engine.changed, listItemsChanged: engine.listItemsChanged)
    }

    private mutating func drain() -> String {
        if engine.out.isEmpty { return "" }
        let s = String(decoding: engine.out, as: UTF8.self)
        engine.out.removeAll(keepingCapacity: true)
        return s
    }
}
