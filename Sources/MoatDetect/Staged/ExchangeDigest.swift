import MoatCore

/// An exchange reduced to what detection reads: stage 1 of the staged engine.
///
/// Everything here is a function of the exchange alone (no state across exchanges or accounts), so it can
/// be computed anywhere, in parallel: the text features (lexicon scan, template keys, MinHash bands), the
/// request shape, the exact system-prompt hash and its family signature. The texts are cut to the
/// `labelCharacters` the engine shows in labels; the response is dropped. The engine's stateful decisions
/// (families, links, co-activity, groups, campaigns) all happen in `DetectionEngine.ingest(_:)`.
public struct ExchangeDigest: Sendable, Equatable {
    /// The exchange without its response, with prompt and system prompt cut to `labelCharacters`.
    public internal(set) var exchange: Exchange
    var features: ExchangeFeatures
    /// MinHash signature of the system prompt's masked word set (`FamilyIndex.signature`); nil without a
    /// system prompt, or in a row before `SignatureBook` fills it in.
    public var systemPromptSignature: [UInt64]?

    /// How much of a prompt or system prompt the engine ever shows (link labels, family labels).
    public static let labelCharacters = 80

    /// The exact hash of the system prompt (the key of its signature), if it has one.
    public var systemPromptHash: UInt64? { features.systemPromptHash }

    /// Digests an exchange; `hashes` is `DetectionConfig.familyHashes`.
    public init(_ e: Exchange, hashes: Int) {
        var book = SignatureBook(capacity: 0)
        self.init(e, hashes: hashes, book: &book)
    }

    /// Digests an exchange, taking the system prompt's signature from `book` when it is there (and adding it).
    public init(_ e: consuming Exchange, hashes: Int, book: inout SignatureBook) {
        features = ExchangeFeatures(e)
        if let exact = features.systemPromptHash, let text = e.systemPrompt {
            systemPromptSignature = book.signature(exact: exact, text: text, hashes: hashes)
        }
        var cut = consume e
        cut.response = nil
        cut.label = nil
        // Fields detection never reads: dropped, so that a digest read back from a staged line is equal.
        cut.orgID = nil
        cut.apiKeyID = nil
        cut.endpoint = nil
        cut.conversationID = nil
        cut.status = nil
        cut.latencyMs = nil
        cut.outcome = nil
        cut.countermeasure = nil
        cut.prompt = cut.prompt.map(Self.cut)
        cut.systemPrompt = cut.systemPrompt.map(Self.cut)
        exchange = cut
    }

    init(exchange: Exchange, features: ExchangeFeatures, systemPromptSignature: [UInt64]?) {
        self.exchange = exchange
        self.features = features
        self.systemPromptSignature = systemPromptSignature
    }

    static func cut(_ s: String) -> String {
        let utf8 = s.utf8
        guard utf8.count > labelCharacters else { return s }
        // ASCII without a carriage return (which pairs with a line feed into one character) has one character
        // per byte: cut by bytes, without walking grapheme boundaries. The byte after the cut must be ASCII too,
        // or it could be a combining mark that belongs to the last character.
        var fast = true
        var k = 0
        for b in utf8 {
            if b >= 0x80 || b == 13 { fast = false; break }
            k += 1
            if k > labelCharacters { break }
        }
        guard fast else { return String(s.prefix(labelCharacters)) }
        return String(Substring(utf8.prefix(labelCharacters)))
    }
}

/// System-prompt signatures by exact hash: a bounded cache for stage 1 (a log repeats few system prompts),
/// and the complete dictionary stage 3 reads (a family dictionary handed to the engine).
public struct SignatureBook: Sendable {
    public private(set) var signatures: [UInt64: [UInt64]] = [:]
    /// Exact hashes added since the last `takeNew()` (stage 1 emits each once).
    private var fresh: [UInt64] = []
    public let capacity: Int

    /// `capacity`: how many signatures to keep; 0 keeps none (each is computed when asked for).
    public init(capacity: Int) { self.capacity = capacity }

    public mutating func signature(exact: UInt64, text: String, hashes: Int) -> [UInt64] {
        if let known = signatures[exact] { return known }
        let s = FamilyIndex.signature(text, hashes: hashes)
        if signatures.count < capacity {
            signatures[exact] = s
            fresh.append(exact)
        }
        return s
    }

    /// Adds a signature read from a dictionary.
    public mutating func insert(exact: UInt64, signature: [UInt64]) {
        signatures[exact] = signature
    }

    public subscript(exact exact: UInt64) -> [UInt64]? { signatures[exact] }

    /// The entries added since the last call.
    public mutating func takeNew() -> [(UInt64, [UInt64])] {
        defer { fresh.removeAll(keepingCapacity: true) }
        return fresh.compactMap { k in signatures[k].map { (k, $0) } }
    }
}
