import Foundation
import Logging
import MoatCore
import MoatStore
import NIOSSL
import PostgresNIO

/// The store that gateway replicas share, in PostgreSQL: keys, accounts, the leased limit buckets
/// (`LimitLeaseStore`), and the detection leader's lock. A pool of connections (postgres-nio's
/// `PostgresClient`), run by a task of this value's own from `open` until `close`.
///
/// Opening migrates the schema under a PostgreSQL advisory lock, so that replicas starting together
/// apply each migration once, and refuses a schema newer than this version of Moat knows.
public final class PostgresStore: Sendable {
    public let url: PostgresURL
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>

    /// Connects, migrates (under the lock) and checks the schema version.
    public static func open(_ address: String, logger: Logger = Logger(label: "moat.store.postgres"),
                            maximumConnections: Int = 8) async throws -> PostgresStore {
        let store = try PostgresStore(url: PostgresURL(address), logger: logger, maximumConnections: maximumConnections)
        do {
            try await store.migrate()
        } catch {
            store.close()
            throw error
        }
        return store
    }

    init(url: PostgresURL, logger: Logger, maximumConnections: Int) throws {
        self.url = url
        self.logger = logger
        var config = PostgresClient.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                  database: url.database, tls: .disable)
        switch url.tls {
        case .disable: config.tls = .disable
        case .prefer: config.tls = .prefer(.makeClientConfiguration())
        case .require: config.tls = .require(.makeClientConfiguration())
        }
        config.options.maximumConnections = maximumConnections
        config.options.minimumConnections = 1
        config.options.connectTimeout = .seconds(5)
        client = PostgresClient(configuration: config)
        let client = self.client
        runner = Task { await client.run() }
    }

    /// Closes every connection (the pool's task ends).
    public func close() {
        runner.cancel()
    }

    /// Runs `sql` with its binds, discarding rows.
    func execute(_ query: PostgresQuery) async throws {
        do {
            try await client.query(query, logger: logger)
        } catch {
            throw wrap(error)
        }
    }

    /// A PostgreSQL failure as a message for the operator: the server's own message when there is one.
    func wrap(_ error: any Error) -> PostgresStoreError {
        if let e = error as? PostgresStoreError { return e }
        if let t = error as? PostgresTransactionError, let inner = t.closureError ?? t.beginError ?? t.commitError {
            return wrap(inner)
        }
        if let p = error as? PSQLError {
            if let message = p.serverInfo?[.message] {
                return PostgresStoreError("PostgreSQL at \(url.description): \(message)")
            }
            return PostgresStoreError("PostgreSQL at \(url.description): \(p.code)")
        }
        return PostgresStoreError("PostgreSQL at \(url.description): \(error)")
    }
}
