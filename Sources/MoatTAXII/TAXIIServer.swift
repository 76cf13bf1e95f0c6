import Foundation
import Hummingbird
import Logging
import MoatIntel
import MoatStore
import NIOCore
import NIOPosix

/// The request context: Hummingbird's storage and who is calling.
public struct TAXIIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var caller: ResolvedIntelConfig.Caller = .anonymous

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

/// A TAXII 2.1 server (OASIS TAXII 2.1, sections 4 and 5) over Moat's intel storage:
///
/// - `GET /taxii2/` discovery, `GET /{root}/` the API root, `GET /{root}/status/{id}/`;
/// - `GET /{root}/collections/`, `GET /{root}/collections/{id}/`, `…/manifest/`;
/// - `GET` and `POST /{root}/collections/{id}/objects/`, `GET` and `DELETE …/objects/{object-id}/`,
///   `GET …/objects/{object-id}/versions/`.
///
/// Every response is `application/taxii+json;version=2.1`; a request whose `Accept` does not admit it
/// gets 406, a POST whose `Content-Type` is not it gets 415. Peers authenticate with a bearer token or
/// basic auth; a collection lists who may read and write it. TLP is enforced on the way in (an object
/// marked above the collection's `tlp_max` is refused, with the reason in the status) and on the way out
/// (nothing above `tlp_max` is ever served), and `tlp_max` itself can never exceed what the collection's
/// audience allows (`ResolvedIntelConfig.ceiling`).
public struct TAXIIServer: Sendable {
    public let config: ResolvedIntelConfig
    let storage: any IntelStorage
    let logger: Logger

    public init(config: ResolvedIntelConfig, storage: any IntelStorage, logger: Logger = Logger(label: "moat.taxii")) {
        self.config = config
        self.storage = storage
        self.logger = logger
    }

    var root: String { config.server.apiRoot }

    public func router() -> Router<TAXIIRequestContext> {
        let router = Router(context: TAXIIRequestContext.self)
        router.add(middleware: Gate(config: config))
        router.get("/taxii2") { request, context in try discovery(request, context) }
        router.get("/\(root)") { _, context in try apiRoot(context) }
        router.get("/\(root)/status/{status}") { _, context in try await status(context) }
        router.get("/\(root)/collections") { _, context in try collections(context) }
        router.get("/\(root)/collections/{collection}") { _, context in
            let c = try readable(context, write: true)
            return TAXIIMedia.response(.ok, collectionResource(c, caller: context.caller))
        }
        router.get("/\(root)/collections/{collection}/manifest") { request, context in try await manifest(request, context) }
        router.get("/\(root)/collections/{collection}/objects") { request, context in try await objects(request, context) }
        router.post("/\(root)/collections/{collection}/objects") { request, context in try await add(request, context) }
        router.get("/\(root)/collections/{collection}/objects/{object}") { request, context in try await object(request, context) }
        router.delete("/\(root)/collections/{collection}/objects/{object}") { request, context in try await delete(request, context) }
        router.get("/\(root)/collections/{collection}/objects/{object}/versions") { request, context in try await versions(request, context) }
        return router
    }

    public func application(host: String? = nil, port: Int? = nil) -> some ApplicationProtocol {
        Application(router: router(),
                    configuration: .init(address: .hostname(host ?? config.server.host, port: port ?? config.server.port), serverName: "moat-taxii"),
                    logger: logger)
    }

    // MARK: - Access

    /// Checks credentials and `Accept` before any route: 401 for credentials that match no peer, 406 for
    /// a client that does not accept TAXII 2.1, 415 for a POST body that is not TAXII 2.1.
    struct Gate: RouterMiddleware {
        typealias Context = TAXIIRequestContext
        let config: ResolvedIntelConfig

