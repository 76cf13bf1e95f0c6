import Foundation
import MoatCore
import Testing
@testable import MoatStore

func exchange(_ id: String, _ ms: Int64, account: String = "acct-1") -> Exchange {
    Exchange(id: id, ts: Timestamp(milliseconds: ms), accountID: account, model: "m-1", inputTokens: 10, outputTokens: 20,
             apiKeyID: "key_abc", endpoint: "messages", prompt: "hello \"world\"\n", response: "hi",
             stream: true, status: 200, latencyMs: 12.5, client: Exchange.Client(ip: "10.0.0.1", userAgent: "sdk/1"))
}

func exported(_ store: MoatStore, since: Timestamp? = nil) throws -> [String] {
    var lines: [String] = []
    try store.exportExchanges(since: since) { lines.append($0) }
    return lines
}

@Suite struct ExchangeLogTests {
    @Test func appendsAndExportsInTimeOrder() throws {
        let store = try MoatStore.temporary()
        let a = exchange("x-a", 3_000), b = exchange("x-b", 1_000), c = exchange("x-c", 2_000), d = exchange("x-d", 2_000)
        try store.appendExchanges([a, b])
        try store.appendExchanges([c, d])
        try store.appendExchanges([])
        #expect(try store.exchangeCount() == 4)
        // ts order, ties in append order; the lines are the contract JSON lines.
        #expect(try exported(store) == [b, c, d, a].map(\.jsonLine))
        #expect(try exported(store, since: Timestamp(milliseconds: 2_000)) == [c, d, a].map(\.jsonLine))
        #expect(try exported(store, since: Timestamp(milliseconds: 3_001)).isEmpty)

        // Each exported line decodes back to the exchange.
        for (line, original) in zip(try exported(store), [b, c, d, a]) {
            var bytes = Array(line.utf8)
            let decoded = try bytes.withUnsafeMutableBufferPointer { buf in
                try Exchange.decode(line: UnsafeBufferPointer(buf), file: "export", lineNumber: 1)
            }
            #expect(decoded == original)
        }
    }

    @Test func duplicateIdsAreIgnored() throws {
        let store = try MoatStore.temporary()
        try store.appendExchanges([exchange("x-1", 1_000), exchange("x-2", 2_000)])
        var changed = exchange("x-2", 9_000)
        changed.model = "other"
        // A later batch with a known id still stores its new exchanges; the first copy wins.
        try store.appendExchanges([changed, exchange("x-3", 3_000), exchange("x-3", 4_000)])
        #expect(try store.exchangeCount() == 3)
        #expect(try exported(store) == [exchange("x-1", 1_000), exchange("x-2", 2_000), exchange("x-3", 3_000)].map(\.jsonLine))
    }

    @Test func durableAcrossReopen() throws {
        let path: String
        do {
            let store = try MoatStore.temporary()
            path = store.path
            try store.appendExchanges((0..<100).map { exchange("x-\($0)", Int64($0)) })
            _ = try store.createKey(account: "acct-1")
        }
        // The first store object is gone (its pool closed); a new one on the same file sees everything.
        let reopened = try MoatStore(path: path)
        #expect(try reopened.exchangeCount() == 100)
        #expect(try reopened.keys().count == 1)
        #expect(try exported(reopened).first == exchange("x-0", 0).jsonLine)
    }

    @Test func checkpointKeepsEverything() throws {
        let store = try MoatStore.temporary()
        try store.appendExchanges((0..<300).map { exchange("c-\($0)", Int64($0)) })
        store.checkpointer.checkpoint()
        try store.appendExchanges([exchange("c-300", 300)])
        let reopened = try MoatStore(path: store.path)
        #expect(try reopened.exchangeCount() == 301)
    }

    @Test func concurrentAppendsAndReads() async throws {
        let store = try MoatStore.temporary()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<4 {
                group.addTask {
                    for batch in 0..<10 {
                        try store.appendExchanges((0..<50).map { exchange("t\(t)-b\(batch)-\($0)", Int64($0)) })
                        _ = try store.exchangeCount()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try store.exchangeCount() == 2_000)
    }

    /// Batched appends keep every exchange. Speed is measured by benchmarks, not here; the rate is printed only.
    @Test func batchedAppendsKeepEveryExchange() throws {
        let store = try MoatStore.temporary()
        let batches = 40, size = 256
        let all = (0..<batches).map { b in (0..<size).map { exchange("p-\(b)-\($0)", Int64(b * size + $0), account: "acct-\($0 % 50)") } }
        let clock = ContinuousClock()
        var slowest = Duration.zero
        let total = try clock.measure {
            for batch in all {
                let d = try clock.measure { try store.appendExchanges(batch) }
                slowest = max(slowest, d)
            }
        }
        let seconds = Double(total.components.seconds) + Double(total.components.attoseconds) / 1e18
        let rate = Double(batches * size) / seconds
        print("appendExchanges: \(batches)×\(size) in \(total), \(Int(rate)) exchanges/s, slowest batch \(slowest)")
        #expect(try store.exchangeCount() == batches * size)
    }
}
