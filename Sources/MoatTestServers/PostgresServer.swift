import Foundation

/// A PostgreSQL server of a test's own: `initdb` on a temporary directory, `pg_ctl start` on a free
/// loopback port (and a socket in that directory), one database. Binaries from PATH or Debian's
/// /usr/lib/postgresql/*/bin. As root (CI), the server runs as the `postgres` user, as PostgreSQL requires.
public final class PostgresServer: Sendable {
    public let port: Int
    public let directory: URL
    public let database: String
    public let user = "moat"
    let bin: String
    let runAs: String?

    /// `postgres://moat@127.0.0.1:PORT/DATABASE`.
    public var url: String { "postgres://\(user)@127.0.0.1:\(port)/\(database)" }

    /// Where initdb and pg_ctl are; nil when PostgreSQL's server is not installed.
    public static var binDirectory: String? {
        if let initdb = ExternalServer.find("initdb"), ExternalServer.find("pg_ctl") != nil {
            return URL(fileURLWithPath: initdb).resolvingSymlinksInPath().deletingLastPathComponent().path
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for v in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            let dir = "/usr/lib/postgresql/\(v)/bin"
            if FileManager.default.isExecutableFile(atPath: dir + "/initdb") { return dir }
        }
        return nil
    }

    /// Whether tests that need PostgreSQL run here: it is installed, or CI requires it (and then a missing
    /// server fails the test).
    public static var shouldRun: Bool { binDirectory != nil || ExternalServer.required }

    /// Starts a fresh server with one empty database.
    public init(database: String = "moat") throws {
        guard let bin = Self.binDirectory else {
            throw ExternalServer.Failure("PostgreSQL's server is not installed (no initdb on PATH or under /usr/lib/postgresql/*/bin): apt-get install -y postgresql")
        }
        self.bin = bin
        self.database = database
        runAs = geteuid() == 0 ? "postgres" : nil
        directory = URL(fileURLWithPath: "/tmp/moat-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if let runAs {
            guard let pw = getpwnam(runAs) else { throw ExternalServer.Failure("no user \(runAs) to run PostgreSQL as") }
            guard chown(directory.path, pw.pointee.pw_uid, pw.pointee.pw_gid) == 0 else {
                throw ExternalServer.Failure("cannot hand \(directory.path) to \(runAs): errno \(errno)")
            }
        }
        let data = directory.appendingPathComponent("data").path
        try Self.command(bin + "/initdb", ["-D", data, "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync"], as: runAs)
        var started: Int?
        var lastError: (any Error)?
        for _ in 0..<3 {
            let port = try ExternalServer.freePort()
            do {
                try Self.command(bin + "/pg_ctl", ["-D", data, "-l", directory.appendingPathComponent("server.log").path, "-w", "-t", "30",
                                                   "-o", "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100",
                                                   "start"], as: runAs)
                started = port
                break
            } catch {
                lastError = error
            }
        }
        guard let port = started else {
            try? FileManager.default.removeItem(at: directory)
            throw lastError ?? ExternalServer.Failure("PostgreSQL did not start")
        }
        self.port = port
        try Self.command(bin + "/createdb", ["-h", "127.0.0.1", "-p", "\(port)", "-U", user, database], as: runAs)
    }

    /// Stops the server at once and removes its directory.
    public func stop() {
        _ = try? Self.command(bin + "/pg_ctl", ["-D", directory.appendingPathComponent("data").path, "-m", "immediate", "-w", "stop"], as: runAs)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Runs SQL with psql (what a test does to the store behind the store's back).
    @discardableResult
    public func sql(_ statement: String) throws -> String {
        try ExternalServer.run(bin + "/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1",
                                               "-At", "-c", statement])
    }

    /// The server's log (for a failing test's diagnostics).
    public func logText() -> String {
        (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
    }

    @discardableResult
    static func command(_ executable: String, _ arguments: [String], as user: String?) throws -> String {
        guard let user else { return try ExternalServer.run(executable, arguments) }
        let runuser = ExternalServer.find("runuser", extra: ["/usr/sbin", "/sbin"]) ?? "/usr/sbin/runuser"
        return try ExternalServer.run(runuser, ["-u", user, "--", executable] + arguments)
    }
}
