#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A buffered writer of bytes to a file or standard output, flushed in large blocks.
public final class LineSink {
    private let file: UnsafeMutablePointer<FILE>
    private let ownsFile: Bool
    public let path: String
    public private(set) var bytesWritten: Int64 = 0

    /// Opens `path` for writing (truncating it); `-` means standard output.
    public init(path: String) throws(ContractError) {
        self.path = path
        if path == "-" {
            file = fdopen(1, "wb")
            ownsFile = false
        } else {
            guard let f = fopen(path, "wb") else {
                throw ContractError(file: path, message: "cannot open for writing: \(String(cString: strerror(errno)))")
            }
            file = f
            ownsFile = true
        }
        setvbuf(file, nil, _IOFBF, 1 << 20)
    }

    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buf in
            _ = fwrite(buf.baseAddress, 1, buf.count, file)
        }
        bytesWritten += Int64(bytes.count)
    }

    public func write(_ text: String) {
        write(Array(text.utf8))
    }

    public func flush() { fflush(file) }

    public func close() {
        fflush(file)
        if ownsFile { fclose(file) }
    }
}
