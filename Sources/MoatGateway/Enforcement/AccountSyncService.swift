import ServiceLifecycle

/// Polls the store for accounts imported while the gateway runs (`moat accounts import` from another
/// process) and keys revoked by another process (`moat keys revoke`), so limits, detection and the key
/// cache see them without a restart. The store is read on NIO's thread pool, off the event loops.
public struct AccountSyncService: Service {
    let gateway: Gateway
    let interval: Duration

    public func run() async throws {
        while !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            } catch {
                return
            }
            do {
                try await gateway.syncStore()
            } catch {
                gateway.logger.warning("cannot read accounts or keys from the store", metadata: ["error": "\(error)"])
            }
        }
    }
}
