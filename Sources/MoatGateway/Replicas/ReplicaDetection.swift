import Foundation
import Logging
import MoatStore
import ServiceLifecycle

extension Gateway {
    /// On a shared store: ship the log, lead detection when elected, follow published verdicts.
    var replicaDetectionServices: [ServiceGroupConfiguration.ServiceConfiguration] {
        guard let shared = replica?.detection else { return [] }
        let name = config.replicaName ?? "\(ProcessInfo.processInfo.hostName):\(config.listen.port)"
        return [.init(service: LogShipService(gateway: self, shared: shared, replica: name)),
                .init(service: DetectionLeaderService(gateway: self, shared: shared)),
                .init(service: VerdictFollowService(gateway: self, shared: shared, mark: replica?.verdictsMark ?? 0))]
    }
}

/// Copies this replica's exchange log (as the store has ingested it) to the shared store's combined log,
/// from where its last shipment ended, every 100 ms.
struct LogShipService: Service {
    let gateway: Gateway
    let shared: any SharedDetectionStore
    let replica: String

    func run() async throws {
        let store = gateway.store
        var row: Int64?
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                if row == nil { row = try await shared.shippedRow(replica: replica) }
                let after = row ?? 0
                let batch = try await offLoop { try store.loggedExchanges(after: after, through: Int64.max, limit: 2_048) }
                if !batch.lines.isEmpty {
                    try await shared.ship(replica: replica, lines: batch.lines, through: batch.last)
                    row = batch.last
                    if batch.lines.count == 2_048 { continue }
                }
            } catch {
                gateway.logger.warning("cannot ship the exchange log to the shared store; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// Takes detection leadership when it is free (every 100 ms); while leading, runs the engine on the
/// combined log (from its start the first time: a standby's engine is empty) and publishes its verdict
/// changes.
struct DetectionLeaderService: Service {
    let gateway: Gateway
    let shared: any SharedDetectionStore

    func run() async throws {
        let claim = shared.leadership()
        let enforcer = gateway.enforcer
        var position: Int64 = 0
        var leading = false
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let now = await claim.tryLead()
            if now != leading {
                leading = now
                gateway.leading.store(now, ordering: .relaxed)
                await enforcer.setPublishing(now)
                gateway.logger.notice(now ? "detection: this replica leads (the engine runs on the combined log)" : "detection: leadership lost",
                                      metadata: ["from_position": "\(position)"])
            }
            if leading {
                do {
                    let batch = try await shared.combinedLog(after: position, limit: 2_048)
                    if !batch.lines.isEmpty {
                        await enforcer.ingest(lines: batch.lines)
                        position = batch.last
                    }
                    let out = await enforcer.takeOutbox()
                    do {
                        try await shared.publish(out)
                    } catch {
                        await enforcer.returnToOutbox(out)
                        throw error
                    }
                    if batch.lines.count == 2_048 { continue }
                } catch {
                    gateway.logger.warning("detection on the combined log failed; retrying", metadata: ["error": "\(error)"])
                }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        await claim.release()
    }
}

/// Applies the verdicts the detection leader published, every 100 ms, on every replica (the leader too).
struct VerdictFollowService: Service {
    let gateway: Gateway
    let shared: any SharedDetectionStore
    var mark: Int64

    func run() async throws {
        var mark = self.mark
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let (verdicts, next) = try await shared.verdicts(after: mark)
                for v in verdicts {
                    if let entry = ActionTable.Entry(v) { gateway.actions.set(v.account, entry) }
                }
                mark = next
            } catch {
                gateway.logger.warning("cannot read published verdicts; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
