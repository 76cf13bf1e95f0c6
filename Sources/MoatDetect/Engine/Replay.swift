import Foundation
import MoatCore

/// Replays an exchange log through a fresh engine in event time: what `moat detect` does.
///
/// Parsing and digesting (stage 1 of the staged engine: text features, signatures) run on their own thread and
/// hand batches of digests to the engine, so the two use both cores.
public enum Replay {
    /// Replays the log and returns the report.
    ///
    /// `peers`, when given, is asked after each exchange for the peers' evidence it makes due (a `PeerFeed`
    /// from MoatIntel), which the engine takes at that point of the replay; with `nil` it is asked once more
    /// at the end of the log, for what is still pending.
    public static func run(_ reader: ExchangeReader, accounts: [Account], config: DetectionConfig = DetectionConfig(),
                           progress: ((Int, Int64) -> Void)? = nil,
                           peers: ((Exchange?) -> [PeerEvidence])? = nil) throws(ContractError) -> Report {
        try engine(reader, accounts: accounts, config: config, progress: progress, peers: peers).report(invalidLines: reader.invalidLines)
    }

    /// Replays the log and returns the engine in its final state (for tools that look inside it).
    public static func engine(_ reader: ExchangeReader, accounts: [Account], config: DetectionConfig = DetectionConfig(),
                              progress: ((Int, Int64) -> Void)? = nil,
                              peers: ((Exchange?) -> [PeerEvidence])? = nil) throws(ContractError) -> DetectionEngine {
        var engine = DetectionEngine(config: config, accounts: accounts)
        let channel = BatchChannel(capacity: 8)
        let box = UncheckedBox(reader)
        let hashes = config.familyHashes
        // Peers' matchers read whole exchanges (a system prompt's full text), which digests cut short.
        let keepExchanges = peers != nil
        let producer = Thread {
            let reader = box.value
            var book = SignatureBook(capacity: 200_000)
            var batch = DigestBatch(capacity: BatchChannel.batchSize)
            var whole: [Exchange] = []
            do {
                while let e = try reader.next() {
                    if keepExchanges { whole.append(e) }
                    batch.append(ExchangeDigest(e, hashes: hashes, book: &book))
                    if batch.isFull {
                        channel.put(.exchanges(BatchChannel.Batch(batch, whole, reader.bytesRead)))
                        batch = DigestBatch(capacity: BatchChannel.batchSize)
                        whole = []
                    }
                }
                channel.put(.exchanges(BatchChannel.Batch(batch, whole, reader.bytesRead)))
                channel.put(.end)
            } catch {
                channel.put(.exchanges(BatchChannel.Batch(batch, whole, reader.bytesRead)))
                channel.put(.failed(error as? ContractError ?? ContractError(file: reader.path, message: "\(error)")))
            }
        }
        producer.stackSize = 8 << 20
        producer.start()
        var n = 0
        // Batches the engine may still hold (exchanges waiting for reordering), oldest first. One it no longer
        // holds goes back to the reading thread to be freed there, where its digests were allocated: freeing
        // them here would contend for the other thread's malloc arena.
        var inflight: [DigestBatch?] = []
        var oldest = 0
        loop: while true {
            switch channel.take() {
            case .exchanges(let batch):
                let digests = batch.digests
                if let peers {
                    for i in 0..<digests.count {
                        _ = engine.ingest(digests, at: i)
                        if i < batch.whole.count { for p in peers(batch.whole[i]) { _ = engine.ingest(peer: p) } }
                    }
                } else {
                    _ = engine.ingest(digests)
                }
                n += digests.count
                progress?(n, batch.bytesRead)
                inflight.append(digests)
                var done: [DigestBatch] = []
                while oldest < inflight.count, isKnownUniquelyReferenced(&inflight[oldest]) {
                    done.append(inflight[oldest].take()!)
                    oldest += 1
                }
                if oldest > 64 { inflight.removeFirst(oldest); oldest = 0 }
                if !done.isEmpty { channel.recycle(done) }
            case .end:
                break loop
            case .failed(let error):
                throw error
            }
        }
        _ = engine.flush()
        if let peers { for p in peers(nil) { _ = engine.ingest(peer: p) } }
        return engine
    }
}

/// A bounded queue of parsed batches between the reading thread and the engine.
final class BatchChannel: @unchecked Sendable {
    enum Item { case exchanges(Batch), end, failed(ContractError) }

    struct Batch {
        let digests: DigestBatch
        let whole: [Exchange]
        let bytesRead: Int64

        init(_ digests: DigestBatch, _ whole: [Exchange], _ bytesRead: Int64) {
            self.digests = digests
            self.whole = whole
            self.bytesRead = bytesRead
        }
    }
    static let batchSize = 2_048

    private let condition = NSCondition()
    private var items: [Item] = []
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Batches the engine is done with, for the reading thread to free.
    private var returned: [DigestBatch] = []

    func put(_ item: Item) {
        condition.lock()
        while items.count >= capacity { condition.wait() }
        items.append(item)
        var free: [DigestBatch] = []
        swap(&free, &returned)
        condition.broadcast()
        condition.unlock()
        free.removeAll()  // freed here, on the reading thread, outside the lock
    }

    func recycle(_ batches: [DigestBatch]) {
        condition.lock()
        returned.append(contentsOf: batches)
        condition.unlock()
    }

    func take() -> Item {
        condition.lock()
        while items.isEmpty { condition.wait() }
        let item = items.removeFirst()
        condition.broadcast()
        condition.unlock()
        return item
    }
}

/// Hands a non-Sendable value to exactly one other thread, which then owns it.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
