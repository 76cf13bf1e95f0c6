import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking HTTP/1.1 client on a plain socket, for tests that must control exactly when a connection
/// closes: after the response head, after some bytes of a stream, or before sending a body at all.
struct RawClient {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// What arrived before the client closed.
    struct Received: Sendable {
        var status: Int?
        var head = ""
        /// Raw bytes after the head (chunked framing included).
        var body: [UInt8] = []
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The server closed the connection (read returned 0 or an error) before the client stopped.
        var closedByServer = false
    }

    let fd: Int32

    init(port: Int, timeoutSeconds: Int = 10) throws {
        fd = socket(AF_INET, Self.streamType, 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: inet_addr("127.0.0.1"))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            _ = Self.closeFD(fd)
            throw Failure(description: "connect to \(port): errno \(errno)")
        }
    }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Self.sendBytes(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            sent += n
        }
    }

    /// Sends a request head (and `body`, unless nil: then only the head goes out).
    func request(path: String, headers: [(String, String)], body: [UInt8]?, contentLength: Int? = nil) throws {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        head += "Content-Length: \(contentLength ?? body?.count ?? 0)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        try send(Array(head.utf8) + (body ?? []))
    }

    /// Reads until `stop` says so (given what arrived) or the server closes; then closes the socket.
    /// `continuing`: the head was read by an earlier call; everything now is body.
    func read(continuing: Bool = false, until stop: (Received) -> Bool) -> Received {
        var r = Received()
        if continuing { r.status = 0 }
        var buffer = [UInt8](repeating: 0, count: 1 << 14)
        var raw: [UInt8] = []
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 {
                r.closedByServer = true
                break
            }
            raw.append(contentsOf: buffer[0..<n])
            if continuing {
                r.body.append(contentsOf: buffer[0..<n])
            } else if r.status == nil, let end = Self.find([13, 10, 13, 10], in: raw) {
                r.head = String(decoding: raw[0..<end], as: UTF8.self)
                r.status = Int(r.head.split(separator: " ").dropFirst().first ?? "")
                r.body = Array(raw[(end + 4)...])
            } else if r.status != nil {
                r.body.append(contentsOf: buffer[0..<n])
            }
            if r.status != nil, stop(r) { break }
        }
        return r
    }

    func close() { _ = Self.closeFD(fd) }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }

    private static func closeFD(_ fd: Int32) -> Int32 {
        #if canImport(Glibc)
        return Glibc.close(fd)
        #else
        return Darwin.close(fd)
        #endif
    }

    private static func sendBytes(_ fd: Int32, _ p: UnsafeRawPointer?, _ n: Int) -> Int {
        #if canImport(Glibc)
        return Glibc.send(fd, p, n, Int32(MSG_NOSIGNAL))
        #else
        return Darwin.send(fd, p, n, 0)
        #endif
    }

    #if canImport(Glibc)
    /// Close-on-exec: a process another test spawns meanwhile (PostgreSQL, Chromium, the moat binary) must not
    /// inherit the socket, or closing it here sends nothing to the server until that process exits.
    static let streamType = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    #else
    static let streamType = SOCK_STREAM
    #endif

    /// Runs blocking socket work on a thread of its own.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
