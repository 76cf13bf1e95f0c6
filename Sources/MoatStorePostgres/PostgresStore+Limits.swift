import MoatStore
import PostgresNIO

/// The shared limit buckets: a replica leases slices of them (`moat_lease`) and gives back what it did not
/// use (`moat_give_back`), each call one transaction, the buckets' rows locked while they change.
extension PostgresStore: LimitLeaseStore {
    public func lease(_ asks: [LeaseAsk], now: Double) async throws -> [LeaseGrant] {
        do {
            return try await client.withTransaction(logger: logger) { c in
                var grants: [LeaseGrant] = []
                // In a fixed order, so that two replicas leasing the same buckets cannot deadlock.
                let order = asks.indices.sorted { (asks[$0].scope, asks[$0].subject, asks[$0].dimension) < (asks[$1].scope, asks[$1].subject, asks[$1].dimension) }
                var byIndex = [LeaseGrant?](repeating: nil, count: asks.count)
                for i in order {
                    let a = asks[i]
                    let rows = try await c.query("""
                        SELECT granted, level FROM moat_lease(\(a.scope), \(a.subject), \(Int16(a.dimension))::smallint, \(a.capacity), \(a.want), \(now))
                        """, logger: logger)
                    for try await (granted, level) in rows.decode((Double, Double).self) {
                        byIndex[i] = LeaseGrant(granted: granted, level: level)
                    }
                }
                for g in byIndex { grants.append(g ?? LeaseGrant(granted: 0, level: 0)) }
                return grants
            }
        } catch {
            throw wrap(error)
        }
    }

    public func giveBack(_ returns: [LeaseReturn], now: Double) async throws {
        guard !returns.isEmpty else { return }
        do {
            try await client.withTransaction(logger: logger) { c in
                for r in returns.sorted(by: { ($0.scope, $0.subject, $0.dimension) < ($1.scope, $1.subject, $1.dimension) }) {
                    try await c.query("""
                        SELECT moat_give_back(\(r.scope), \(r.subject), \(Int16(r.dimension))::smallint, \(r.capacity), \(r.amount), \(now))
                        """, logger: logger)
                }
            }
        } catch {
            throw wrap(error)
        }
    }
}
