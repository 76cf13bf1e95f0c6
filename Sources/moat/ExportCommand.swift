import ArgumentParser
import Foundation
import MoatCore
import MoatStore
import MoatStorePostgres

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write the gateway's exchange log as contract JSON Lines.",
        discussion: """
            Writes every logged exchange (contract section 1) in time order, one per line, from --since \
            on when given. The output is what `moat detect` reads. On a PostgreSQL store (--store \
            postgres://...), the replicas' combined log, in the same format and order.
            """
    )

    @Option(help: "Only exchanges at or after this RFC 3339 time.")
    var since: String?

    @Option(help: "Where to write (- for standard output).")
    var out: String = "-"

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        var from: Timestamp?
        if let since {
            guard let t = Timestamp(rfc3339: since) else {
                throw ValidationFailure(message: "--since: `\(since)` is not an RFC 3339 time (e.g. 2026-04-22T08:15:02Z)")
            }
            from = t
        }
        let handle: FileHandle
        if out == "-" {
            handle = FileHandle.standardOutput
        } else {
            guard FileManager.default.createFile(atPath: out, contents: nil),
                  let h = FileHandle(forWritingAtPath: out) else {
                throw ValidationFailure(message: "cannot write \(out)")
            }
            handle = h
        }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 17)
        var count = 0
        func write(_ line: String) throws {
            buffer.append(contentsOf: line.utf8)
            buffer.append(10)
            count += 1
            if buffer.count >= 1 << 16 {
                try handle.write(contentsOf: buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        do {
            if PostgresURL.isPostgres(storeOptions.store) {
                let pg = try await PostgresStore.open(storeOptions.store)
                defer { pg.close() }
                try await pg.exportCombinedLog(since: from, write)
            } else {
                try storeOptions.open(create: false).exportExchanges(since: from, write)
            }
            if !buffer.isEmpty { try handle.write(contentsOf: buffer) }
            if out != "-" { try handle.close() }
        } catch let failure as ValidationFailure {
            throw failure
        } catch {
            throw ValidationFailure(message: "export: \(error)")
        }
        if out != "-" { Console.error("exported \(Console.count(count)) exchange(s) to \(out)") }
    }
}
