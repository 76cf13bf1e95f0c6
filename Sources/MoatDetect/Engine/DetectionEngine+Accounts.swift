import MoatCore

extension DetectionEngine {
    /// Adds what the provider learned about accounts after the engine started (a live import into the
    /// gateway). An account not seen yet takes its sign-up identity when its first exchange arrives; one
    /// already seen gets its sign-up links (payment, email domain, sign-up burst) now, at the latest event
    /// time. Accounts already known are left as they are. Returns the verdicts that changed.
    public mutating func register(accounts new: [Account]) -> [VerdictChange] {
        let fresh = new.filter { identities[$0.accountID] == nil }
        guard !fresh.isEmpty else { return [] }
        for a in fresh { identities[a.accountID] = a }
        identityStats.add(fresh)
        var changes: [VerdictChange] = []
        let ts = stats.lastTs ?? 0
        for a in fresh {
            guard let i = index[a.accountID] else { continue }
            profiles[Int(i)].identity = a
            registerIdentity(i, a, ts: ts, &changes)
            updateScore(i, ts: ts, &changes)
        }
        return changes
    }

    /// How many accounts the engine has sign-up identities for.
    public var knownAccounts: Int { identities.count }
}
