import Prometheus

/// The gateway's Prometheus metrics, served at `/metrics` on the admin listener.
public final class GatewayMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let loggedExchanges: Counter
    private let logBatches: Counter
    private let addedLatency: ValueHistogram
    private let upstreamLatency: ValueHistogram

    public init() {
        loggedExchanges = registry.makeCounter(descriptor: .init(namespace: "moat", metricName: "exchanges_logged", unitName: "total", helpText: "Exchanges durably written to the exchange log"))
        logBatches = registry.makeCounter(descriptor: .init(namespace: "moat", metricName: "log_commits", unitName: "total", helpText: "Group commits of the exchange log"))
        let buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 5, 30]
        addedLatency = registry.makeValueHistogram(descriptor: .init(namespace: "moat", metricName: "added_latency", unitName: "seconds",
                                                                     helpText: "Time Moat adds to a request before forwarding it upstream"),
                                                   buckets: buckets)
        upstreamLatency = registry.makeValueHistogram(descriptor: .init(namespace: "moat", metricName: "upstream_latency", unitName: "seconds",
                                                                        helpText: "Time from forwarding a request to the upstream's last byte"),
                                                      buckets: buckets)
    }

    func request(api: ModelAPI, status: Int, outcome: String) {
        registry.makeCounter(descriptor: .init(namespace: "moat", metricName: "requests", unitName: "total",
                                               helpText: "Requests by API, status and outcome"),
                             labels: [("api", api.rawValue), ("status", String(status)), ("outcome", outcome)]).increment()
    }

    func logged(batch: Int) {
        loggedExchanges.increment(by: Int64(batch))
        logBatches.increment()
    }

    func added(seconds: Double) { addedLatency.record(seconds) }
    func upstream(seconds: Double) { upstreamLatency.record(seconds) }

    func action(_ action: String) {
        registry.makeCounter(descriptor: .init(namespace: "moat", metricName: "enforcement_actions", unitName: "total",
                                               helpText: "Enforcement actions taken"),
                             labels: [("action", action)]).increment()
    }

    public func render() -> [UInt8] { registry.emitToBuffer() }
}
