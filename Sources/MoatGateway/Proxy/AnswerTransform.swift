import NIOCore

/// A rewrite of answers that a countermeasure applies: to complete answers, and to streams event by event.
///
/// The proxy runs transforms only for requests whose account has a countermeasure active; every other
/// answer is forwarded as the upstream sent it, never parsed into a tree nor re-serialised. A transform
/// may hold events back (to look ahead across several text deltas, say) and emit them later: it owns
/// the order of what it appends. The stream's terminal event (`[DONE]`, `message_stop`) reaches it after
/// `finish`, and is sent only once the exchange is logged.
protocol AnswerTransform {
    /// The countermeasure's name, recorded in the exchange's `countermeasure` field.
    var name: String { get }
    /// Rewrites a complete answer body in place (leaves it alone when nothing applies).
    mutating func rewrite(body: inout ByteBuffer, api: ModelAPI, allocator: ByteBufferAllocator)
    /// Takes one complete event and appends what to send for it to `out`: the event as it is, a
    /// rewritten one, nothing (dropped or held back), or earlier held events.
    mutating func transform(_ event: SSEEventView, api: ModelAPI, into out: inout ByteBuffer)
    /// The answer is ending: appends whatever is still held back.
    mutating func finish(api: ModelAPI, into out: inout ByteBuffer)
}

/// The transforms of one request, applied in order (each on what the previous one emitted).
final class TransformChain {
    private var transforms: [any AnswerTransform]

    init?(_ transforms: [any AnswerTransform]) {
        guard !transforms.isEmpty else { return nil }
        self.transforms = transforms
    }

    /// `withhold_reasoning+fingerprint`: what the exchange log records.
    var names: String { transforms.map(\.name).joined(separator: "+") }

    func rewrite(body: inout ByteBuffer, api: ModelAPI, allocator: ByteBufferAllocator) {
        for i in transforms.indices { transforms[i].rewrite(body: &body, api: api, allocator: allocator) }
    }

    func apply(_ event: SSEEventView, api: ModelAPI, into out: inout ByteBuffer, allocator: ByteBufferAllocator) {
        if transforms.count == 1 {
            transforms[0].transform(event, api: api, into: &out)
            return
        }
        var input = allocator.buffer(capacity: event.bytes.count)
        input.writeBytes(event.bytes)
        for i in transforms.indices {
            var next = allocator.buffer(capacity: input.readableBytes + 64)
            Self.events(in: input) { transforms[i].transform($0, api: api, into: &next) }
            input = next
        }
        out.writeBuffer(&input)
    }

    func finish(api: ModelAPI, into out: inout ByteBuffer) {
        // What an earlier transform flushes still passes through the later ones.
        var carried: ByteBuffer?
        for i in transforms.indices {
            var next = ByteBufferAllocator().buffer(capacity: 256)
            if let c = carried { Self.events(in: c) { transforms[i].transform($0, api: api, into: &next) } }
            transforms[i].finish(api: api, into: &next)
            carried = next
        }
        if var c = carried { out.writeBuffer(&c) }
    }

    static func events(in buffer: ByteBuffer, _ body: (SSEEventView) -> Void) {
        buffer.withUnsafeReadableBytes { bytes in
            var at = 0
            while let end = SSE.eventEnd(bytes, from: at) {
                body(SSE.view(UnsafeRawBufferPointer(rebasing: bytes[at..<end])))
                at = end
            }
        }
    }
}
