import Foundation
import Testing
@testable import MoatStore
#if canImport(Glibc)
import Glibc
#endif

@Suite struct BackgroundPriorityTests {
    /// The scheduling class and nice value a fresh thread has after `lowerOwnThread`.
    static func policyAfterLowering() async -> (policy: Int32, nice: Int32) {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                BackgroundPriority.lowerOwnThread()
                #if os(Linux)
                errno = 0
                let nice = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
                continuation.resume(returning: (sched_getscheduler(0), nice))
                #else
                continuation.resume(returning: (0, BackgroundPriority.nice))
                #endif
            }
            thread.start()
        }
    }

    @Test("the ingester's and live detection's threads run at nice 10 in the normal class, not SCHED_IDLE, unless MOAT_BACKGROUND_POLICY=idle",
          .enabled(if: !BackgroundPriority.usesIdlePolicy, "MOAT_BACKGROUND_POLICY=idle asks for SCHED_IDLE"))
    func ownBackgroundThreadsAreNicedNotIdle() async {
        let (policy, nice) = await Self.policyAfterLowering()
        #expect(policy == 0, "scheduling class \(policy) (0 is SCHED_OTHER, 5 SCHED_IDLE)")
        #expect(nice == BackgroundPriority.nice)
    }
}
