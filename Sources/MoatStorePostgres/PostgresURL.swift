import Foundation

/// A store address `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`
/// (`postgresql://` too), parsed without Foundation's URL so that a password's characters need no care
/// beyond percent-encoding.
public struct PostgresURL: Sendable, Equatable {
    public enum TLSMode: String, Sendable { case disable, prefer, require }

    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    public var tls: TLSMode

    /// True for a store setting that names PostgreSQL rather than an SQLite file.
    public static func isPostgres(_ store: String) -> Bool {
        store.hasPrefix("postgres://") || store.hasPrefix("postgresql://")
    }

    public init(_ text: String) throws {
        guard let scheme = text.range(of: "://"), Self.isPostgres(text) else {
            throw PostgresStoreError("`\(text)` is not a PostgreSQL address: expected postgres://user@host:port/database")
        }
        var rest = Substring(text[scheme.upperBound...])
        var query = ""
        if let q = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: q)...])
            rest = rest[..<q]
        }
        guard let at = rest.lastIndex(of: "@") else {
            throw PostgresStoreError("the PostgreSQL address `\(Self.redacted(text))` names no user: expected postgres://user@host:port/database")
        }
        let credentials = rest[..<at]
        let location = rest[rest.index(after: at)...]
        if let colon = credentials.firstIndex(of: ":") {
            user = String(credentials[..<colon]).removingPercentEncoding ?? String(credentials[..<colon])
            let p = credentials[credentials.index(after: colon)...]
            password = String(p).removingPercentEncoding ?? String(p)
        } else {
            user = String(credentials).removingPercentEncoding ?? String(credentials)
            password = nil
        }
        guard let slash = location.firstIndex(of: "/"), !location[location.index(after: slash)...].isEmpty else {
            throw PostgresStoreError("the PostgreSQL address `\(Self.redacted(text))` names no database: expected postgres://user@host:port/database")
        }
        database = String(location[location.index(after: slash)...])
        let hostPort = location[..<slash]
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            host = String(hostPort[..<colon])
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65_535).contains(p) else {
                throw PostgresStoreError("the PostgreSQL address `\(Self.redacted(text))` has a bad port")
            }
            port = p
        } else {
            host = String(hostPort)
            port = 5432
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !user.isEmpty, !host.isEmpty else {
            throw PostgresStoreError("the PostgreSQL address `\(Self.redacted(text))` needs a user and a host")
        }
        tls = .disable
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { continue }
            if kv[0] == "sslmode" {
                guard let mode = TLSMode(rawValue: kv[1]) else {
                    throw PostgresStoreError("sslmode=\(kv[1]) is not one of disable, prefer, require")
                }
                tls = mode
            }
        }
    }

    /// The address with its password hidden, for logs and messages.
    public static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].lastIndex(of: "@") else { return text }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }

    /// This address, its password hidden.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }
}

/// A PostgreSQL store's failure, with a message for the operator.
public struct PostgresStoreError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
