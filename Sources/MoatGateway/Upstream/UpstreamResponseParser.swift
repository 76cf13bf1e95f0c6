import NIOCore

/// What the proxy needs of an upstream response's head.
struct UpstreamHead {
    var status: Int
    var contentType: String?
    /// The response headers passed on to the client, as `name: value\r\n` lines.
    var passed: ByteBuffer
    /// The connection may carry another request after this response.
    var keepAlive: Bool
}

/// An HTTP/1.1 response parser for upstream connections, over the raw bytes: the status line, the few
/// headers the proxy uses (framing, content type, the ones passed to the client), then the body
/// de-framed (Content-Length, chunked, or up to the connection's close). Body bytes come out as slices
/// of the buffers they arrived in. Nothing else of the head is turned into strings.
struct UpstreamResponseParser {
    enum Event {
        case head(UpstreamHead)
        case body(ByteBuffer)
        case end
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case done
    }

    private var state = State.head
    /// Bytes of an incomplete head, chunk-size line or trailer.
    private var pending: ByteBuffer?
    static let maxHeadBytes = 64 << 10
    static let passedNames: [String] = ["request-id", "x-request-id", "openai-processing-ms", "anthropic-organization-id", "retry-after"]

    var isDone: Bool { if case .done = state { return true } else { return false } }

    /// Prepares for the next response on the same connection.
    mutating func reset() {
        state = .head
        pending = nil
    }

