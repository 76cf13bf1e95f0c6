import ArgumentParser
import Foundation
import MoatCore
import MoatIntel
import MoatTAXII

struct IntelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intel",
        abstract: "Share intelligence with other labs: STIX 2.1 bundles, a TAXII 2.1 server, peers' indicators.",
        discussion: """
            `export` writes a STIX 2.1 bundle from a detection report; `serve` runs a TAXII 2.1 server; `push` \
            adds a bundle to a TAXII collection; `pull` fetches a peer's collection and stores its indicators \
            (`import` does the same for a bundle file); \
            `match` says which of our accounts match the stored indicators; `key generate` makes a trust-group key.
            """,
        subcommands: [IntelExportCommand.self, IntelServeCommand.self, IntelPushCommand.self, IntelPullCommand.self,
                      IntelImportCommand.self, IntelMatchCommand.self, IntelKeyCommand.self]
    )
}

/// `--tlp`: a closed set, checked by the parser.
enum TLPArgument: String, ExpressibleByArgument, CaseIterable {
    case clear, green, amber
    case amberStrict = "amber+strict"
    case red

    var tlp: TLP { TLP(rawValue: rawValue)! }
}

enum ATLASArgument: String, ExpressibleByArgument, CaseIterable {
    case objects, references

    var mode: ATLASMode { ATLASMode(rawValue: rawValue)! }
}

/// `--config`, shared by the intel subcommands.
struct IntelConfigOptions: ParsableArguments {
    @Option(help: "Intel configuration (YAML): organisation, trust groups and keys, peers, collections, server.")
    var config: String?

    func load() throws -> ResolvedIntelConfig? {
        guard let config else { return nil }
        do {
            return try IntelConfig.loadResolved(path: config)
        } catch {
            throw ValidationFailure(message: error.message)
        }
    }
}

/// Credentials for a peer's TAXII server: a bearer token or basic auth, from the environment or a file.
struct PeerCredentialOptions: ParsableArguments {
    @Option(help: "Environment variable that holds the bearer token for the peer's server.")
    var tokenEnv: String?

    @Option(help: "File that holds the bearer token.")
    var tokenFile: String?

    @Option(help: "User name for basic auth (the password comes from --password-env or --password-file).")
    var user: String?

    @Option(help: "Environment variable that holds the basic-auth password.")
    var passwordEnv: String?

    @Option(help: "File that holds the basic-auth password.")
    var passwordFile: String?

    func validate() throws {
        if tokenEnv != nil || tokenFile != nil, user != nil {
            throw ValidationError("give either a token (--token-env, --token-file) or basic auth (--user), not both")
        }
        if user != nil, passwordEnv == nil, passwordFile == nil {
            throw ValidationError("--user needs --password-env or --password-file")
        }
    }

    func credentials() throws -> TAXIICredentials {
        func secret(env: String?, file: String?, what: String) throws -> String? {
            if let env {
                guard let v = ProcessInfo.processInfo.environment[env], !v.isEmpty else {
                    throw ValidationFailure(message: "\(what): environment variable \(env) is not set")
                }
                return v
            }
            if let file {
                guard let v = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationFailure(message: "\(what): cannot read \(file)") }
                return v.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            return nil
        }
        if let token = try secret(env: tokenEnv, file: tokenFile, what: "token") { return .bearer(token) }
        if let user, let password = try secret(env: passwordEnv, file: passwordFile, what: "password") {
            return .basic(username: user, password: password)
        }
        return .none
    }
}

/// `--as-of`: the time taken as now for expiry (simulated scenarios live in their own time).
struct AsOfOption: ParsableArguments {
    @Option(help: "Take this RFC 3339 time as now when deciding what has expired (default: the clock; a simulated scenario's own time for simulations).")
    var asOf: String?

    func validate() throws {
        if let asOf, Timestamp(rfc3339: asOf) == nil { throw ValidationError("--as-of: `\(asOf)` is not an RFC 3339 time") }
    }

    /// Milliseconds since the epoch of `--as-of`, or of the clock.
    var nowMs: Int64 {
        asOf.flatMap { Timestamp(rfc3339: $0)?.milliseconds } ?? Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}

extension IntelError {
    var failure: ValidationFailure { ValidationFailure(message: message) }
}

/// Reading a detection report (contract section 4).
enum ReportInput {
    static func read(_ path: String) throws -> Report {
        let data: Data
        do {
            data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ValidationFailure(message: "\(path): cannot read the report")
        }
        do {
            return try JSONDecoder().decode(Report.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw ValidationFailure(message: "\(path): field `\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))`: missing (not a `moat detect` report?)")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context), let DecodingError.dataCorrupted(context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ValidationFailure(message: "\(path): " + (field.isEmpty ? "" : "field `\(field)`: ") + context.debugDescription)
        } catch {
            throw ValidationFailure(message: "\(path): \(error)")
        }
    }
}

/// Writing bytes to a file or standard output.
enum OutputFile {
    static func write(_ bytes: [UInt8], to path: String) throws {
        if path == "-" {
            FileHandle.standardOutput.write(Data(bytes))
            FileHandle.standardOutput.write(Data("\n".utf8))
            return
        }
        do {
            try Data(bytes + [10]).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ValidationFailure(message: "cannot write \(path): \(error.localizedDescription)")
        }
    }
}
