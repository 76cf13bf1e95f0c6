import Foundation
@testable import MoatGateway
import MoatStore
import Synchronization
import Testing

/// The journal writer thread (`JournalWriter`): what the event loops hand it is written in order, each
/// batch is called back once it is in the journal, and nothing handed over is left unanswered.
@Suite("moat serve: the journal writer thread")
struct JournalWriterTests {
    /// What the writer called back with, shared with its thread.
    final class Calls<T: Sendable>: Sendable {
        let list = Mutex<[T]>([])
        func add(_ t: T) { list.withLock { $0.append(t) } }
        var all: [T] { list.withLock { $0 } }
    }

    private func batch(_ ids: [String]) -> [UInt8] {
        var frames: [UInt8] = []
        for id in ids {
            let line = Array("{\"id\":\"\(id)\"}".utf8)
            line.withUnsafeBytes { ExchangeJournal.appendFrame(id: id, account: "acct", tsMs: 1, line: $0, to: &frames) }
        }
        return frames
    }

    private func readBack(_ directory: String) throws -> [String] {
        var reader = JournalReader(directory: directory, from: JournalPosition(segment: 0, offset: 0))
        var ids: [String] = []
        while try reader.next({ ids.append($0.idString) }) {}
        return ids
    }

    struct Call: Sendable {
        var end: JournalPosition?
        var written: Bool
        var emptied: Int
    }

    @Test func batchesAreWrittenInTheOrderHandedOverAndCalledBackAfterTheWrite() throws {
        let store = try MoatStore.temporary()
        let journal = try ExchangeJournal(directory: store.journalDirectory)
        let writer = JournalWriter(journal: journal, metrics: GatewayMetrics())
        writer.start()
        let calls = Calls<Call>()
        let all = (0..<50).map { b in (0..<3).map { "w-\(b)-\($0)" } }
        for ids in all {
            writer.write(.init(frames: batch(ids), count: ids.count) { end, failure, emptied in
                // Called back only once the journal holds the batch: its end is the journal's end then.
                let readable = end.map { $0 <= journal.end } ?? false
                calls.add(Call(end: end, written: readable && failure == nil, emptied: emptied.count))
            })
        }
        writer.stop()
        let seen = calls.all
        #expect(seen.count == all.count, "every batch is called back")
        #expect(seen.allSatisfy { $0.written && $0.emptied == 0 })
        #expect(seen.compactMap(\.end) == seen.compactMap(\.end).sorted(), "in order")
        #expect(try readBack(store.journalDirectory) == all.flatMap { $0 })
    }

    @Test func aBatchHandedOverAfterStopIsWrittenOnTheCallersThread() throws {
        let store = try MoatStore.temporary()
        let journal = try ExchangeJournal(directory: store.journalDirectory)
        let writer = JournalWriter(journal: journal, metrics: GatewayMetrics())
        writer.start()
        writer.stop()
        let answered = Calls<Bool>()
        writer.write(.init(frames: batch(["late-1"]), count: 1) { end, failure, _ in
            answered.add(end != nil && failure == nil)
        })
        #expect(answered.all == [true], "written and called back before write returns")
        journal.closeForWriting()
        let failed = Calls<Bool>()
        writer.write(.init(frames: batch(["late-2"]), count: 1) { end, failure, _ in
            failed.add(end == nil && failure != nil)
        })
        #expect(failed.all == [true], "a closed journal answers with a failure, not silence")
        #expect(try readBack(store.journalDirectory) == ["late-1"])
    }
}
