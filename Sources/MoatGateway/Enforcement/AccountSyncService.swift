import ServiceLifecycle

/// Polls the store for accounts imported while the gateway runs (`moat accounts import` from another
/// process), so limits and detection see them without a restart.
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
                try await gateway.syncAccounts()
            } catch {
                gateway.logger.warning("cannot read accounts from the store", metadata: ["error": "\(error)"])
            }
        }
    }
}
