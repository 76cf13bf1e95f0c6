/// Digests that the engine reads in place and that are freed together.
///
/// `moat detect` builds digests on its reading thread and hands them over in batches. The engine keeps a
/// reference to the batch while any of its digests waits for reordering, instead of moving each digest (a few
/// hundred bytes and a dozen strings) into its buffer and out again; the batch is freed wherever its last
/// reference goes, which lets the reading thread, which allocated the digests, free them too.
public final class DigestBatch: @unchecked Sendable {
    private let items: UnsafeMutablePointer<ExchangeDigest>
    public let capacity: Int
    public private(set) var count = 0

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        items = .allocate(capacity: self.capacity)
    }

    /// A batch of one digest.
    public convenience init(_ d: consuming ExchangeDigest) {
        self.init(capacity: 1)
        append(d)
    }

    public var isFull: Bool { count == capacity }

    /// Adds a digest; the batch must not be full or already handed to an engine.
    public func append(_ d: consuming ExchangeDigest) {
        precondition(count < capacity, "DigestBatch is full")
        (items + count).initialize(to: d)
        count += 1
    }

    /// The digest at `index`, borrowed in place.
    subscript(index: Int) -> ExchangeDigest {
        unsafeAddress {
            assert(index >= 0 && index < count, "DigestBatch index out of range")
            return UnsafePointer(items + index)
        }
    }

    deinit {
        items.deinitialize(count: count)
        items.deallocate()
    }
}