    /// Feeds bytes read from the connection; `emit` receives what they complete.
    mutating func feed(_ input: ByteBuffer, allocator: ByteBufferAllocator, _ emit: (Event) -> Void) throws {
        var buffer: ByteBuffer
        if var p = pending {
            var i = input
            p.writeBuffer(&i)
            buffer = p
            pending = nil
        } else {
            buffer = input
        }
        while buffer.readableBytes > 0 {
            switch state {
            case .head:
                guard let end = Self.find(crlfcrlf: buffer) else {
                    guard buffer.readableBytes <= Self.maxHeadBytes else { throw Failure(description: "response head too large") }
                    pending = buffer
                    return
                }
                let headBytes = buffer.readSlice(length: end + 4)!
                let (head, framing) = try Self.parseHead(headBytes, allocator: allocator)
                if (100..<200).contains(head.status), head.status != 101 { continue }  // informational: another head follows
                emit(.head(head))
                switch framing {
                case .none:
                    state = .done
                    emit(.end)
                case .length(let n):
                    if n == 0 {
                        state = .done
                        emit(.end)
                    } else {
                        state = .fixed(remaining: n)
                    }
                case .chunked:
                    state = .chunkSize
                case .close:
                    state = .untilClose
                }
            case .fixed(let remaining):
                let n = min(remaining, buffer.readableBytes)
                emit(.body(buffer.readSlice(length: n)!))
                if n == remaining {
                    state = .done
                    emit(.end)
                } else {
                    state = .fixed(remaining: remaining - n)
                }
            case .chunkSize:
                guard let lineEnd = Self.find(crlf: buffer) else {
                    guard buffer.readableBytes <= 1_024 else { throw Failure(description: "chunk size line too long") }
                    pending = buffer
                    return
                }
                let line = buffer.readSlice(length: lineEnd)!
                buffer.moveReaderIndex(forwardBy: 2)
                guard let size = Self.chunkSize(line) else { throw Failure(description: "malformed chunk size") }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let n = min(remaining, buffer.readableBytes)
                emit(.body(buffer.readSlice(length: n)!))
                state = n == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - n)
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else {
                    pending = buffer
                    return
                }
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { throw Failure(description: "malformed chunk end") }
                state = .chunkSize
            case .trailers:
                guard let lineEnd = Self.find(crlf: buffer) else {
                    guard buffer.readableBytes <= Self.maxHeadBytes else { throw Failure(description: "trailers too large") }
                    pending = buffer
                    return
                }
                buffer.moveReaderIndex(forwardBy: lineEnd + 2)
                if lineEnd == 0 {
                    state = .done
                    emit(.end)
                }
            case .untilClose:
                emit(.body(buffer))
                return
            case .done:
                throw Failure(description: "bytes after the end of the response")
            }
        }
    }

    /// The connection closed: for a body framed by the close, that is its end.
    mutating func closed(_ emit: (Event) -> Void) -> Bool {
        if case .untilClose = state {
            state = .done
            emit(.end)
            return true
        }
        return false
    }

    private enum Framing { case none, length(Int), chunked, close }

    private static func parseHead(_ head: ByteBuffer, allocator: ByteBufferAllocator) throws -> (UpstreamHead, Framing) {
        try head.withUnsafeReadableBytes { b -> (UpstreamHead, Framing) in
            // "HTTP/1.1 200 OK\r\n"
            guard b.count >= 12, b[0] == UInt8(ascii: "H"), b[4] == UInt8(ascii: "/"), b[8] == 32,
                  let d0 = digit(b[9]), let d1 = digit(b[10]), let d2 = digit(b[11]) else {
                throw Failure(description: "malformed status line")
            }
            let status = d0 * 100 + d1 * 10 + d2
            let http10 = b[7] == UInt8(ascii: "0")
            var keepAlive = !http10
            var length: Int?
            var chunked = false
            var contentType: String?
            var passed = allocator.buffer(capacity: 128)
            var i = 0
            while i < b.count, b[i] != 10 { i += 1 }
            i += 1
            while i < b.count {
                var end = i
                while end < b.count, b[end] != 10 { end += 1 }
                var lineEnd = end
                if lineEnd > i, b[lineEnd - 1] == 13 { lineEnd -= 1 }
                if lineEnd == i { break }
                guard let colon = (i..<lineEnd).first(where: { b[$0] == UInt8(ascii: ":") }) else {
                    throw Failure(description: "malformed header line")
                }
                var v = colon + 1
                while v < lineEnd, b[v] == 32 || b[v] == 9 { v += 1 }
                var ve = lineEnd
                while ve > v, b[ve - 1] == 32 || b[ve - 1] == 9 { ve -= 1 }
                let name = UnsafeRawBufferPointer(rebasing: b[i..<colon])
                let value = UnsafeRawBufferPointer(rebasing: b[v..<ve])
                if equalsLower(name, "content-length") {
                    guard let n = decimal(value) else { throw Failure(description: "malformed content-length") }
                    length = n
                } else if equalsLower(name, "transfer-encoding") {
                    chunked = containsLower(value, "chunked")
                } else if equalsLower(name, "connection") {
                    if containsLower(value, "close") { keepAlive = false }
                    if containsLower(value, "keep-alive") { keepAlive = true }
                } else if equalsLower(name, "content-type") {
                    contentType = String(decoding: value, as: UTF8.self)
                } else {
                    for n in passedNames where equalsLower(name, n) {
                        passed.writeString(n)
                        passed.writeStaticString(": ")
                        passed.writeBytes(value)
                        passed.writeStaticString("\r\n")
                    }
                }
                i = end + 1
            }
            let framing: Framing
            if status == 204 || status == 304 || (100..<200).contains(status) {
                framing = .none
            } else if chunked {
                framing = .chunked
            } else if let length {
                framing = .length(length)
            } else {
                framing = .close
                keepAlive = false
            }
            return (UpstreamHead(status: status, contentType: contentType, passed: passed, keepAlive: keepAlive), framing)
        }
    }

    @inline(__always)
    private static func digit(_ c: UInt8) -> Int? { c >= 48 && c <= 57 ? Int(c - 48) : nil }

    private static func decimal(_ v: UnsafeRawBufferPointer) -> Int? {
        guard !v.isEmpty, v.count <= 18 else { return nil }
        var n = 0
        for c in v {
            guard let d = digit(c) else { return nil }
            n = n * 10 + d
        }
        return n
    }

    static func chunkSize(_ line: ByteBuffer) -> Int? {
        line.withUnsafeReadableBytes { b -> Int? in
            var n = 0
            var digits = 0
            for c in b {
                let d: Int
                switch c {
                case 48...57: d = Int(c - 48)
                case 97...102: d = Int(c - 87)
                case 65...70: d = Int(c - 55)
                case UInt8(ascii: ";"), 32, 9:
                    return digits > 0 ? n : nil  // chunk extensions are ignored
                default: return nil
                }
                digits += 1
                guard digits <= 15 else { return nil }
                n = n * 16 + d
            }
            return digits > 0 ? n : nil
        }
    }

    /// ASCII case-insensitive equality with a lowercase name.
    private static func equalsLower(_ a: UnsafeRawBufferPointer, _ lower: String) -> Bool {
        var lower = lower
        return lower.withUTF8 { l in
            guard a.count == l.count else { return false }
            for k in 0..<l.count where a[k] | 0x20 != l[k] && a[k] != l[k] { return false }
            return true
        }
    }

    private static func containsLower(_ a: UnsafeRawBufferPointer, _ word: String) -> Bool {
        var word = word
        return word.withUTF8 { w in
            guard a.count >= w.count else { return false }
            outer: for s in 0...(a.count - w.count) {
                for k in 0..<w.count where a[s + k] | 0x20 != w[k] { continue outer }
                return true
            }
            return false
        }
    }

    static func find(crlfcrlf b: ByteBuffer) -> Int? {
        b.withUnsafeReadableBytes { p -> Int? in
            guard p.count >= 4 else { return nil }
            var i = 0
            while i + 3 < p.count {
                if p[i + 3] == 10 {
                    if p[i] == 13, p[i + 1] == 10, p[i + 2] == 13 { return i }
                    i += 1
                } else if p[i + 3] == 13 {
                    i += 1
                } else {
                    i += 4
                }
            }
            return nil
        }
    }

    static func find(crlf b: ByteBuffer) -> Int? {
        b.withUnsafeReadableBytes { p -> Int? in
            var i = 0
            while i + 1 < p.count {
                if p[i] == 13, p[i + 1] == 10 { return i }
                i += 1
            }
            return nil
        }
    }
}
