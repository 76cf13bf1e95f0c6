import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a journal record starts, or where the journal ends: a segment number and a byte offset in it.
public struct JournalPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var segment: Int64
    public var offset: Int64

    public init(segment: Int64, offset: Int64) {
        self.segment = segment
        self.offset = offset
    }

    public static func < (a: JournalPosition, b: JournalPosition) -> Bool {
        a.segment != b.segment ? a.segment < b.segment : a.offset < b.offset
    }

    public var description: String { "\(segment):\(offset)" }
}

/// A journal problem: the message says what and where.
public struct JournalError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The exchange log's journal: an append-only file that request handlers write each exchange to before
/// its answer completes, and that the store ingests into SQLite off the request path (`JournalIngester`).
///
/// - **Durability.** `append` returns once the record is in the operating system's page cache (one
///   `writev`), so it survives the gateway being killed, SIGKILL included. A background flusher
///   `fdatasync`s the journal every few milliseconds when it changed (group fsync); callers that must
///   survive a power loss wait for it with `waitForSync(through:)`.
/// - **Format.** Segments `seg-<number>.log` of at most `segmentLimit` bytes. Each record is a frame:
///   payload length (u32 LE), a check (u32 LE, a hash of the payload), then the payload: event time in
///   Unix milliseconds (i64), id length (u16), account length (u16), kind (u32, 0 = exchange), the id,
///   the account and the exchange's contract JSON line. A frame that is cut short or fails its check ends
///   the segment: that is how a torn tail after a power loss is found (and cut off when a writer opens).
/// - **One writer.** Opening for writing takes an exclusive lock on `DIR/lock`; a second gateway on the
///   same store is refused. Readers (the ingester, live detection, `moat export`) need no lock.
/// - **Cleanup.** Consumers publish how far they have read (`setCursor`); a segment is deleted once
///   every consumer is past it (`removeConsumedSegments`).
public final class ExchangeJournal: Sendable {
    public let directory: String
    /// Segments roll over past this size.
    public let segmentLimit: Int64

    static let frameHeader = 8
    static let payloadFixed = 16

    private struct Writer {
        var fd: Int32
        var segment: Int64
        var offset: Int64
        /// Bytes written since the last fsync.
        var dirty = false
        var syncedThrough: JournalPosition
        /// A new segment's directory entry is not yet synced.
        var directoryDirty = false
        var closed = false
        /// Segments left behind by a roll-over, still to be synced (by the flusher) and closed.
        var retired: [Int32] = []
    }

    /// Records appended by this process, the readable end, waiters; under one lock with a condition.
    private final class Progress: @unchecked Sendable {
        /// Guards `appended`, `end`, `waiters`, `stopped`; signalled on every append.
        let condition = NSCondition()
        var appended: Int64 = 0
        var end: JournalPosition
        var waiters: [CheckedContinuation<Void, Never>] = []
        var stopped = false
        /// Guards `syncWaiters`, `syncedThrough`; signalled when someone starts waiting for a sync.
        let syncCondition = NSCondition()
        var syncWaiters: [(JournalPosition, @Sendable (Bool) -> Void)] = []
        var syncedThrough: JournalPosition
        var syncStopped = false

        init(end: JournalPosition) {
            self.end = end
            syncedThrough = end
        }
    }

    private let writer: Mutex<Writer>
    private let progress: Progress
    private let cursors = Mutex([String: JournalPosition]())
    private let lockFD: Int32

