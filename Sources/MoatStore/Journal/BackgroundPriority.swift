#if canImport(Glibc)
import Glibc
#endif
import Foundation

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

    /// Puts the calling thread, one of the gateway's own long-lived background threads (never a pooled
    /// one), in Linux's SCHED_IDLE class: it runs on CPU time nothing else wants, and a request thread that
    /// wakes takes the CPU from it at once. A niced thread, once picked, keeps the CPU for its time slice
    /// (about a millisecond), which is what a request arriving then waits; a SCHED_IDLE thread does not.
    /// `MOAT_BACKGROUND_POLICY=nice` keeps the nice value only (to compare). Elsewhere: `lowerCurrentThread`.
    public static func idleCurrentThread() {
        lowerCurrentThread()
        #if os(Linux)
        guard usesIdlePolicy else { return }
        var param = sched_param(sched_priority: 0)
        _ = sched_setscheduler(0, 5 /* SCHED_IDLE */, &param)
        #endif
    }

    static let usesIdlePolicy = ProcessInfo.processInfo.environment["MOAT_BACKGROUND_POLICY"] != "nice"
}
