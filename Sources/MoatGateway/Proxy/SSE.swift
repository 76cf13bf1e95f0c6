#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// One complete server-sent event, as bytes of the stream: the whole event (its blank line included),
/// its `event:` name and its `data:` value (the first data line; providers send one).
struct SSEEventView {
    var bytes: UnsafeRawBufferPointer
    var name: UnsafeRawBufferPointer?
    var data: UnsafeRawBufferPointer?

    func nameIs(_ s: StaticString) -> Bool {
        guard let name, name.count == s.utf8CodeUnitCount else { return false }
        return memcmp(name.baseAddress!, s.utf8Start, name.count) == 0
    }
}

enum SSE {
    /// Offset just past the blank line ending the first complete event in `b[from...]`, nil if none yet.
    @inline(__always)
    static func eventEnd(_ b: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard let base = b.baseAddress else { return nil }
        var i = from
        let n = b.count
        while i < n {
            guard let found = memchr(base + i, 10, n - i) else { return nil }
            let at = UnsafeRawPointer(found) - base
            // A newline right after a newline (or after "\r" after a newline) ends the event.
            if at > from, b[at - 1] == 10 { return at + 1 }
            if at > from + 1, b[at - 1] == 13, b[at - 2] == 10 { return at + 1 }
            i = at + 1
        }
        return nil
    }

    /// Parses the lines of one complete event.
    static func view(_ event: UnsafeRawBufferPointer) -> SSEEventView {
        var v = SSEEventView(bytes: event)
        guard let base = event.baseAddress else { return v }
        var i = 0
        let n = event.count
        while i < n {
            var end = i
            while end < n, event[end] != 10 { end += 1 }
            var lineEnd = end
            if lineEnd > i, event[lineEnd - 1] == 13 { lineEnd -= 1 }
            let line = UnsafeRawBufferPointer(start: base + i, count: lineEnd - i)
            if v.data == nil, let value = field(line, "data:") {
                v.data = value
            } else if v.name == nil, let value = field(line, "event:") {
                v.name = value
            }
            i = end + 1
        }
        return v
    }

    /// The value of a `name:` line (one leading space dropped), nil for other lines.
    @inline(__always)
    static func field(_ line: UnsafeRawBufferPointer, _ name: StaticString) -> UnsafeRawBufferPointer? {
        let k = name.utf8CodeUnitCount
        guard line.count >= k, memcmp(line.baseAddress!, name.utf8Start, k) == 0 else { return nil }
        var start = k
        if start < line.count, line[start] == 32 { start += 1 }
        return UnsafeRawBufferPointer(rebasing: line[start...])
    }
}

/// Passes an answer's event stream from the upstream to the client, reading usage and text on the way.
///
/// Without countermeasures the upstream's bytes are forwarded as they are, as slices of the buffers
/// they arrived in: every complete event at once, an event split across reads once its end arrives.
/// Only the terminal event (`data: [DONE]`, `message_stop`) and what follows it are held back, until the
/// exchange is in the log (`finish`). With countermeasures, each event goes through the transforms.
struct StreamRelay {
    let api: ModelAPI
    var info = AnswerInfo()
    private var transforms: TransformChain?
    /// An event not complete yet.
    private var partial: ByteBuffer?
    /// The terminal event and everything after it.
    private(set) var held: ByteBuffer?
    /// Upstream bytes that never formed events (no framing): passed through as they are.
    private var raw = false
    static let maxEventBytes = 4 << 20

    init(api: ModelAPI, transforms: TransformChain?) {
        self.api = api
        self.transforms = transforms
    }

    var hasHeld: Bool { held.map { $0.readableBytes > 0 } ?? false }

    /// Takes the next chunk from the upstream; returns what to send to the client now.
    mutating func feed(_ chunk: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer? {
        if raw { return holdOrSend(chunk) }
        var buffer: ByteBuffer
        if var p = partial {
            var c = chunk
            p.writeBuffer(&c)
            buffer = p
            partial = nil
        } else {
            buffer = chunk
        }
        let readable = buffer.readableBytes
        // Scan whole events: [sendEnd, terminal start) forwarded, the rest held or kept as partial.
        var consumed = 0
        var terminalAt: Int?
        var out: ByteBuffer? = transforms == nil ? nil : allocator.buffer(capacity: readable + 64)
        var heldOut: ByteBuffer? = nil
        buffer.withUnsafeReadableBytes { bytes in
            while let end = SSE.eventEnd(bytes, from: consumed) {
                let event = SSE.view(UnsafeRawBufferPointer(rebasing: bytes[consumed..<end]))
                let wasEnded = info.ended
                if let data = event.data { info.readEvent(data: data, api: api) }
                if event.nameIs("message_stop") { info.ended = true }
                let terminal = !wasEnded && info.ended && held == nil && terminalAt == nil
                if terminal { terminalAt = consumed }
                if transforms != nil {
                    if terminal {
                        heldOut = allocator.buffer(capacity: 256)
                        transforms!.finish(api: api, into: &out!)
                    }
                    if terminalAt != nil || held != nil {
                        transforms!.apply(event, api: api, into: &heldOut!, allocator: allocator)
                    } else {
                        transforms!.apply(event, api: api, into: &out!, allocator: allocator)
                    }
                }
                consumed = end
            }
        }
        if readable - consumed > Self.maxEventBytes || (consumed == 0 && readable > Self.maxEventBytes) {
            // Not an event stream after all: stop framing and pass everything through.
            raw = true
            return holdOrSend(buffer)
        }
        if consumed < readable { partial = buffer.getSlice(at: buffer.readerIndex + consumed, length: readable - consumed) }
        if transforms != nil {
            if let h = heldOut { appendHeld(h) }
            return out
        }
        if held != nil {
            appendHeld(buffer.getSlice(at: buffer.readerIndex, length: consumed)!)
            return nil
        }
        if let t = terminalAt {
            appendHeld(buffer.getSlice(at: buffer.readerIndex + t, length: consumed - t)!)
            return t > 0 ? buffer.getSlice(at: buffer.readerIndex, length: t) : nil
        }
        return consumed > 0 ? buffer.getSlice(at: buffer.readerIndex, length: consumed) : nil
    }

    private mutating func holdOrSend(_ b: ByteBuffer) -> ByteBuffer? {
        if held != nil {
            appendHeld(b)
            return nil
        }
        return b
    }

    private mutating func appendHeld(_ b: ByteBuffer) {
        if held == nil {
            held = b
        } else {
            var copy = b
            held!.writeBuffer(&copy)
        }
    }

    /// The upstream's answer ended: everything still to send (partial event, held bytes, what the transforms
    /// kept back), to be written once the exchange is logged.
    mutating func finish(allocator: ByteBufferAllocator) -> ByteBuffer? {
        var out = allocator.buffer(capacity: 256)
        if transforms != nil, held == nil {
            transforms!.finish(api: api, into: &out)
        }
        if var h = held { out.writeBuffer(&h) }
        if var p = partial { out.writeBuffer(&p) }
        held = nil
        partial = nil
        return out.readableBytes > 0 ? out : nil
    }
}
