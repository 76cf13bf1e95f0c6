import MoatCore

/// The staged engine: the same detection as `Replay.run`, split so that the work that needs no state
/// across accounts runs in parallel somewhere else (Spark executors), and only the engine's stateful core
/// runs in one place.
///
/// - Stage 1 (`Stage1`, per partition of the log, any order): parse, digest (`ExchangeDigest`), emit `E`
///   lines, each system-prompt signature once (`S`), the count of invalid lines (`I`) and postings (`P`).
/// - Stage 2 (`Stage2.sortKey`, a distributed sort): order the `E` lines by (event time, exchange id, line);
///   deduplicate the `S` lines; sum the `I` lines. Postings are aggregated per key for the analyst (holders,
///   rarity, hot keys, pairs) but do not feed the report.
/// - Stage 3 (`Stage3`, one place): read the dictionary, then the ordered `E` lines into `DetectionEngine`.
public enum Stage1 {
    /// Digests exchanges and writes staged lines to `sink`, in batches of about `flushBytes`.
    public struct Writer {
        public let config: DetectionConfig
        var book: SignatureBook
        var postings: PostingCollector
        var buffer: [UInt8] = []
        public let flushBytes = 1 << 20
        public private(set) var exchanges = 0

        public init(config: DetectionConfig, postings: Bool = true, signatureCapacity: Int = 200_000) {
            self.config = config
            book = SignatureBook(capacity: signatureCapacity)
            self.postings = PostingCollector(config: config, enabled: postings)
            buffer.reserveCapacity(flushBytes + 4096)
        }

