import Foundation
import Synchronization

/// The dashboard's login sessions, in memory: an operator logs in with the admin token and gets a random
/// session id (the `moat_session` cookie: HttpOnly, SameSite=Strict, path `/ui`) and a random CSRF token
/// that every form carries. Bounded: the oldest session goes when `capacity` is reached. Sessions end
/// after `idle` without a request, after `lifetime` in any case, at logout, and when the gateway restarts.
final class DashboardSessions: Sendable {
    struct Session: Sendable {
        let id: String
        let csrf: String
        let created: Date
        var lastSeen: Date
    }

    static let cookie = "moat_session"
    static let loginCookie = "moat_login"
    let lifetime: TimeInterval
    let idle: TimeInterval
    let capacity: Int
    private let sessions = Mutex([String: Session]())
    /// Failed logins in the last minute (time of each), to slow token guessing.
    private let failures = Mutex([Date]())

    init(lifetime: TimeInterval = 8 * 3600, idle: TimeInterval = 3600, capacity: Int = 1024) {
        self.lifetime = lifetime
        self.idle = idle
        self.capacity = capacity
    }

    /// A new session.
    func create(now: Date = Date()) -> Session {
        let s = Session(id: Self.randomToken(), csrf: Self.randomToken(), created: now, lastSeen: now)
        sessions.withLock { all in
            all = all.filter { Self.isLive($0.value, now: now, lifetime: lifetime, idle: idle) }
            if all.count >= capacity, let oldest = all.min(by: { $0.value.lastSeen < $1.value.lastSeen }) {
                all[oldest.key] = nil
            }
            all[s.id] = s
        }
        return s
    }

    /// The live session with this id (and it is touched), nil when unknown or expired.
    func session(_ id: String?, now: Date = Date()) -> Session? {
        guard let id, !id.isEmpty else { return nil }
        return sessions.withLock { all -> Session? in
            guard var s = all[id] else { return nil }
            guard Self.isLive(s, now: now, lifetime: lifetime, idle: idle) else {
                all[id] = nil
                return nil
            }
            s.lastSeen = now
            all[id] = s
            return s
        }
    }

    func end(_ id: String) { _ = sessions.withLock { $0.removeValue(forKey: id) } }

    var count: Int { sessions.withLock { $0.count } }

    /// Whether a login may be tried now: at most 10 failures a minute.
    func mayTryLogin(now: Date = Date()) -> Bool {
        failures.withLock { f in
            f.removeAll { now.timeIntervalSince($0) > 60 }
            return f.count < 10
        }
    }

    func failedLogin(now: Date = Date()) { failures.withLock { $0.append(now) } }

    static func isLive(_ s: Session, now: Date, lifetime: TimeInterval, idle: TimeInterval) -> Bool {
        now.timeIntervalSince(s.created) < lifetime && now.timeIntervalSince(s.lastSeen) < idle
    }

    /// 32 random bytes from the system's generator, as hex.
    static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        var s = ""
        s.reserveCapacity(64)
        for _ in 0..<4 {
            let v = g.next() as UInt64
            let hex = String(v, radix: 16)
            s += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return s
    }
}
