import Foundation

/// nginx of a test's own, on a loopback port, balancing round robin over `upstreams` (Debian's nginx;
/// a prefix directory of its own, no daemon).
public final class NginxServer: Sendable {
    public let port: Int
    public let directory: URL
    let pid: pid_t

    public static var binary: String? { ExternalServer.find("nginx", extra: ["/usr/sbin", "/sbin"]) }

    /// Whether tests that need nginx run here: it is installed, or CI requires it.
    public static var shouldRun: Bool { binary != nil || ExternalServer.required }

    public init(upstreams: [Int]) throws {
        guard let nginx = Self.binary else {
            throw ExternalServer.Failure("nginx is not installed (not on PATH or in /usr/sbin): apt-get install -y nginx")
        }
        directory = URL(fileURLWithPath: "/tmp/moat-nginx-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("logs"), withIntermediateDirectories: true)
        var lastError = ""
        for _ in 0..<3 {
            let port = try ExternalServer.freePort()
            let conf = directory.appendingPathComponent("nginx.conf")
            try Self.config(port: port, upstreams: upstreams, prefix: directory.path).write(to: conf, atomically: true, encoding: .utf8)
            let p = try ExternalServer.spawn(nginx, ["-p", directory.path, "-c", conf.path, "-e", directory.appendingPathComponent("logs/error.log").path],
                                             output: directory.appendingPathComponent("logs/stdout.log").path)
            if Self.waitListening(port: port, p) {
                self.port = port
                pid = p
                return
            }
            Self.end(p)
            lastError = (try? String(contentsOf: directory.appendingPathComponent("logs/error.log"), encoding: .utf8)) ?? ""
        }
        throw ExternalServer.Failure("nginx did not start: \(lastError.suffix(2_000))")
    }

    public func stop() {
        Self.end(pid)
        try? FileManager.default.removeItem(at: directory)
    }

    /// SIGQUIT (graceful), SIGKILL after 5 s; reaps it.
    static func end(_ pid: pid_t) {
        guard ExternalServer.isRunning(pid) else { return }
        kill(pid, SIGQUIT)
        let deadline = Date().addingTimeInterval(5)
        while ExternalServer.isRunning(pid), Date() < deadline { usleep(20_000) }
        if ExternalServer.isRunning(pid) {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
        }
    }

    static func config(port: Int, upstreams: [Int], prefix: String) -> String {
        """
        \(geteuid() == 0 ? "user root;" : "")
        daemon off;
        worker_processes 1;
        pid \(prefix)/nginx.pid;
        error_log \(prefix)/logs/error.log warn;
        events { worker_connections 1024; }
        http {
            access_log off;
            client_body_temp_path \(prefix)/body;
            proxy_temp_path \(prefix)/proxy;
            fastcgi_temp_path \(prefix)/fastcgi;
            uwsgi_temp_path \(prefix)/uwsgi;
            scgi_temp_path \(prefix)/scgi;
            upstream moat {
        \(upstreams.map { "        server 127.0.0.1:\($0);" }.joined(separator: "\n"))
                keepalive 32;
            }
            server {
                listen 127.0.0.1:\(port);
                location / {
                    proxy_pass http://moat;
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                    proxy_buffering off;
                    proxy_next_upstream off;
                }
            }
        }

        """
    }

    static func waitListening(port: Int, _ p: pid_t) -> Bool {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, ExternalServer.isRunning(p) {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = UInt16(port).bigEndian
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let ok = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
            close(fd)
            if ok { return true }
            usleep(50_000)
        }
        return false
    }
}
