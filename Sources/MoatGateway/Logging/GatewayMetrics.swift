import Prometheus
import Synchronization

/// The gateway's Prometheus metrics, served at `/metrics` on the admin listener.
///
/// Every handle is created once: the fixed ones here, and the labelled request counters the first time
/// a label combination is seen (then cached per event loop, `LoopContext.requestCounter`).
public final class GatewayMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let loggedExchanges: Counter
    private let ingestBatches: Counter
    private let ingestedExchanges: Counter
    private let detectedExchanges: Counter
    private let logFailures: Counter
    private let addedLatency: ValueHistogram
    private let upstreamLatency: ValueHistogram
    private let firstByteLatency: ValueHistogram
    private let loopLag: ValueHistogram
    private let loopLagMax: Gauge
    private let journalWrite: ValueHistogram
    private let backlog: Gauge
    private let detectionLag: Gauge
    private let outcomes: [Outcome: Counter]
    private let actions = Mutex([String: Counter]())

    public init() {
        loggedExchanges = registry.makeCounter(descriptor: .init(namespace: "moat", metricName: "exchanges_logged", unitName: "total",
                                                                 helpText: "Exchanges written to the exchange log's journal"))
        ingestBatches = registry.makeCounter(descriptor: .init(namespace: "moat", metricName: "log_commits", unitName: "total",
                                                               helpText: "Transactions moving journal records into the store"))
        ingestedExchanges = registry.makeCounter(descriptor: .init(namespace: "moat", metricName: "exchanges_stored", unitName: "total",
                                                                   helpText: "Exchanges moved from the journal into the store"))
        detectedExchanges = registry.makeCounter(descriptor: .init(namespace: "moat", metricName: "exchanges_detected", unitName: "total",
                                                                   helpText: "Exchanges fed to live detection"))
        logFailures = registry.makeCounter(descriptor: .init(namespace: "moat", metricName: "log_failures", unitName: "total",
                                                             helpText: "Exchanges that could not be written to the journal (their answers were not completed)"))
        let buckets = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 5, 30]
        addedLatency = registry.makeValueHistogram(descriptor: .init(namespace: "moat", metricName: "added_latency", unitName: "seconds",
                                                                     helpText: "Time Moat adds to a request before forwarding it upstream"),
                                                   buckets: buckets)
        upstreamLatency = registry.makeValueHistogram(descriptor: .init(namespace: "moat", metricName: "upstream_latency", unitName: "seconds",
                                                                        helpText: "Time from forwarding a request to the upstream's last byte"),
                                                      buckets: buckets)
        firstByteLatency = registry.makeValueHistogram(descriptor: .init(namespace: "moat", metricName: "upstream_first_byte", unitName: "seconds",
                                                                         helpText: "Time from forwarding a request to the upstream's response head"),
                                                       buckets: buckets)
        // How late a probe task that each request event loop runs every few milliseconds ran: what any
        // request on that loop waited at worst for work in front of it (the stalls of the latency tail).
        let lagBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1]
        loopLag = registry.makeValueHistogram(descriptor: .init(namespace: "moat", metricName: "event_loop_lag", unitName: "seconds",
                                                                helpText: "How late a request event loop ran a task due at a given time (a probe every 5 ms)"),
                                              buckets: lagBuckets)
        loopLagMax = registry.makeGauge(descriptor: .init(namespace: "moat", metricName: "event_loop_lag_max", unitName: "seconds",
                                                          helpText: "Largest event loop lag seen since the gateway started"))
        journalWrite = registry.makeValueHistogram(descriptor: .init(namespace: "moat", metricName: "journal_write", unitName: "seconds",
                                                                     helpText: "Time one write of a batch of records to the journal took (on the journal writer thread)"),
                                                   buckets: lagBuckets)
        backlog = registry.makeGauge(descriptor: .init(namespace: "moat", metricName: "log_backlog", unitName: "bytes",
                                                       helpText: "Journal bytes not yet in the store"))
        detectionLag = registry.makeGauge(descriptor: .init(namespace: "moat", metricName: "detection_lag", unitName: "exchanges",
                                                            helpText: "Exchanges logged but not yet fed to live detection"))
        var outcomes: [Outcome: Counter] = [:]
        for o in Outcome.allCases {
            outcomes[o] = registry.makeCounter(descriptor: .init(namespace: "moat", metricName: "exchange_outcomes", unitName: "total",
                                                                 helpText: "Logged exchanges by how they ended"),
                                               labels: [("outcome", o.rawValue)])
        }
        self.outcomes = outcomes
    }

    /// The counter of requests with these labels (created on first use; callers cache it).
    func makeRequestCounter(api: ModelAPI?, status: Int, outcome: String) -> Counter {
        registry.makeCounter(descriptor: .init(namespace: "moat", metricName: "requests", unitName: "total",
                                               helpText: "Requests by API, status and outcome"),
                             labels: [("api", api?.rawValue ?? "none"), ("status", String(status)), ("outcome", outcome)])
    }

    func logged(_ outcome: Outcome) {
        loggedExchanges.increment()
        outcomes[outcome]?.increment()
    }

    func logFailed() { logFailures.increment() }

    func ingested(records: Int) {
        ingestedExchanges.increment(by: Int64(records))
        ingestBatches.increment()
    }

    func detected(_ n: Int, lag: Int64) {
        detectedExchanges.increment(by: Int64(n))
        detectionLag.set(lag)
    }

    func logBacklog(bytes: Int64) { backlog.set(bytes) }

    func added(seconds: Double) { addedLatency.record(seconds) }
    func upstream(seconds: Double) { upstreamLatency.record(seconds) }
    func firstByte(seconds: Double) { firstByteLatency.record(seconds) }
    func journalWrite(seconds: Double) { journalWrite.record(seconds) }

    private let lagMaxSeen = Mutex(0.0)
    func loopLag(seconds: Double) {
        loopLag.record(seconds)
        let raised = lagMaxSeen.withLock { m -> Bool in
            guard seconds > m else { return false }
            m = seconds
            return true
        }
        if raised { loopLagMax.set(seconds) }
    }

    func action(_ action: String) {
        let counter = actions.withLock { cache -> Counter in
            if let c = cache[action] { return c }
            let c = registry.makeCounter(descriptor: .init(namespace: "moat", metricName: "enforcement_actions", unitName: "total",
                                                           helpText: "Enforcement actions taken"),
                                         labels: [("action", action)])
            cache[action] = c
            return c
        }
        counter.increment()
    }

    public func render() -> [UInt8] { registry.emitToBuffer() }
}

/// How an exchange ended (the contract's optional `outcome`).
public enum Outcome: String, Sendable, CaseIterable {
    case completed
    /// The client went away before the whole answer was sent.
    case clientClosed = "client_closed"
    /// The upstream's answer broke off (connection closed, malformed, or an error event mid-stream).
    case upstreamBroken = "upstream_broken"
    /// The upstream went silent for longer than `upstream_timeout_seconds`.
    case timeout
    /// The gateway ended it (shutting down).
    case cancelled
}
