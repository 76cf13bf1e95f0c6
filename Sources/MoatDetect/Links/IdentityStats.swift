import MoatCore

/// How common each sign-up attribute is across the accounts file: what the provider knows from sign-up
/// and billing before any traffic.
struct IdentityStats {
    var emailDomains: [String: Int] = [:]
    var payments: [String: Int] = [:]
    var signupHours: [Int64: Int] = [:]
    var accounts = 0
    /// Average sign-ups per hour over the span of `created_at`.
    var signupsPerHour = 0.0

    /// The span of `created_at` seen so far, in milliseconds.
    private var firstSignup = Int64.max
    private var lastSignup = Int64.min

    init(_ accounts: [Account]) {
        add(accounts)
    }

    /// Counts more accounts (a live import into a running engine).
    mutating func add(_ accounts: [Account]) {
        self.accounts += accounts.count
        for a in accounts {
            if let d = a.emailDomain { emailDomains[d.lowercased(), default: 0] += 1 }
            if let p = a.paymentFingerprint { payments[p, default: 0] += 1 }
            if let c = a.createdAt?.milliseconds {
                signupHours[c / Timestamp.hour, default: 0] += 1
                firstSignup = min(firstSignup, c)
                lastSignup = max(lastSignup, c)
            }
        }
        if firstSignup < lastSignup {
            signupsPerHour = Double(signupHours.values.reduce(0, +)) / max(1, Double(lastSignup - firstSignup) / Double(Timestamp.hour))
        }
    }
}