    /// Opens (creating it if needed) the journal in `directory` for writing: takes the writer's lock,
    /// cuts off a torn tail of the last segment, and appends after it.
    public init(directory: String, segmentLimit: Int64 = 64 << 20) throws {
        self.directory = directory
        self.segmentLimit = segmentLimit
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let lockPath = directory + "/lock"
        let lock = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw JournalError("cannot open \(lockPath): \(Self.errnoText())") }
        // `moat export` holds the lock for a moment while it ingests a crashed gateway's journal.
        var locked = flock(lock, LOCK_EX | LOCK_NB) == 0
        for _ in 0..<100 where !locked {
            usleep(50_000)
            locked = flock(lock, LOCK_EX | LOCK_NB) == 0
        }
        guard locked else {
            sysClose(lock)
            throw JournalError("the store's journal \(directory) is in use by another `moat serve` (one gateway per store)")
        }
        lockFD = lock
        let segments = Self.segments(in: directory)
        let segment = segments.last ?? 1
        let path = Self.path(directory, segment)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            sysClose(lock)
            throw JournalError("cannot open \(path): \(Self.errnoText())")
        }
        // Cut off whatever does not form whole, valid frames (a torn write before a power loss).
        let valid = Self.validLength(path: path)
        var st = stat()
        fstat(fd, &st)
        if Int64(st.st_size) > valid { _ = ftruncate(fd, off_t(valid)) }
        let end = JournalPosition(segment: segment, offset: valid)
        writer = Mutex(Writer(fd: fd, segment: segment, offset: valid, syncedThrough: end, directoryDirty: segments.isEmpty))
        progress = Progress(end: end)
    }

    deinit {
        writer.withLock { w in
            if !w.closed { sysClose(w.fd) }
            for old in w.retired { sysClose(old) }
        }
        sysClose(lockFD)
    }

    // MARK: - Writing

    /// Appends one exchange record; returns where the journal ends after it. Thread-safe; one `writev`.
    @discardableResult
    public func append(id: String, account: String, tsMs: Int64, line: UnsafeRawBufferPointer) throws -> JournalPosition {
        var id = id
        var account = account
        return try id.withUTF8 { idBytes in
            try account.withUTF8 { accountBytes in
                try append(id: UnsafeRawBufferPointer(idBytes), account: UnsafeRawBufferPointer(accountBytes), tsMs: tsMs, line: line)
            }
        }
    }

    func append(id: UnsafeRawBufferPointer, account: UnsafeRawBufferPointer, tsMs: Int64, line: UnsafeRawBufferPointer) throws
        -> JournalPosition
    {
        let idCount = min(id.count, Int(UInt16.max)), accountCount = min(account.count, Int(UInt16.max))
        let prefixCount = Self.frameHeader + Self.payloadFixed + idCount + accountCount
        let payloadCount = Self.payloadFixed + idCount + accountCount + line.count
        guard payloadCount < Int(UInt32.max) else { throw JournalError("an exchange record of \(payloadCount) bytes is too large") }
        let frameCount = Int64(Self.frameHeader + payloadCount)
        let end: JournalPosition = try withUnsafeTemporaryAllocation(byteCount: prefixCount, alignment: 8) { prefix in
            let p = prefix.baseAddress!
            Self.store(UInt32(payloadCount), at: p)
            Self.store(UInt64(bitPattern: tsMs), at: p + 8)
            Self.store(UInt16(idCount), at: p + 16)
            Self.store(UInt16(accountCount), at: p + 18)
            Self.store(UInt32(0), at: p + 20)
            if idCount > 0 { (p + 24).copyMemory(from: id.baseAddress!, byteCount: idCount) }
            if accountCount > 0 { (p + 24 + idCount).copyMemory(from: account.baseAddress!, byteCount: accountCount) }
            let check = Self.check(UnsafeRawBufferPointer(rebasing: prefix[Self.frameHeader...]), line)
            Self.store(check, at: p + 4)
            return try writer.withLock { w throws -> JournalPosition in
                guard !w.closed else { throw JournalError("the journal is closed") }
                if w.offset > 0, w.offset + frameCount > segmentLimit { try roll(&w) }
                var iov = (iovec(iov_base: UnsafeMutableRawPointer(mutating: p), iov_len: prefixCount),
                           iovec(iov_base: UnsafeMutableRawPointer(mutating: line.baseAddress), iov_len: line.count))
                let want = prefixCount + line.count
                let written = withUnsafeMutablePointer(to: &iov) { ptr in
                    ptr.withMemoryRebound(to: iovec.self, capacity: 2) { writev(w.fd, $0, line.count > 0 ? 2 : 1) }
                }
                guard written == want else {
                    let reason = written < 0 ? Self.errnoText() : "short write (\(written) of \(want) bytes)"
                    // Leave whole frames only, so the next append starts clean.
                    _ = ftruncate(w.fd, off_t(w.offset))
                    throw JournalError("cannot append to the journal \(directory): \(reason)")
                }
                w.offset += frameCount
                w.dirty = true
                return JournalPosition(segment: w.segment, offset: w.offset)
            }
        }
        let c = progress.condition
        c.lock()
        if progress.end < end { progress.end = end }
        progress.appended += 1
        let waiters = progress.waiters
        progress.waiters.removeAll()
        c.broadcast()
        c.unlock()
        for w in waiters { w.resume() }
        return end
    }

    /// Appends one record's frame to `frames` (to be written later with others by `append(frames:count:)`).
    public static func appendFrame(id: String, account: String, tsMs: Int64, line: UnsafeRawBufferPointer,
                                   to frames: inout [UInt8]) {
        var id = id, account = account
        id.withUTF8 { idBytes in
            account.withUTF8 { accountBytes in
                let idCount = min(idBytes.count, Int(UInt16.max)), accountCount = min(accountBytes.count, Int(UInt16.max))
                let payloadCount = payloadFixed + idCount + accountCount + line.count
                let start = frames.count
                frames.append(contentsOf: repeatElement(0, count: frameHeader + payloadFixed))
                frames.append(contentsOf: UnsafeBufferPointer(rebasing: idBytes[0..<idCount]))
                frames.append(contentsOf: UnsafeBufferPointer(rebasing: accountBytes[0..<accountCount]))
                frames.append(contentsOf: line)
                frames.withUnsafeMutableBytes { all in
                    let p = all.baseAddress! + start
                    store(UInt32(payloadCount), at: p)
                    store(UInt64(bitPattern: tsMs), at: p + 8)
                    store(UInt16(idCount), at: p + 16)
                    store(UInt16(accountCount), at: p + 18)
                    store(UInt32(0), at: p + 20)
                    let prefix = UnsafeRawBufferPointer(start: p + frameHeader, count: payloadFixed + idCount + accountCount)
                    let body = UnsafeRawBufferPointer(start: p + frameHeader + prefix.count, count: line.count)
                    store(check(prefix, body), at: p + 4)
                }
            }
        }
    }

    /// Appends `count` records already framed by `appendFrame`, in one write; returns where the journal
    /// ends after them. All or nothing: on a failure nothing of them stays in the journal.
    @discardableResult
    public func append(frames: UnsafeRawBufferPointer, count: Int) throws -> JournalPosition {
        guard count > 0, let base = frames.baseAddress else { return end }
        let total = Int64(frames.count)
        let end: JournalPosition = try writer.withLock { w throws -> JournalPosition in
            guard !w.closed else { throw JournalError("the journal is closed") }
            if w.offset > 0, w.offset + total > segmentLimit { try roll(&w) }
            var done = 0
            while done < frames.count {
                let n = write(w.fd, base + done, frames.count - done)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else {
                    let reason = n < 0 ? Self.errnoText() : "nothing written"
                    _ = ftruncate(w.fd, off_t(w.offset))
                    throw JournalError("cannot append to the journal \(directory): \(reason)")
                }
                done += n
            }
            w.offset += total
            w.dirty = true
            return JournalPosition(segment: w.segment, offset: w.offset)
        }
        let c = progress.condition
        c.lock()
        if progress.end < end { progress.end = end }
        progress.appended += Int64(count)
        let waiters = progress.waiters
        progress.waiters.removeAll()
        c.broadcast()
        c.unlock()
        for w in waiters { w.resume() }
        return end
    }

    private func roll(_ w: inout Writer) throws {
        let next = w.segment + 1
        let path = Self.path(directory, next)
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw JournalError("cannot create \(path): \(Self.errnoText())") }
        // The old segment is synced and closed by the flusher, not here on the appending thread.
        let retired = w.retired + [w.fd]
        w = Writer(fd: fd, segment: next, offset: 0, syncedThrough: w.syncedThrough, directoryDirty: true, retired: retired)
    }

    /// Flushes what was appended to disk (`fdatasync`, and the directory after a new segment); returns the
    /// position now durable against a power loss. Called by the flusher; cheap when nothing changed.
    @discardableResult
    public func sync() -> JournalPosition {
        // A duplicate of the descriptor: the writer may roll over to a new segment (and close its own) meanwhile.
        let (fd, through, dirDirty, retired): (Int32, JournalPosition, Bool, [Int32]) = writer.withLock { w in
            let r = (w.dirty && !w.closed ? dup(w.fd) : -1, JournalPosition(segment: w.segment, offset: w.offset), w.directoryDirty, w.retired)
            w.dirty = false
            w.directoryDirty = false
            w.retired = []
            return r
        }
        for old in retired {
            _ = fdatasync(old)
            sysClose(old)
        }
        if dirDirty {
            let d = open(directory, O_RDONLY | O_CLOEXEC)
            if d >= 0 { _ = fsync(d); sysClose(d) }
        }
        if fd >= 0 {
            _ = fdatasync(fd)
            sysClose(fd)
        }
        let c = progress.syncCondition
        c.lock()
        if progress.syncedThrough < through { progress.syncedThrough = through }
        let synced = progress.syncedThrough
        var ready: [@Sendable (Bool) -> Void] = []
        progress.syncWaiters.removeAll { entry in
            if entry.0 <= synced { ready.append(entry.1); return true }
            return false
        }
        c.unlock()
        for r in ready { r(true) }
        return through
    }

    /// Calls `done` (on the flusher's thread) once the journal is synced through `position`.
    public func waitForSync(through position: JournalPosition, _ done: @escaping @Sendable (Bool) -> Void) {
        let c = progress.syncCondition
        c.lock()
        if position <= progress.syncedThrough || progress.syncStopped {
            let ok = position <= progress.syncedThrough
            c.unlock()
            done(ok)
            return
        }
        progress.syncWaiters.append((position, done))
        c.broadcast()
        c.unlock()
    }

    /// Whether someone waits for a sync (the flusher then syncs at once instead of at its interval).
    public var hasSyncWaiters: Bool {
        progress.syncCondition.lock()
        defer { progress.syncCondition.unlock() }
        return !progress.syncWaiters.isEmpty
    }

    /// Blocks the flusher until someone waits for a sync or `timeout` passes; returns whether someone waits.
    public func waitForSyncRequest(timeout: Duration) -> Bool {
        let c = progress.syncCondition
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
        c.lock()
        defer { c.unlock() }
        while progress.syncWaiters.isEmpty && !progress.syncStopped {
            if !c.wait(until: deadline) { break }
        }
        return !progress.syncWaiters.isEmpty
    }

    /// Wakes the flusher (to look at a stop flag).
    public func wakeSyncRequests() {
        progress.syncCondition.lock()
        progress.syncCondition.broadcast()
        progress.syncCondition.unlock()
    }

    /// Syncs and closes the journal (graceful shutdown). Later appends fail; readers still read.
    public func closeForWriting() {
        sync()
        writer.withLock { w in
            if !w.closed {
                sysClose(w.fd)
                w.closed = true
            }
        }
        let c = progress.condition
        c.lock()
        progress.stopped = true
        let waiters = progress.waiters
        progress.waiters.removeAll()
        c.broadcast()
        c.unlock()
        for w in waiters { w.resume() }
        let sc = progress.syncCondition
        sc.lock()
        progress.syncStopped = true
        let synced = progress.syncedThrough
        let syncWaiters = progress.syncWaiters
        progress.syncWaiters.removeAll()
        sc.broadcast()
        sc.unlock()
        for (position, done) in syncWaiters { done(position <= synced) }
    }

    // MARK: - Progress

    /// Where the journal ends now (everything before it can be read).
    public var end: JournalPosition {
        progress.condition.lock()
        defer { progress.condition.unlock() }
        return progress.end
    }

    /// Records appended since this journal was opened.
    public var appended: Int64 {
        progress.condition.lock()
        defer { progress.condition.unlock() }
        return progress.appended
    }

    public var isClosed: Bool {
        progress.condition.lock()
        defer { progress.condition.unlock() }
        return progress.stopped
    }

    /// Blocks the calling thread until the journal ends after `position`, it is closed, or `timeout` passes.
    /// Returns whether there is more to read.
    public func waitForAppend(after position: JournalPosition, timeout: Duration) -> Bool {
        let c = progress.condition
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
        c.lock()
        defer { c.unlock() }
        while progress.end <= position && !progress.stopped {
            if !c.wait(until: deadline) { break }
        }
        return position < progress.end
    }

    /// Wakes every thread waiting in `waitForAppend` (to look at a stop flag).
    public func wakeReaders() {
        progress.condition.lock()
        progress.condition.broadcast()
        progress.condition.unlock()
    }

    /// Suspends until the journal ends after `position` or it is closed.
    public func appended(after position: JournalPosition) async {
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in
            let c = progress.condition
            c.lock()
            if position < progress.end || progress.stopped {
                c.unlock()
                k.resume()
                return
            }
            progress.waiters.append(k)
            c.unlock()
        }
    }

    /// Publishes how far consumer `name` has read; segments wholly before every consumer can go.
    public func setCursor(_ name: String, _ position: JournalPosition) {
        cursors.withLock { $0[name] = position }
    }

    /// Deletes segments that every consumer has read past. Returns how many were deleted.
    @discardableResult
    public func removeConsumedSegments() -> Int {
        guard let floor = cursors.withLock({ $0.values.min() }) else { return 0 }
        let current = writer.withLock { $0.segment }
        var removed = 0
        for segment in Self.segments(in: directory) where segment < floor.segment && segment < current {
            if unlink(Self.path(directory, segment)) == 0 { removed += 1 }
        }
        return removed
    }

    /// Bytes between `position` and the end of the journal (what a consumer at `position` has left to read).
    public func bytes(after position: JournalPosition) -> Int64 {
        let end = self.end
        guard position < end else { return 0 }
        if position.segment == end.segment { return end.offset - position.offset }
        var total = end.offset
        for segment in Self.segments(in: directory) where segment >= position.segment && segment < end.segment {
            var st = stat()
            if stat(Self.path(directory, segment), &st) == 0 {
                total += Int64(st.st_size) - (segment == position.segment ? position.offset : 0)
            }
        }
        return total
    }

    // MARK: - Files

    static func path(_ directory: String, _ segment: Int64) -> String {
        let digits = String(segment)
        return directory + "/seg-" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits + ".log"
    }

    /// Segment numbers present in `directory`, ascending.
    static func segments(in directory: String) -> [Int64] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.compactMap { name -> Int64? in
            guard name.hasPrefix("seg-"), name.hasSuffix(".log") else { return nil }
            return Int64(name.dropFirst(4).dropLast(4))
        }.sorted()
    }

    /// Length of the run of whole, valid frames at the start of the file.
    static func validLength(path: String) -> Int64 {
        var reader = JournalReader(directory: "", from: JournalPosition(segment: 0, offset: 0))
        return reader.validLength(path: path)
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    @inline(__always)
    static func store<T: FixedWidthInteger>(_ value: T, at p: UnsafeMutableRawPointer) {
        p.storeBytes(of: value.littleEndian, as: T.self)
    }

    @inline(__always)
    static func load<T: FixedWidthInteger>(_: T.Type, at p: UnsafeRawPointer) -> T {
        T(littleEndian: p.loadUnaligned(as: T.self))
    }

    /// The frame check: a 64-bit multiply-xor hash of both parts of the payload, folded to 32 bits.
    static func check(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> UInt32 {
        var h: UInt64 = 0x6A09_E667_F3BC_C908 ^ UInt64(a.count &+ b.count)
        hash(a, &h)
        hash(b, &h)
        h ^= h >> 32
        return UInt32(truncatingIfNeeded: h)
    }

    @inline(__always)
    private static func hash(_ bytes: UnsafeRawBufferPointer, _ h: inout UInt64) {
        guard let base = bytes.baseAddress else { return }
        let n = bytes.count
        var i = 0
        while i + 8 <= n {
            let w = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            h = (h ^ w) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail ^ (UInt64(n) << 56)) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 31
    }
}

/// close(2), named apart from the methods called `close`.
@inline(__always)
func sysClose(_ fd: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(fd)
    #else
    _ = Darwin.close(fd)
    #endif
}
