#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Prints an HTML file to PDF with headless Chromium (`--headless --print-to-pdf`).
enum ChromiumPDF {
    struct Failure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Names tried on PATH when neither `--chromium` nor `$MOAT_CHROMIUM` is given.
    static let candidates = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless_shell"]

    /// The executable: the explicit one, `$MOAT_CHROMIUM`, or the first candidate on PATH.
    static func find(explicit: String?) throws -> String {
        let fm = FileManager.default
        if let path = explicit ?? ProcessInfo.processInfo.environment["MOAT_CHROMIUM"].flatMap({ $0.isEmpty ? nil : $0 }) {
            if path.contains("/") {
                guard fm.isExecutableFile(atPath: path) else {
                    throw Failure(message: "Chromium not found: \(path) is not an executable file")
                }
                return path
            }
            if let found = onPath(path) { return found }
            throw Failure(message: "Chromium not found: no \(path) on PATH")
        }
        for name in candidates {
            if let found = onPath(name) { return found }
        }
        throw Failure(message: "--pdf needs headless Chromium, and none was found (looked for \(candidates.joined(separator: ", ")) on PATH). Install it (Debian: apt-get install chromium) or set MOAT_CHROMIUM to its path.")
    }

    static func onPath(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = String(dir) + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Prints `htmlPath` to `pdfPath`; throws with Chromium's own words when it fails.
    static func print(htmlPath: String, to pdfPath: String, chromium: String?, timeoutSeconds: Double = 300) throws {
        let executable = try find(explicit: chromium)
        let fm = FileManager.default
        let html = URL(fileURLWithPath: htmlPath).standardizedFileURL
        let pdf = URL(fileURLWithPath: pdfPath).standardizedFileURL
        let profile = fm.temporaryDirectory.appendingPathComponent("moat-chromium-\(UUID().uuidString)")
        try? fm.createDirectory(at: profile, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: profile) }
        try? fm.removeItem(at: pdf)

        var arguments = ["--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                         "--disable-background-networking", "--disable-sync", "--disable-dev-shm-usage", "--mute-audio",
                         "--user-data-dir=\(profile.path)", "--no-pdf-header-footer", "--print-to-pdf-no-header",
                         "--print-to-pdf=\(pdf.path)"]
        if geteuid() == 0 { arguments.append("--no-sandbox") }  // Chromium refuses to run as root with its sandbox
        arguments.append(html.absoluteString)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let errURL = profile.appendingPathComponent("stderr")
        _ = fm.createFile(atPath: errURL.path, contents: nil)
        let err = try FileHandle(forWritingTo: errURL)
        defer { try? err.close() }
        process.standardError = err
        process.standardOutput = err
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw Failure(message: "cannot start Chromium (\(executable)): \(error.localizedDescription)")
        }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                process.waitUntilExit()
                throw Failure(message: "Chromium did not finish printing \(htmlPath) within \(Int(timeoutSeconds)) s")
            }
            usleep(50_000)
        }
        let size = (try? fm.attributesOfItem(atPath: pdf.path)[.size] as? Int64) ?? 0
        guard process.terminationStatus == 0, size > 0 else {
            let output = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            let lastLines = output.split(separator: "\n").suffix(5).joined(separator: "\n")
            throw Failure(message: "Chromium (\(executable)) could not print \(htmlPath) to \(pdfPath) (exit \(process.terminationStatus))" + (lastLines.isEmpty ? "" : ":\n" + lastLines))
        }
    }
}
