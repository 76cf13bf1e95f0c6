#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file (or standard input for `-`) line by line in large chunks with `read(2)`.
///
/// The file is never held in memory as a whole: the buffer holds one chunk plus the line that spans
/// into the next chunk, and grows only for a line longer than a chunk. Lines are handed out as slices
/// of that buffer, without the `\n` and without a `\r` before it; a UTF-8 byte order mark at the very
/// start is dropped, and a last line without a newline is still a line.
public final class LineReader {
    /// Bytes read per `read(2)` call by default.
    public static let defaultChunkSize = 1 << 20

    /// The path as given (`-` for standard input).
    public let path: String
    /// The name used in errors: the path, or `stdin`.
    public let displayName: String
    /// 1-based number of the line most recently returned (0 before the first).
    public private(set) var lineNumber = 0
    /// Bytes read from the file so far.
    public private(set) var bytesRead: Int64 = 0

    private var fd: Int32
    private let ownsFD: Bool
    private let chunkSize: Int
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Start of the bytes not yet handed out.
    private var start = 0
    /// End of the bytes read into the buffer.
    private var end = 0
    /// Where the search for the next newline resumes (bytes before it in `start..<scanFrom` have none).
    private var scanFrom = 0
    private var eof = false

    /// Opens `path` (`-` is standard input).
    public convenience init(path: String) throws(ContractError) {
        try self.init(path: path, chunkSize: LineReader.defaultChunkSize)
    }

    /// `chunkSize` is injectable so tests can force lines across chunk boundaries.
    init(path: String, chunkSize: Int) throws(ContractError) {
        self.path = path
        self.chunkSize = max(1, chunkSize)
        if path == "-" {
            displayName = "stdin"
            fd = 0
            ownsFD = false
        } else {
            displayName = path
            let opened = open(path, O_RDONLY | O_CLOEXEC)
            guard opened >= 0 else {
                throw ContractError(file: path, message: "cannot open: \(String(cString: strerror(errno)))")
            }
            fd = opened
            ownsFD = true
            #if os(Linux)
            _ = posix_fadvise(opened, 0, 0, POSIX_FADV_SEQUENTIAL)
            #endif
        }
        capacity = 2 * self.chunkSize
        buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    }

    deinit {
        closeFile()
        buffer.deallocate()
    }

    private func closeFile() {
        if ownsFD && fd >= 0 {
            _ = close(fd)
        }
        fd = -1
    }

    /// The next line's bytes, or nil at the end of the input. The slice is valid until the next call.
    public func nextLine() throws(ContractError) -> UnsafeBufferPointer<UInt8>? {
        while true {
            if scanFrom < end, let found = memchr(buffer + scanFrom, 10, end - scanFrom) {
                let newline = found.assumingMemoryBound(to: UInt8.self) - buffer
                let line = slice(start, newline)
                start = newline + 1
                scanFrom = start
                return line
            }
            scanFrom = end
            if eof {
                guard start < end else { return nil }
                let line = slice(start, end)
                start = end
                return line
            }
            try fill()
        }
    }

    /// The line `from..<to` without a trailing `\r` (and without a BOM on line 1); counts it.
    @inline(__always)
    private func slice(_ from: Int, _ to: Int) -> UnsafeBufferPointer<UInt8> {
        var from = from
        var to = to
        if to > from && buffer[to - 1] == 13 { to -= 1 }
        lineNumber += 1
        if lineNumber == 1 && to - from >= 3 && buffer[from] == 0xEF && buffer[from + 1] == 0xBB
            && buffer[from + 2] == 0xBF
        {
            from += 3
        }
        return UnsafeBufferPointer(start: buffer + from, count: to - from)
    }

    /// Moves the unfinished line to the front, grows the buffer if a chunk does not fit, reads a chunk.
    private func fill() throws(ContractError) {
        if start > 0 {
            let pending = end - start
            if pending > 0 { memmove(buffer, buffer + start, pending) }
            scanFrom -= start
            end = pending
            start = 0
        }
        if capacity - end < chunkSize {
            var newCapacity = capacity
            while newCapacity - end < chunkSize { newCapacity *= 2 }
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = grown
            capacity = newCapacity
        }
        while true {
            let n = read(fd, buffer + end, chunkSize)
            if n > 0 {
                end += n
                bytesRead += Int64(n)
                return
            }
            if n == 0 {
                eof = true
                closeFile()
                return
            }
            if errno == EINTR { continue }
            let reason = String(cString: strerror(errno))
            eof = true
            closeFile()
            throw ContractError(file: displayName, line: lineNumber + 1, message: "cannot read: \(reason)")
        }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// True when the bytes are only spaces, tabs and carriage returns (or nothing).
    @inline(__always)
    var isBlankLine: Bool {
        for c in self where c != 0x20 && c != 0x09 && c != 0x0D && c != 0x0A { return false }
        return true
    }
}
