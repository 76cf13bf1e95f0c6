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

    init(_ accounts: [Account]) {
        self.accounts = accounts.count
        var first = Int64.max, last = Int64.min
        for a in accounts {
            if let d = a.emailDomain { emailDomains[d.lowercased(), default: 0] += 1 }
            if let p = a.paymentFingerprint { payments[p, default: 0] += 1 }
            if let c = a.createdAt?.milliseconds {
                signupHours[c / Timestamp.hour, default: 0] += 1
                first = min(first, c)
                last = max(last, c)
            }
        }
        if first < last {
            signupsPerHour = Double(signupHours.values.reduce(0, +)) / max(1, Double(last - first) / Double(Timestamp.hour))
        }
    }
}
