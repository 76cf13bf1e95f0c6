#if canImport(Glibc)
import Glibc
#endif

/// Background work (moving the journal into SQLite, checkpoints, live detection, fsyncs) runs at a lower
/// scheduling priority than request handling, so on a busy core the event loops preempt it instead of
/// waiting for it: it uses the CPU that requests leave. When it cannot keep up, the journal's backlog
/// bound pushes back on new requests (`log.max_backlog_mb`).
public enum BackgroundPriority {
    /// The nice value of background threads.
    public static let nice: Int32 = 10

    /// Lowers the calling thread's priority (on Linux `setpriority` with `who` 0 applies to the calling
    /// thread only). Harmless to call again.
    public static func lowerCurrentThread() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
        #endif
    }
}
