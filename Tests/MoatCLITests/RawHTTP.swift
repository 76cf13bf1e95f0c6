import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal blocking HTTP/1.1 client over a POSIX socket, for tests that must see exactly which bytes
/// arrived before a server died: one request per connection (`Connection: close`), the response read
/// until its framing (Content-Length or chunked) is complete, the peer closes, or a timeout. No retries,
/// no pooling, nothing hidden.
enum RawHTTP {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// What came back, as far as it came.
    struct Reply: Sendable {
        var status: Int
        var headers: [String: String]
        /// The body (de-chunked), as much of it as arrived.
        var body: [UInt8]
        /// The framing said the body was complete (all Content-Length bytes, or the chunked terminator).
        var complete: Bool

        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// A free loopback TCP port: bound to port 0, read back, released. `count` distinct ones at once.
    static func freePorts(_ count: Int) throws -> [Int] {
        var sockets: [Int32] = []
        defer { for s in sockets { close(s) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let fd = socket(AF_INET, streamType, 0)
            guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
            sockets.append(fd)
            var address = loopback(port: 0)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else { throw Failure(description: "bind: errno \(errno)") }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            guard named == 0 else { throw Failure(description: "getsockname: errno \(errno)") }
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }

    /// Sends one request to 127.0.0.1:`port` and reads the response; `timeout` bounds each socket
    /// operation. Throws when nothing usable arrived (refused, reset before the status line, timeout).
    static func send(port: Int, method: String = "POST", path: String, headers: [(String, String)] = [],
                     body: [UInt8] = [], timeout: Int = 10) throws -> Reply {
        let fd = socket(AF_INET, streamType, 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        #if canImport(Darwin)
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect to port \(port): errno \(errno)") }

        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        head += "Content-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        let request = Array(head.utf8) + body
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { sendBytes(fd, $0.baseAddress, $0.count, sendFlags) }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += n
        }

        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var reply: Reply?
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }  // closed, reset or timed out: keep what arrived
            received.append(contentsOf: buffer[0..<n])
            reply = parse(received)
            if reply?.complete == true { break }
        }
        guard let reply = reply ?? parse(received) else {
            throw Failure(description: "no response head from port \(port) (\(received.count) bytes)")
        }
        return reply
    }

    /// Sends one request and reads its (streamed) response until `stop` says so, the server closes, or a
    /// timeout; then closes the connection (a client hanging up mid-answer). Returns what arrived.
    static func read(port: Int, path: String, headers: [(String, String)], body: [UInt8], timeout: Int = 10,
                     until stop: (Reply) -> Bool) throws -> Reply {
        let fd = socket(AF_INET, streamType, 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect to port \(port): errno \(errno)") }
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        let sent = request.withUnsafeBytes { sendBytes(fd, $0.baseAddress, $0.count, sendFlags) }
        guard sent == request.count else { throw Failure(description: "send: errno \(errno)") }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received.append(contentsOf: buffer[0..<n])
            if let reply = parse(received), stop(reply) { return reply }
        }
        guard let reply = parse(received) else { throw Failure(description: "no response head from port \(port)") }
        return reply
    }

    /// Parses what arrived so far; nil before the head is complete.
    static func parse(_ bytes: [UInt8]) -> Reply? {
        guard let end = find([13, 10, 13, 10], in: bytes, from: 0) else { return nil }
        let head = String(decoding: bytes[0..<end], as: UTF8.self)
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let rest = Array(bytes[(end + 4)...])
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            let (body, complete) = dechunk(rest)
            return Reply(status: status, headers: headers, body: body, complete: complete)
        }
        if let length = headers["content-length"].flatMap({ Int($0) }) {
            return Reply(status: status, headers: headers, body: Array(rest.prefix(length)), complete: rest.count >= length)
        }
        return Reply(status: status, headers: headers, body: rest, complete: false)
    }

    /// Decodes chunked transfer coding as far as the bytes go; complete when the last chunk arrived.
    static func dechunk(_ bytes: [UInt8]) -> ([UInt8], Bool) {
        var out: [UInt8] = []
        var i = 0
        while let lineEnd = find([13, 10], in: bytes, from: i) {
            let sizeText = String(decoding: bytes[i..<lineEnd], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";").first.map(String.init) ?? "", radix: 16) else { break }
            let start = lineEnd + 2
            if size == 0 { return (out, true) }
            let available = min(size, bytes.count - start)
            if available > 0 { out.append(contentsOf: bytes[start..<(start + available)]) }
            if available < size { break }
            i = start + size + 2
            if i > bytes.count { break }
        }
        return (out, false)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
        var i = from
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0], Array(haystack[i..<(i + needle.count)]) == needle { return i }
            i += 1
        }
        return nil
    }

    /// The C library's send(2) (the name `send` inside this type is the request method).
    private static func sendBytes(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int, _ flags: Int32) -> Int {
        #if canImport(Glibc)
        return Glibc.send(fd, bytes, count, flags)
        #else
        return Darwin.send(fd, bytes, count, flags)
        #endif
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        #if canImport(Darwin)
        address.sin_len = UInt8(MemoryLayout<sockaddr_in>.size)
        #endif
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        return address
    }

    #if canImport(Glibc)
    /// Close-on-exec: a process another test spawns meanwhile (PostgreSQL, Chromium, the moat binary) must not
    /// inherit the socket, or closing it here sends nothing to the server until that process exits.
    private static let streamType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    private static let sendFlags = Int32(MSG_NOSIGNAL)
    #else
    private static let streamType = SOCK_STREAM
    private static let sendFlags: Int32 = 0
    #endif
}
