import Foundation

/// Helpers for tests that start real servers of their own (PostgreSQL, nginx) from the system's packages.
/// Test support only: no production module depends on this one.
public enum ExternalServer {
    /// A server a test needs could not be found or started.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// True under CI (`CI` set): a test whose server is missing must then fail, never skip.
    public static var required: Bool {
        let ci = ProcessInfo.processInfo.environment["CI"] ?? ""
        return !ci.isEmpty && ci != "0" && ci.lowercased() != "false"
    }

    /// The first executable named `name` on PATH or in `extra` directories.
    public static func find(_ name: String, extra: [String] = []) -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        for dir in path + extra {
            let candidate = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs a command to its end; throws with its output when it fails.
    ///
    /// Spawned with posix_spawn and reaped with waitpid rather than with Foundation's `Process`: a command
    /// that leaves a daemon behind (`pg_ctl start`) would hand it Process's own descriptors, and Process
    /// would then wait for the daemon too.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("moat-run-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: out) }
        let pid = try spawn(executable, arguments, output: out.path)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        // Exited normally with status 0 (the wait status's low 7 bits: the signal; the next 8: the exit code).
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw Failure("\(([executable] + arguments).joined(separator: " ")) failed (wait status \(status)): \(text.suffix(2_000))")
        }
        return text
    }

    /// Starts a command with its output (both streams) in the file `output`; returns its pid, to reap with waitpid.
    public static func spawn(_ executable: String, _ arguments: [String], output: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        #if canImport(Glibc)
        // Nothing else of this process goes to the command: a daemon it leaves behind (a PostgreSQL server)
        // would otherwise keep every descriptor open here at that moment, such as another test's client
        // socket, whose close then reaches no server until the daemon exits.
        // (glibc 2.34+; not in Swift's Glibc module, so looked up by name.)
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        if let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") {
            _ = unsafeBitCast(symbol, to: CloseFrom.self)(&actions, 3)
        }
        #endif
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw Failure("cannot run \(executable): \(String(cString: strerror(spawned)))") }
        return pid
    }

    /// True while the child `pid` runs (reaps it once it has ended).
    public static func isRunning(_ pid: pid_t) -> Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// A TCP port free on 127.0.0.1 now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = 0
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        guard bound == 0 else { throw Failure("bind: errno \(errno)") }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
