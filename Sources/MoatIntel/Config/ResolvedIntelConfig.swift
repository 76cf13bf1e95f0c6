import Crypto
import Foundation

/// `IntelConfig` checked and frozen: secrets read, keys decoded, every collection's audience known and
/// its TLP ceiling proved safe.
public struct ResolvedIntelConfig: Sendable {
    public var organisation: Producer?
    /// Every key we hold (current and previous), by key id: for matching.
    public var keyRing: KeyRing
    /// The current key of each trust group, by group id: for exporting.
    public var currentKeys: [String: TrustGroupKey]
    public var peers: [String: ResolvedPeer]
    public var collections: [ResolvedCollection]
    public var server: IntelConfig.Server

    /// The word in `read` that opens a collection to anonymous clients.
    public static let everyone = "everyone"

    public struct ResolvedPeer: Sendable {
        public var id: String
        public var name: String
        public var scheme: IntelConfig.AuthScheme
        public var username: String?
        /// SHA-256 of the token or password: what a presented secret is compared against.
        var secretDigest: [UInt8]
    }

    public struct ResolvedCollection: Sendable {
        public var id: String
        public var title: String
        public var description: String?
        /// Peer ids that may read and write.
        public var readers: Set<String>
        public var writers: Set<String>
        /// Anonymous clients may read.
        public var isPublic: Bool
        /// The highest TLP stored or served here.
        public var tlpMax: TLP
        /// The highest TLP its audience allows (`tlpMax` is at most this).
        public var audienceCeiling: TLP
        /// Who reads it, in words, for errors and the collection's description.
        public var audience: String

        public func canRead(_ peer: String?) -> Bool { isPublic || peer.map { readers.contains($0) } ?? false }
        public func canWrite(_ peer: String?) -> Bool { peer.map { writers.contains($0) } ?? false }
    }

    /// The TLP ceiling of an audience (TLP 2.0): anyone → CLEAR; several organisations → AMBER (GREEN and
    /// AMBER allow a community and its clients); one organisation reached through a group → AMBER+STRICT;
    /// one peer named in the collection itself → RED (the named recipient only).
    public static func ceiling(isPublic: Bool, readers: Set<String>, namedDirectly: Bool) -> TLP {
        if isPublic { return .clear }
        if readers.count > 1 { return .amber }
        if readers.count == 1 { return namedDirectly ? .red : .amberStrict }
        return .red
    }

