import Foundation
import Logging
import ServiceLifecycle

/// Gives a replica's unused leases back to the shared store every `interval`, and all of them when the
/// gateway stops, so that other replicas can use them.
struct LeaseReturnService: Service {
    let limiter: LeasedLimiter
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                try await limiter.giveBack(now: Date().timeIntervalSince1970)
            } catch {
                logger.warning("cannot give leases back to the store", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
        _ = try? await limiter.giveBack(now: Date().timeIntervalSince1970, all: true)
    }
}
