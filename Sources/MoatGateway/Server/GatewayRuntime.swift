import NIOCore
import NIOPosix

/// Process-wide settings of the server runtime.
public enum GatewayRuntime {
    /// Runs Swift Concurrency's tasks on NIO's event loops instead of the global thread pool, so a
    /// request's handler, its upstream call and its response writes stay on one thread instead of
    /// hopping between the pool and the event loops (the largest per-request cost of the proxy).
    /// Call once, first thing, in a server process. Returns false when the runtime does not allow it.
    @discardableResult
    public static func runTasksOnEventLoops() -> Bool {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
