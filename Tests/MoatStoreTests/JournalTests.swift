import Foundation
import MoatCore
import Testing
@testable import MoatStore

@Suite struct JournalTests {
    func append(_ journal: ExchangeJournal, _ e: Exchange) throws {
        var line = e.jsonLine
        _ = try line.withUTF8 { try journal.append(id: e.id, account: e.accountID, tsMs: e.ts.milliseconds, line: UnsafeRawBufferPointer($0)) }
    }

    @Test func recordsAreReadBackInOrderAcrossSegments() throws {
        let store = try MoatStore.temporary()
        let journal = try ExchangeJournal(directory: store.journalDirectory, segmentLimit: 4_096)
        let all = (0..<60).map { exchange("j-\($0)", Int64(1_000 - $0)) }
        for e in all { try append(journal, e) }
        #expect(ExchangeJournal.segments(in: store.journalDirectory).count > 3, "rolled over")
        var reader = JournalReader(directory: store.journalDirectory, from: JournalPosition(segment: 0, offset: 0))
        var ids: [String] = []
        while try reader.next({ ids.append($0.idString) }) {}
        #expect(ids == all.map(\.id))
        #expect(reader.position == journal.end)
    }

    /// The log has what the journal has once ingested; export merges what is not ingested yet; with no
    /// writer holding the journal, export ingests it first.
    @Test func exportSeesTheJournalBeforeAndAfterIngestion() throws {
        let store = try MoatStore.temporary()
        do {
            let journal = try ExchangeJournal(directory: store.journalDirectory)
            try store.appendExchanges([exchange("s-1", 2_000)])
            for e in [exchange("j-1", 1_000), exchange("j-2", 3_000)] { try append(journal, e) }
            // The writer holds the journal: export merges its tail read-only, in time order.
            #expect(try exported(store) == [exchange("j-1", 1_000), exchange("s-1", 2_000), exchange("j-2", 3_000)].map(\.jsonLine))
            #expect(try store.exchangeCount() == 1, "nothing written by export while a writer holds the journal")
            let ingester = try JournalIngester(store: store, journal: journal)
            #expect(try ingester.catchUp() == 2)
            #expect(try store.exchangeCount() == 3)
            #expect(try exported(store).count == 3, "ingested records are not exported twice")
            try append(journal, exchange("j-3", 4_000))
        }
        // The writer is gone (as after SIGKILL): export ingests what it left, then exports.
        #expect(try exported(store).count == 4)
        #expect(try store.exchangeCount() == 4)
        #expect(try store.journalPosition() > JournalPosition(segment: 0, offset: 0))
    }

    /// A torn tail (a power loss mid-write) is cut off when the journal is opened for writing; what came
    /// before it is intact and appends continue after it.
    @Test func aTornTailIsCutOff() throws {
        let store = try MoatStore.temporary()
        let path: String
        do {
            let journal = try ExchangeJournal(directory: store.journalDirectory)
            try append(journal, exchange("t-1", 1))
            try append(journal, exchange("t-2", 2))
            path = ExchangeJournal.path(store.journalDirectory, journal.end.segment)
        }
        let handle = try #require(FileHandle(forWritingAtPath: path))
        let size = try handle.seekToEnd()
        try handle.truncate(atOffset: size - 5)
        try handle.write(contentsOf: Data([1, 2, 3]))
        try handle.close()
        let journal = try ExchangeJournal(directory: store.journalDirectory)
        try append(journal, exchange("t-3", 3))
        var reader = JournalReader(directory: store.journalDirectory, from: JournalPosition(segment: 0, offset: 0))
        var ids: [String] = []
        while try reader.next({ ids.append($0.idString) }) {}
        #expect(ids == ["t-1", "t-3"])
    }

    @Test func oneWriterPerJournal() throws {
        let store = try MoatStore.temporary()
        let first = try ExchangeJournal(directory: store.journalDirectory)
        let started = Date()
        #expect(throws: JournalError.self) { try ExchangeJournal(directory: store.journalDirectory) }
        #expect(Date().timeIntervalSince(started) < 30)
        _ = first
    }

    @Test func consumedSegmentsAreRemoved() throws {
        let store = try MoatStore.temporary()
        let journal = try ExchangeJournal(directory: store.journalDirectory, segmentLimit: 2_048)
        for i in 0..<40 { try append(journal, exchange("r-\(i)", Int64(i))) }
        let before = ExchangeJournal.segments(in: store.journalDirectory).count
        let ingester = try JournalIngester(store: store, journal: journal)
        try ingester.catchUp()
        journal.setCursor("detect", journal.end)
        journal.removeConsumedSegments()
        let after = ExchangeJournal.segments(in: store.journalDirectory)
        #expect(before > 2 && after.count == 1, "\(before) -> \(after)")
        #expect(try store.exchangeCount() == 40)
        journal.setCursor("detect", JournalPosition(segment: 0, offset: 0))
    }

    @Test func theIngesterThreadFollowsTheJournal() throws {
        let store = try MoatStore.temporary()
        let journal = try ExchangeJournal(directory: store.journalDirectory)
        let ingester = try JournalIngester(store: store, journal: journal)
        ingester.start()
        for i in 0..<500 { try append(journal, exchange("f-\(i)", Int64(i))) }
        #expect(ingester.waitUntilIngested(timeout: .seconds(20)))
        #expect(try store.exchangeCount() == 500)
        journal.closeForWriting()
        ingester.stop()
        #expect(ingester.backlogBytes == 0)
    }
}
