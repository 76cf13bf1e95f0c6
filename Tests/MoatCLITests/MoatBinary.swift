import Foundation

/// Finds and runs the built `moat` executable, for tests of the command line.
///
/// Lookup order: `$MOAT_BINARY`; `moat` beside the running test bundle (the build products directory,
/// e.g. `.build/debug` or `.build/x86_64-unknown-linux-gnu/debug`); `.build/debug/moat` and
/// `.build/release/moat` of the package that holds this source file. `swift build` or `swift test`
/// builds it.
enum MoatBinary {
    struct NotFound: Error, CustomStringConvertible {
        var tried: [String]
        var description: String {
            "the moat executable was not found (run `swift build` first); tried: " + tried.joined(separator: ", ")
        }
    }

    /// What a run of the binary produced.
    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func url() throws -> URL {
        var candidates: [URL] = []
        if let path = ProcessInfo.processInfo.environment["MOAT_BINARY"], !path.isEmpty {
            candidates.append(URL(fileURLWithPath: path))
        }
        // The test bundle (an .xctest directory on macOS, an executable on Linux) lives in the products dir.
        for start in [executableURL(), Bundle.main.executableURL, Bundle.main.bundleURL].compactMap({ $0 }) {
            var dir = start.resolvingSymlinksInPath()
            if dir.hasDirectoryPath { candidates.append(dir.appendingPathComponent("moat")) }
            for _ in 0..<3 {
                dir = dir.deletingLastPathComponent()
                candidates.append(dir.appendingPathComponent("moat"))
            }
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug/moat"))
        candidates.append(packageRoot.appendingPathComponent(".build/release/moat"))

        let fm = FileManager.default
        for candidate in candidates {
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
               fm.isExecutableFile(atPath: candidate.path) {
                return candidate
            }
        }
        throw NotFound(tried: candidates.map(\.path))
    }

    private static func executableURL() -> URL? {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path)
        }
        #endif
        return CommandLine.arguments.first.map { URL(fileURLWithPath: $0) }
    }

    /// Runs `moat` with `arguments` and waits. Output goes through temporary files, so a large output
    /// cannot fill a pipe and block the child.
    static func run(_ arguments: [String], stdin: URL? = nil,
                    currentDirectory: URL? = nil, environment: [String: String] = [:]) throws -> Output {
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("moat-cli-\(UUID().uuidString)")
        try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout")
        let errURL = scratch.appendingPathComponent("stderr")
        _ = fm.createFile(atPath: outURL.path, contents: nil)
        _ = fm.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL)
        let err = try FileHandle(forWritingTo: errURL)

        let process = Process()
        process.executableURL = try url()
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        if let stdin { process.standardInput = try FileHandle(forReadingFrom: stdin) }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Output(status: process.terminationStatus,
                      stdout: try String(contentsOf: outURL, encoding: .utf8),
                      stderr: try String(contentsOf: errURL, encoding: .utf8))
    }

    /// A fresh temporary directory for a test's files.
    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moat-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