        func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
            var context = context
            context.caller = config.authenticate(request.headers[.authorization])
            if context.caller == .rejected { throw TAXIIError.unauthorized("the credentials match no configured peer") }
            guard TAXIIMedia.acceptable(request.headers[.accept]) else {
                throw TAXIIError(.notAcceptable, "Not Acceptable", "this server answers only \(TAXIIMedia.taxii); send it in Accept")
            }
            if request.method == .post, !(request.headers[.contentType].map(TAXIIMedia.isTAXII21) ?? false) {
                throw TAXIIError(.unsupportedMediaType, "Unsupported Media Type", "send objects as \(TAXIIMedia.taxii) (Content-Type)")
            }
            return try await next(request, context)
        }
    }

    func peerID(_ context: TAXIIRequestContext) -> String? { context.caller.peer }

    /// Whether the caller may see anything at all (discovery and the API root are not for strangers
    /// unless some collection is public).
    func requireSomeAccess(_ context: TAXIIRequestContext) throws(TAXIIError) {
        if context.caller == .anonymous, !config.collections.contains(where: \.isPublic) { throw .unauthorized() }
    }

    /// The collection of the path, if the caller may read it (or, with `write`, read or write it):
    /// 404 when there is no such collection, 401 for an anonymous caller, 403 for a peer without rights.
    func readable(_ context: TAXIIRequestContext, write: Bool = false) throws -> ResolvedIntelConfig.ResolvedCollection {
        let id = try context.parameters.require("collection")
        guard let c = config.collection(id) else { throw TAXIIError.notFound("no collection \(id)") }
        let peer = peerID(context)
        if c.canRead(peer) || (write && c.canWrite(peer)) { return c }
        if context.caller == .anonymous { throw TAXIIError.unauthorized() }
        throw TAXIIError.forbidden("peer \(peer ?? "-") may not \(write ? "use" : "read") collection \(id)")
    }

    // MARK: - Discovery, API root, collections, status

    func baseURL(_ request: Request) -> String {
        if let url = config.server.publicURL { return url.hasSuffix("/") ? String(url.dropLast()) : url }
        let host = request.head.authority ?? "\(config.server.host):\(config.server.port)"
        return "\(request.head.scheme ?? "http")://\(host)"
    }

    func discovery(_ request: Request, _ context: TAXIIRequestContext) throws -> Response {
        try requireSomeAccess(context)
        let rootURL = baseURL(request) + "/\(root)/"
        return TAXIIMedia.response(.ok, .fields([
            "title": .string(config.server.title),
            "description": config.server.description.map(JSONValue.string),
            "contact": config.server.contact.map(JSONValue.string),
            "default": .string(rootURL),
            "api_roots": [.string(rootURL)],
        ]))
    }

    func apiRoot(_ context: TAXIIRequestContext) throws -> Response {
        try requireSomeAccess(context)
        return TAXIIMedia.response(.ok, .object([
            ("title", .string(config.server.title)),
            ("description", .string(config.server.description ?? "Moat's distillation intelligence")),
            ("versions", [.string(TAXIIMedia.taxii)]),
            ("max_content_length", .int(config.server.maxContentLength)),
        ]))
    }

    func collectionResource(_ c: ResolvedIntelConfig.ResolvedCollection, caller: ResolvedIntelConfig.Caller) -> JSONValue {
        let peer = caller.peer
        let about = "Audience: \(c.audience); objects marked above \(c.tlpMax.label) are neither accepted nor served."
        return .object([
            ("id", .string(c.id)),
            ("title", .string(c.title)),
            ("description", .string((c.description.map { $0 + " " } ?? "") + about)),
            ("can_read", .bool(c.canRead(peer))),
            ("can_write", .bool(c.canWrite(peer))),
            ("media_types", [.string(TAXIIMedia.stix)]),
        ])
    }

    func collections(_ context: TAXIIRequestContext) throws -> Response {
        try requireSomeAccess(context)
        let peer = peerID(context)
        let visible = config.collections.filter { $0.canRead(peer) || $0.canWrite(peer) }
        if visible.isEmpty { return TAXIIMedia.response(.ok, .object([])) }
        return TAXIIMedia.response(.ok, .object([("collections", .array(visible.map { collectionResource($0, caller: context.caller) }))]))
    }

    func status(_ context: TAXIIRequestContext) async throws -> Response {
        let id = try context.parameters.require("status")
        guard case .peer(let peer) = context.caller else { throw TAXIIError.unauthorized() }
        let record = try await blocking { try storage.intelStatus(id: id) }
        guard let record, record.owner == peer else { throw TAXIIError.notFound("no status \(id) for peer \(peer)") }
        return TAXIIMedia.response(.ok, json: Array(record.json.utf8))
    }

    /// Runs blocking storage work off the event loops and the cooperative pool.
    func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}
