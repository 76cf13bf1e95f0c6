import Foundation
import ServiceLifecycle

/// Saves the usage-limit buckets that changed to the store every `limits_save_ms` (default 200 ms), on
/// NIO's thread pool, and drops buckets that no longer hold anything (full minute buckets, past days)
/// every ten minutes. The gateway saves once more when it stops.
public struct LimitSaveService: Service {
    let gateway: Gateway

    public func run() async throws {
        guard let durable = gateway.durableLimits else { return }
        let interval = Duration.milliseconds(gateway.config.limitsSaveMs)
        var lastPrune = ContinuousClock.now
        let store = gateway.store
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                break
            }
            do {
                _ = try await offLoop { try durable.save() }
                if ContinuousClock.now - lastPrune > .seconds(600) {
                    lastPrune = ContinuousClock.now
                    let now = Date().timeIntervalSince1970
                    try await offLoop { try store.pruneLimitBuckets(minuteBefore: now - 120, dayBefore: (now / 86_400).rounded(.down) - 1) }
                }
            } catch {
                gateway.logger.warning("cannot save usage limits to the store; retrying", metadata: ["error": "\(error)"])
            }
        }
    }
}