        public mutating func add(_ e: Exchange, sink: ([UInt8]) throws -> Void) rethrows {
            let d = ExchangeDigest(e, hashes: config.familyHashes, book: &book)
            for (exact, s) in book.takeNew() { StagedRow.encodeSignature(exact: exact, signature: s, into: &buffer) }
            // A signature not kept in the book (it is full) travels in the line itself.
            let inline = d.systemPromptHash.map { book[exact: $0] == nil } ?? false
            StagedRow.encode(d, inlineSignature: inline, into: &buffer)
            postings.add(d)
            exchanges += 1
            if buffer.count >= flushBytes {
                try sink(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }

        /// Writes the postings and the invalid-line count, and flushes.
        public mutating func finish(invalidLines: Int, firstError: String?, sink: ([UInt8]) throws -> Void) rethrows {
            if invalidLines > 0 { StagedRow.encodeInvalid(count: invalidLines, firstError: firstError, into: &buffer) }
            for p in postings.drain() {
                StagedRow.encodePosting(p, into: &buffer)
                if buffer.count >= flushBytes {
                    try sink(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            if !buffer.isEmpty { try sink(buffer) }
            buffer.removeAll()
        }
    }
}

public enum Stage2 {
    /// The order of `E` lines that stage 3 needs: event time, then exchange id, then the whole line (so the
    /// order is total and does not depend on how the log was split or shuffled).
    public static func less(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
        let (ta, ia) = key(a), (tb, ib) = key(b)
        if ta != tb { return ta < tb }
        if !ia.elementsEqual(ib) { return ia.lexicographicallyPrecedes(ib) }
        return a.lexicographicallyPrecedes(b)
    }

    /// Event time and raw id field of an `E` line.
    static func key(_ line: ArraySlice<UInt8>) -> (Int64, ArraySlice<UInt8>) {
        var r = StagedRow.FieldReader(line)
        _ = try? r.raw()
        let ts = (try? r.int64()) ?? .min
        let id = (try? r.raw()) ?? []
        return (ts, id)
    }
}

/// Stage 3: the engine's stateful core over ordered digests.
public struct Stage3 {
    public private(set) var engine: DetectionEngine
    public private(set) var book = SignatureBook(capacity: .max)
    public private(set) var invalidLines = 0
    public private(set) var firstErrors: [String] = []

    public init(config: DetectionConfig, accounts: [Account]) {
        engine = DetectionEngine(config: config, accounts: accounts)
    }

    /// Reads a line of the dictionary or of the invalid-line counts (any order, before the exchanges).
    public mutating func addSideLine(_ line: ArraySlice<UInt8>) throws(StagedRowError) {
        switch try StagedRow.decode(line) {
        case .signature(let exact, let s): book.insert(exact: exact, signature: s)
        case .invalid(let n, let error):
            invalidLines += n
            if let error, firstErrors.count < ExchangeReader.maxReportedErrors { firstErrors.append(error) }
        case .exchange: throw StagedRowError("an exchange line among the dictionary lines")
        case .posting: break
        }
    }

    /// Feeds one `E` line (in stage 2's order).
    public mutating func addExchangeLine(_ line: ArraySlice<UInt8>) throws(StagedRowError) {
        guard case .exchange(var d) = try StagedRow.decode(line) else {
            try addSideLine(line)
            return
        }
        if let exact = d.systemPromptHash, d.systemPromptSignature == nil {
            guard let s = book[exact: exact] else {
                throw StagedRowError("system prompt \(String(exact, radix: 16)) has no signature in the dictionary")
            }
            d.systemPromptSignature = s
        }
        _ = engine.ingest(d)
    }

    public mutating func report() -> Report {
        _ = engine.flush()
        return engine.report(invalidLines: invalidLines)
    }
}

/// Postings of one stage-1 partition: per account and shared value, first and last time and count.
///
/// Template keys and request shapes count once an account used them `templateMinUses` / `shapeMinUses`
/// times (as the engine registers them); system prompts are posted by exact hash (families are global).
struct PostingCollector {
    struct Key: Hashable { var kind: LinkKind; var value: UInt64 }
    struct Use { var first: Int64; var last: Int64; var count: Int }
    let config: DetectionConfig
    let enabled: Bool
    var byAccount: [String: [Key: Use]] = [:]
    /// Distinct values kept per account (the rest are dropped: a flood).
    let perAccount = 256

    init(config: DetectionConfig, enabled: Bool) {
        self.config = config
        self.enabled = enabled
    }

    mutating func add(_ d: ExchangeDigest) {
        guard enabled else { return }
        let e = d.exchange
        let ts = e.ts.milliseconds
        var uses = byAccount[e.accountID] ?? [:]
        byAccount[e.accountID] = nil
        func note(_ kind: LinkKind, _ value: UInt64) {
            let k = Key(kind: kind, value: value)
            if var u = uses[k] {
                u.first = min(u.first, ts)
                u.last = max(u.last, ts)
                u.count += 1
                uses[k] = u
            } else if uses.count < perAccount {
                uses[k] = Use(first: ts, last: ts, count: 1)
            }
        }
        if let ip = e.client.ip {
            note(.ip, StableHash.of(ip, seed: 11))
            var hosting = false
            if let org = e.client.asnOrg?.lowercased() { hosting = config.hostingKeywords.contains { org.contains($0) } }
            if let asn = e.client.asn, config.hostingASNs.contains(asn) { hosting = true }
            if hosting { note(.cloudPrefix, StableHash.of(DetectionEngine.prefixLabel(ip), seed: 13)) }
        }
        if let ua = e.client.userAgent, let tls = e.client.tlsFingerprint {
            var h = StableHash(seed: 12)
            h.add(ua)
            h.add(UInt8(1))
            h.add(tls)
            note(.clientStack, h.value)
        }
        if let sp = d.features.systemPromptHash { note(.systemPrompt, sp) }
        for t in d.features.templates { note(.template, t) }
        note(.requestShape, d.features.shape)
        byAccount[e.accountID] = uses
    }

    mutating func drain() -> [Posting] {
        var out: [Posting] = []
        for (account, uses) in byAccount.sorted(by: { $0.key < $1.key }) {
            for (k, u) in uses {
                if k.kind == .template, u.count < config.templateMinUses { continue }
                if k.kind == .requestShape, u.count < config.shapeMinUses { continue }
                out.append(Posting(account: account, kind: k.kind, value: k.value, firstTs: u.first, lastTs: u.last, count: u.count))
            }
        }
        byAccount = [:]
        return out
    }
}
