import Dispatch
import GRDB

/// Moves WAL checkpoints off the append path and keeps the WAL bounded.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses its threshold, and with
/// `synchronous = NORMAL` a checkpoint is where the fsyncs happen, so every few batches an append
/// would stall for tens of milliseconds. Instead the automatic checkpoint is off, and after every
/// few megabytes written this runs a PASSIVE checkpoint on its own connection, on a background
/// queue; it blocks neither the writer nor readers.
///
/// The WAL restarts from its beginning only when a write transaction starts after a checkpoint has
/// copied every frame, which a concurrent checkpoint under steady writes rarely achieves. So when
/// the WAL holds `restartFrames` or more (64 MiB), a second passive checkpoint runs on the writer connection
/// (between two appends) to copy the frames committed during the first; the next append restarts
/// the log. That costs one short pause of the writer every few tens of megabytes instead of an
/// ever-growing WAL. Durability never depends on checkpoints: a commit is in the WAL already.
final class Checkpointer: @unchecked Sendable {
    /// Bytes written since the last checkpoint that trigger the next one.
    static let threshold = 4 << 20
    /// WAL length, in frames (pages: 64 MiB at the store's 8 KiB), from which the log is made to restart.
    static let restartFrames = 8_192

    private let queue = DispatchQueue(label: "moat.store.checkpoint", qos: .utility)
    private let connection: DatabaseQueue
    private let writer: DatabasePool
    /// Only touched on `queue`.
    private var pending = 0

    init(path: String, writer: DatabasePool) throws {
        var config = Configuration()
        config.label = "moat.store.checkpoint"
        connection = try DatabaseQueue(path: path, configuration: config)
        self.writer = writer
    }

    /// Notes `bytes` more written to the WAL; checkpoints in the background when due.
    func wrote(bytes: Int) {
        queue.async { [self] in
            BackgroundPriority.lowerCurrentThread()
            pending += bytes
            guard pending >= Self.threshold else { return }
            pending = 0
            checkpoint()
        }
    }

    /// Checkpoints now, on the calling thread. A failure is left to the next round.
    func checkpoint() {
        guard let log = try? connection.writeWithoutTransaction({ db in try db.checkpoint(.passive) }),
              log.walFrameCount >= Self.restartFrames else { return }
        _ = try? writer.writeWithoutTransaction { db in try db.checkpoint(.passive) }
    }
}
