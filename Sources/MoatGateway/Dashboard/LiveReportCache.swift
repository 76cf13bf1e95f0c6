import Foundation
import MoatCore
import MoatReport
import MoatStore
import NIOPosix
import Synchronization

/// The campaign report's figures, live: the gateway's current detection report with the store's exchange
/// log aggregated by `LogAggregator` (texts are not read), recomputed off the event loop when detection
/// moved on and at most every few seconds.
final class LiveReportCache: Sendable {
    struct Snapshot: Sendable {
        let at: Date
        let key: String
        let report: Report
        let log: LogAggregate
        let accounts: [Account]
    }

    private let state = Mutex<Snapshot?>(nil)
    /// A snapshot is reused while detection's report is unchanged, or for this long in any case.
    static let minimumAge: TimeInterval = 5

    func snapshot(_ gateway: Gateway, now: Date = Date()) async throws -> Snapshot {
        let report = await gateway.enforcer.report()
        let key = "\(report.summary.exchanges)/\(report.campaigns.count)/\(report.accounts.count)"
        if let cached = state.withLock({ $0 }), cached.key == key || now.timeIntervalSince(cached.at) < Self.minimumAge {
            return cached
        }
        let store = gateway.store
        let snapshot = try await NIOThreadPool.singleton.runIfActive { () throws -> Snapshot in
            var aggregator = try LogAggregator(report: report, reportFile: "live detection report")
            var n = 0
            try store.exportExchanges { line in
                n += 1
                var bytes = Array(line.utf8)
                let exchange = try? bytes.withUnsafeMutableBufferPointer { buffer in
                    try Exchange.decode(line: UnsafeBufferPointer(buffer), file: "store", lineNumber: n, fields: .withoutText)
                }
                if let exchange { aggregator.add(exchange) }
            }
            return Snapshot(at: now, key: key, report: report, log: aggregator.finish(), accounts: try store.accounts())
        }
        state.withLock { $0 = snapshot }
        return snapshot
    }
}