    public static func resolve(_ config: IntelConfig, environment: [String: String],
                               readFile: (String) -> String?) throws(IntelError) -> ResolvedIntelConfig {
        var peers: [String: ResolvedPeer] = [:]
        var usernames = Set<String>()
        for p in config.peers {
            guard peers[p.id] == nil else { throw IntelError("peer \(p.id) is listed twice") }
            guard p.id != everyone else { throw IntelError("`\(everyone)` is reserved and cannot name a peer") }
            let secret = try p.secret.resolve("peer \(p.id)", environment: environment, readFile: readFile)
            guard secret.count >= 16 else { throw IntelError("peer \(p.id): the \(p.auth == .bearer ? "token" : "password") is shorter than 16 characters") }
            if p.auth == .basic {
                guard let u = p.username, !u.isEmpty else { throw IntelError("peer \(p.id): basic auth needs a username") }
                guard usernames.insert(u).inserted else { throw IntelError("peer \(p.id): username \(u) is used twice") }
            }
            peers[p.id] = ResolvedPeer(id: p.id, name: p.name ?? p.id, scheme: p.auth, username: p.username,
                                       secretDigest: Array(SHA256.hash(data: Array(secret.utf8))))
        }
        var groups: [String: Set<String>] = [:]
        var ring: [TrustGroupKey] = []
        var current: [String: TrustGroupKey] = [:]
        for g in config.trustGroups {
            guard groups[g.id] == nil else { throw IntelError("trust group \(g.id) is listed twice") }
            guard peers[g.id] == nil else { throw IntelError("trust group \(g.id) has the same id as a peer") }
            for m in g.members where peers[m] == nil { throw IntelError("trust group \(g.id): member \(m) is not a configured peer") }
            groups[g.id] = Set(g.members)
            for (i, entry) in ([g.key].compactMap { $0 } + g.previousKeys).enumerated() {
                let text = try entry.secret.resolve("trust group \(g.id) key \(entry.keyID)", environment: environment, readFile: readFile)
                guard let bytes = TrustGroupKey.decodeSecret(text) else {
                    throw IntelError("trust group \(g.id) key \(entry.keyID): not a key (64 hex digits or base64 of at least 16 bytes; make one with `moat intel key generate`)")
                }
                let key = try TrustGroupKey(group: g.id, keyID: entry.keyID, secret: bytes)
                guard !ring.contains(where: { $0.keyID == key.keyID }) else { throw IntelError("key id \(key.keyID) is used twice") }
                ring.append(key)
                if i == 0, g.key != nil { current[g.id] = key }
            }
        }
        var collections: [ResolvedCollection] = []
        for c in config.collections {
            guard !collections.contains(where: { $0.id == c.id }) else { throw IntelError("collection \(c.id) is listed twice") }
            guard !c.id.isEmpty, c.id.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-._~".unicodeScalars.contains($0)) }) else {
                throw IntelError("collection id `\(c.id)` may only use letters, digits, '-', '.', '_' and '~' (a UUID is best)")
            }
            func expand(_ names: [String], _ what: String) throws(IntelError) -> (Set<String>, Bool) {
                var out = Set<String>(), open = false
                for n in names {
                    if n == everyone { open = true } else if let g = groups[n] { out.formUnion(g) } else if peers[n] != nil { out.insert(n) } else {
                        throw IntelError("collection \(c.id): \(what) names `\(n)`, which is neither a trust group nor a peer (nor `\(everyone)`)")
                    }
                }
                return (out, open)
            }
            let (readers, open) = try expand(c.read, "read")
            let (writers, openWrite) = try expand(c.write, "write")
            guard !openWrite else { throw IntelError("collection \(c.id): `\(everyone)` may read a collection, never write it") }
            let named = readers.count == 1 && c.read.contains(readers.first!)
            let cap = Self.ceiling(isPublic: open, readers: readers, namedDirectly: named)
            let audience = open ? "anyone" : readers.isEmpty ? "no reader" : readers.count == 1 ? "peer \(readers.first!)" + (named ? "" : " (through a trust group)") : "\(readers.count) peers (\(readers.sorted().joined(separator: ", ")))"
            guard c.tlpMax <= cap else {
                throw IntelError("collection \(c.id): tlp_max \(c.tlpMax.label) is wider than its audience allows: \(audience) may receive at most \(cap.label) (AMBER+STRICT needs a single organisation, RED a single peer named in the collection's read list)")
            }
            collections.append(ResolvedCollection(id: c.id, title: c.title, description: c.description, readers: readers, writers: writers,
                                                  isPublic: open, tlpMax: c.tlpMax, audienceCeiling: cap, audience: audience))
        }
        guard config.server.defaultPageSize >= 1, config.server.maxPageSize >= config.server.defaultPageSize else {
            throw IntelError("server: default_page_size must be at least 1 and at most max_page_size")
        }
        guard config.server.apiRoot.range(of: "^[A-Za-z0-9._~-]+$", options: .regularExpression) != nil else {
            throw IntelError("server.api_root `\(config.server.apiRoot)` must be one path segment of letters, digits, '-', '.', '_' or '~'")
        }
        return ResolvedIntelConfig(organisation: config.organisation, keyRing: KeyRing(ring), currentKeys: current, peers: peers,
                                   collections: collections, server: config.server)
    }

    public func collection(_ id: String) -> ResolvedCollection? { collections.first { $0.id == id } }

    /// The outcome of checking a request's credentials.
    public enum Caller: Sendable, Equatable {
        case anonymous
        case peer(String)
        case rejected

        /// The peer's id, when it is one.
        public var peer: String? { if case .peer(let id) = self { return id } else { return nil } }
    }

    /// Checks an `Authorization` header: `Bearer TOKEN` (or `Token TOKEN`, as taxii2-client's TokenAuth
    /// sends it) or `Basic base64(user:password)`. Secrets are compared as SHA-256 digests in constant time.
    public func authenticate(_ header: String?) -> Caller {
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return .anonymous }
        guard let space = header.firstIndex(of: " ") else { return .rejected }
        let scheme = header[..<space].lowercased()
        let credentials = header[header.index(after: space)...].trimmingCharacters(in: .whitespaces)
        switch scheme {
        case "bearer", "token":
            let digest = Array(SHA256.hash(data: Array(credentials.utf8)))
            var found: String?
            for p in peers.values.sorted(by: { $0.id < $1.id }) where p.scheme == .bearer {
                if Self.same(p.secretDigest, digest) { found = p.id }
            }
            return found.map(Caller.peer) ?? .rejected
        case "basic":
            guard let data = Data(base64Encoded: credentials), let text = String(data: data, encoding: .utf8),
                  let colon = text.firstIndex(of: ":") else { return .rejected }
            let user = String(text[..<colon]), password = String(text[text.index(after: colon)...])
            let digest = Array(SHA256.hash(data: Array(password.utf8)))
            guard let p = peers.values.first(where: { $0.scheme == .basic && $0.username == user }) else {
                _ = Self.same(digest, digest)
                return .rejected
            }
            return Self.same(p.secretDigest, digest) ? .peer(p.id) : .rejected
        default:
            return .rejected
        }
    }

    static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
