import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One journal record as read: views into the reader's buffer, valid only inside the callback.
public struct JournalRecordView {
    /// Where the record starts and where the next one starts.
    public var position: JournalPosition
    public var next: JournalPosition
    public var tsMs: Int64
    public var kind: UInt32
    public var id: UnsafeRawBufferPointer
    public var account: UnsafeRawBufferPointer
    /// The exchange's contract JSON line (no newline).
    public var line: UnsafeRawBufferPointer

    public var idString: String { String(decoding: id, as: UTF8.self) }
    public var accountString: String { String(decoding: account, as: UTF8.self) }
    public var lineString: String { String(decoding: line, as: UTF8.self) }
}

/// Reads journal records in order, across segments, from a position on. A reader never blocks: at the
/// end of what is written (or of `limit`) `next` returns false, and a later call picks up what came since.
public struct JournalReader: ~Copyable {
    public let directory: String
    /// The next record starts here.
    public private(set) var position: JournalPosition
    private var fd: Int32 = -1
    private var openSegment: Int64 = -1
    private var buffer: UnsafeMutableRawBufferPointer
    /// File offset of `buffer[0]` and how many bytes of the buffer hold file data.
    private var bufferStart: Int64 = 0
    private var bufferCount = 0
    /// A segment that should have been there was not (removed by its consumers meanwhile); the initial
    /// position (segment 0, before the first segment) does not count.
    public private(set) var skippedMissingSegment = false

    public init(directory: String, from position: JournalPosition) {
        self.directory = directory
        self.position = position
        buffer = .allocate(byteCount: 1 << 20, alignment: 8)
    }

    deinit {
        if fd >= 0 { sysClose(fd) }
        buffer.deallocate()
    }

    /// Hands the next record to `body` and moves past it. Returns false when there is no whole record
    /// before `limit` (nil: the end of the files) yet.
    public mutating func next(limit: JournalPosition? = nil, _ body: (JournalRecordView) throws -> Void) throws -> Bool {
        while true {
            if let limit, position >= limit { return false }
            guard try openCurrent() else { return false }
            switch try frame(at: position.offset) {
            case .record(let view):
                position = view.next
                try body(view)
                return true
            case .incomplete:
                // The end of this segment: move on if the writer has rolled over to a later one.
                guard let later = Self.laterSegment(after: position.segment, in: directory) else { return false }
                if let limit, limit.segment < later { return false }
                moveTo(JournalPosition(segment: later, offset: 0))
            }
        }
    }

    private mutating func moveTo(_ p: JournalPosition) {
        position = p
        if fd >= 0 { sysClose(fd) }
        fd = -1
        openSegment = -1
        bufferCount = 0
    }

    /// Opens the segment of `position`; a segment removed meanwhile (consumed) moves to the next present one.
    private mutating func openCurrent() throws -> Bool {
        if fd >= 0, openSegment == position.segment { return true }
        if fd >= 0 { sysClose(fd) }
        fd = -1
        bufferCount = 0
        while true {
            let path = ExchangeJournal.path(directory, position.segment)
            let f = open(path, O_RDONLY | O_CLOEXEC)
            if f >= 0 {
                fd = f
                openSegment = position.segment
                return true
            }
            guard errno == ENOENT else { throw JournalError("cannot read \(path): \(ExchangeJournal.errnoText())") }
            guard let later = Self.laterSegment(after: position.segment, in: directory) else { return false }
            if position.segment > 0 { skippedMissingSegment = true }
            position = JournalPosition(segment: later, offset: 0)
        }
    }

    static func laterSegment(after segment: Int64, in directory: String) -> Int64? {
        ExchangeJournal.segments(in: directory).first { $0 > segment }
    }

    private enum Frame {
        case record(JournalRecordView)
        case incomplete
    }

    /// The frame at `offset` of the open segment, reading the file as needed.
    private mutating func frame(at offset: Int64) throws -> Frame {
        guard try ensure(offset: offset, count: ExchangeJournal.frameHeader) else { return .incomplete }
        let at = Int(offset - bufferStart)
        let base = UnsafeRawPointer(buffer.baseAddress!)
        let payload = Int(ExchangeJournal.load(UInt32.self, at: base + at))
        let check = ExchangeJournal.load(UInt32.self, at: base + at + 4)
        guard payload >= ExchangeJournal.payloadFixed else { return .incomplete }
        guard try ensure(offset: offset, count: ExchangeJournal.frameHeader + payload) else { return .incomplete }
        let start = UnsafeRawPointer(buffer.baseAddress!) + Int(offset - bufferStart) + ExchangeJournal.frameHeader
        let idCount = Int(ExchangeJournal.load(UInt16.self, at: start + 8))
        let accountCount = Int(ExchangeJournal.load(UInt16.self, at: start + 10))
        let fixed = ExchangeJournal.payloadFixed
        guard fixed + idCount + accountCount <= payload else { return .incomplete }
        let prefix = UnsafeRawBufferPointer(start: start, count: fixed + idCount + accountCount)
        let line = UnsafeRawBufferPointer(start: start + prefix.count, count: payload - prefix.count)
        guard ExchangeJournal.check(prefix, line) == check else { return .incomplete }
        let view = JournalRecordView(
            position: JournalPosition(segment: openSegment, offset: offset),
            next: JournalPosition(segment: openSegment, offset: offset + Int64(ExchangeJournal.frameHeader + payload)),
            tsMs: Int64(bitPattern: ExchangeJournal.load(UInt64.self, at: start)),
            kind: ExchangeJournal.load(UInt32.self, at: start + 12),
            id: UnsafeRawBufferPointer(start: start + fixed, count: idCount),
            account: UnsafeRawBufferPointer(start: start + fixed + idCount, count: accountCount),
            line: line)
        return .record(view)
    }

    /// Makes `count` bytes from file offset `offset` available in the buffer; false when the file is shorter.
    private mutating func ensure(offset: Int64, count: Int) throws -> Bool {
        if offset >= bufferStart, offset + Int64(count) <= bufferStart + Int64(bufferCount) { return true }
        if count > buffer.count {
            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, buffer.count * 2), alignment: 8)
            buffer.deallocate()
            buffer = bigger
            bufferCount = 0
        }
        // Keep what is already read from `offset` on, then fill the rest.
        if offset >= bufferStart, offset < bufferStart + Int64(bufferCount) {
            let keep = Int(bufferStart + Int64(bufferCount) - offset)
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + Int(offset - bufferStart), byteCount: keep)
            bufferCount = keep
        } else {
            bufferCount = 0
        }
        bufferStart = offset
        while bufferCount < count {
            let n = pread(fd, buffer.baseAddress! + bufferCount, buffer.count - bufferCount, off_t(offset + Int64(bufferCount)))
            if n < 0 {
                if errno == EINTR { continue }
                throw JournalError("cannot read the journal in \(directory): \(ExchangeJournal.errnoText())")
            }
            if n == 0 { return false }
            bufferCount += n
        }
        return true
    }

    /// Length of the run of whole, valid frames at the start of the segment at `path`.
    mutating func validLength(path: String) -> Int64 {
        let f = open(path, O_RDONLY | O_CLOEXEC)
        guard f >= 0 else { return 0 }
        if fd >= 0 { sysClose(fd) }
        fd = f
        openSegment = 0
        bufferCount = 0
        var offset: Int64 = 0
        while case .record(let view) = (try? frame(at: offset)) ?? .incomplete { offset = view.next.offset }
        return offset
    }
}
