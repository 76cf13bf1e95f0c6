import Foundation
import Logging
import MoatStore
import ServiceLifecycle

extension Gateway {
    /// On a shared store: ship the log, lead detection when elected, follow published verdicts and operators'
    /// decisions made on other replicas.
    var replicaDetectionServices: [ServiceGroupConfiguration.ServiceConfiguration] {
        let following: [ServiceGroupConfiguration.ServiceConfiguration] = replica?.operators.map {
            [.init(service: OperatorFollowService(gateway: self, operators: $0, version: replica?.operatorState?.version ?? 0))]
        } ?? []
        guard let shared = replica?.detection else { return following }
        let name = config.replicaName ?? "\(ProcessInfo.processInfo.hostName):\(config.listen.port)"
        return following + [
            .init(service: LogShipService(gateway: self, shared: shared, replica: name)),
            .init(service: DetectionLeaderService(gateway: self, shared: shared, operators: replica?.operators)),
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
                let batch = try await offLoop { try store.loggedRows(after: after, limit: 2_048) }
                if !batch.rows.isEmpty {
                    try await shared.ship(replica: replica, rows: batch.rows, through: batch.last)
                    row = batch.last
                    if batch.rows.count == 2_048 { continue }
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
/// changes, the audit entries that explain them, and the campaigns with their evidence.
struct DetectionLeaderService: Service {
    let gateway: Gateway
    let shared: any SharedDetectionStore
    let operators: (any OperatorStore)?

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
                // A new leader's engine catches up on the combined log without acting: what it finds already
                // enforced (and published) is not published again, nor taken back through earlier verdicts.
                if now { await enforcer.beginCatchUp() }
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
                    // Caught up with the combined log as it was: from here on, verdicts are enforced as they come.
                    if batch.lines.count < 2_048 { await enforcer.endCatchUp() }
                    // Campaigns changed in the last batch are saved once they are due, even with no new traffic.
                    await enforcer.saveCampaignsIfDue()
                    let out = await enforcer.takeOutbox()
                    var rest = out
                    do {
                        try await shared.publish(out.verdicts)
                        rest.verdicts = []
                        if let operators {
                            try await operators.appendAudit(out.audit)
                            rest.audit = []
                            if let campaigns = out.campaigns { try await operators.saveCampaigns(campaigns) }
                        }
                        rest.campaigns = nil
                    } catch {
                        await enforcer.returnToOutbox(rest)
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

/// Applies the overrides and campaign choices operators set on any replica, every 100 ms: when the shared
/// store's version of them moved, all of them are read again and replace this replica's.
struct OperatorFollowService: Service {
    let gateway: Gateway
    let operators: any OperatorStore
    var version: Int64

    func run() async throws {
        var version = self.version
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                if let state = try await operators.operatorState(after: version) {
                    gateway.actions.replaceOperatorState(state)
                    version = state.version
                }
            } catch {
                gateway.logger.warning("cannot read operators' overrides from the shared store; retrying", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
