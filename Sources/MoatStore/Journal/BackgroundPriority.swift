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

    /// Lowers one of the gateway's own long-lived background threads (the journal ingester, live detection):
    /// nice 10, like `lowerCurrentThread`. Only with `MOAT_BACKGROUND_POLICY=idle`, an experiment to measure
    /// request latency against, does it also put the thread in Linux's SCHED_IDLE class.
    ///
    /// SCHED_IDLE is not the default because it gives these threads no share of a busy CPU at all (a
    /// weight of 3 against 1,024 for a normal thread; nice 10 keeps 110), so their lag has no bound:
    /// - live detection's lag is enforcement's lag. In `moat replay` (event time about 3,000 times the wall
    ///   clock, on a loaded 2-core machine) its thread waited 7.5 ms for a CPU per wake-up on average (30 s
    ///   of a 40 s replay) against 3.2 ms at nice 10; blocks landed later, more exchanges of flagged
    ///   accounts were served after their block was due (44 against 25, mean of 6 and 5 runs), and with
    ///   them the logged traffic and flagged_at changed from run to run (`GatewayRestartTests` failed);
    /// - both threads hold locks that other threads wait for: the store's single SQLite writer (detection's
    ///   verdicts and campaigns, limit saves, keys created through the admin API wait behind an ingester
    ///   batch), the action table and the journal (which the request loops take). Preempted inside one, a
    ///   SCHED_IDLE thread makes the waiter wait as long as it is starved (priority inversion);
    /// - threads they spawn inherit the class: a libdispatch worker started from one ran in SCHED_IDLE too.
    public static func lowerOwnThread() {
        lowerCurrentThread()
        #if os(Linux)
        guard usesIdlePolicy else { return }
        var param = sched_param(sched_priority: 0)
        _ = sched_setscheduler(0, 5 /* SCHED_IDLE */, &param)
        #endif
    }

    /// `MOAT_BACKGROUND_POLICY=idle` (read once): the gateway's own background threads in SCHED_IDLE.
    public static let usesIdlePolicy = ProcessInfo.processInfo.environment["MOAT_BACKGROUND_POLICY"] == "idle"
}
