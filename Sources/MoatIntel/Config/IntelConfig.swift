import Foundation

/// `moat intel` configuration (YAML): who we are, our trust groups and their keys, and the TAXII
/// server's peers and collections. Decoded once, checked by `resolve(environment:readFile:)`, then
/// frozen into a `ResolvedIntelConfig`.
///
/// ```yaml
/// organisation: {name: Example Lab, contact: security@example.com}
/// trust_groups:
///   - id: frontier-labs
///     key_id: fl-2026-04
///     key_env: MOAT_KEY_FRONTIER_LABS          # or key_file: /etc/moat/fl.key, or key: <hex>
///     previous_keys: [{key_id: fl-2026-01, key_file: /etc/moat/fl-old.key}]
///     members: [lab-b, lab-c]
/// peers:
///   - {id: lab-b, auth: bearer, token_env: MOAT_PEER_LAB_B}
///   - {id: lab-c, auth: basic, username: lab-c, password_env: MOAT_PEER_LAB_C}
///   - {id: us, auth: bearer, token_env: MOAT_PUBLISHER}   # our own publisher
/// collections:
///   - {id: 4ad4f8b4-…, title: Distillation indicators, read: [frontier-labs, us], write: [us], tlp_max: amber}
/// server: {host: 127.0.0.1, port: 9300, store: intel.sqlite, api_root: api1}
/// ```
public struct IntelConfig: Sendable, Decodable, Equatable {
    public var organisation: Producer?
    public var trustGroups: [TrustGroup]
    public var peers: [Peer]
    public var collections: [Collection]
    public var server: Server

    public init(organisation: Producer? = nil, trustGroups: [TrustGroup] = [], peers: [Peer] = [], collections: [Collection] = [],
                server: Server = Server()) {
        self.organisation = organisation
        self.trustGroups = trustGroups
        self.peers = peers
        self.collections = collections
        self.server = server
    }

    enum CodingKeys: String, CodingKey {
        case organisation, organization, peers, collections, server
        case trustGroups = "trust_groups"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        organisation = try c.decodeIfPresent(Producer.self, forKey: .organisation) ?? c.decodeIfPresent(Producer.self, forKey: .organization)
        trustGroups = try c.decodeIfPresent([TrustGroup].self, forKey: .trustGroups) ?? []
        peers = try c.decodeIfPresent([Peer].self, forKey: .peers) ?? []
        collections = try c.decodeIfPresent([Collection].self, forKey: .collections) ?? []
        server = try c.decodeIfPresent(Server.self, forKey: .server) ?? Server()
    }

    /// Where a secret comes from: the environment (preferred), a file, or the config itself.
    public struct SecretSource: Sendable, Equatable, Decodable {
        public var value: String?
        public var env: String?
        public var file: String?

        public init(value: String? = nil, env: String? = nil, file: String? = nil) {
            self.value = value
            self.env = env
            self.file = file
        }

        var isEmpty: Bool { value == nil && env == nil && file == nil }

        func resolve(_ what: String, environment: [String: String], readFile: (String) -> String?) throws(IntelError) -> String {
            if let env {
                guard let v = environment[env], !v.isEmpty else { throw IntelError("\(what): environment variable \(env) is not set") }
                return v.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if let file {
                guard let v = readFile(file) else { throw IntelError("\(what): cannot read \(file)") }
                return v.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if let value { return value }
            throw IntelError("\(what): no secret given (key_env, key_file or key)")
        }
    }

    public struct KeyEntry: Sendable, Equatable, Decodable {
        public var keyID: String
        public var secret: SecretSource

        public init(keyID: String, secret: SecretSource) {
            self.keyID = keyID
            self.secret = secret
        }

        enum CodingKeys: String, CodingKey {
            case keyID = "key_id", key, keyEnv = "key_env", keyFile = "key_file"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            keyID = try c.decode(String.self, forKey: .keyID)
            secret = SecretSource(value: try c.decodeIfPresent(String.self, forKey: .key), env: try c.decodeIfPresent(String.self, forKey: .keyEnv),
                                  file: try c.decodeIfPresent(String.self, forKey: .keyFile))
        }
    }

    /// Labs that share a key and read each other's collections.
    public struct TrustGroup: Sendable, Equatable, Decodable {
        public var id: String
        /// The current key; hashes are made with it.
        public var key: KeyEntry?
        /// Earlier keys, kept to match indicators made before a rotation until they expire.
        public var previousKeys: [KeyEntry]
        /// Peer ids.
        public var members: [String]

        public init(id: String, key: KeyEntry? = nil, previousKeys: [KeyEntry] = [], members: [String] = []) {
            self.id = id
            self.key = key
            self.previousKeys = previousKeys
            self.members = members
        }

        enum CodingKeys: String, CodingKey {
            case id, members, key, keyEnv = "key_env", keyFile = "key_file", keyID = "key_id", previousKeys = "previous_keys"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            members = try c.decodeIfPresent([String].self, forKey: .members) ?? []
            previousKeys = try c.decodeIfPresent([KeyEntry].self, forKey: .previousKeys) ?? []
            let secret = SecretSource(value: try c.decodeIfPresent(String.self, forKey: .key), env: try c.decodeIfPresent(String.self, forKey: .keyEnv),
                                      file: try c.decodeIfPresent(String.self, forKey: .keyFile))
            if let keyID = try c.decodeIfPresent(String.self, forKey: .keyID) {
                key = KeyEntry(keyID: keyID, secret: secret)
            } else if !secret.isEmpty {
                throw DecodingError.dataCorruptedError(forKey: .keyID, in: c, debugDescription: "trust group \(id): a key needs a key_id")
            } else {
                key = nil
            }
        }
    }

    public enum AuthScheme: String, Sendable, Equatable, Decodable {
        case bearer, basic
    }

    /// A peer lab (or our own publisher) that may call the TAXII server.
    public struct Peer: Sendable, Equatable, Decodable {
        public var id: String
        public var name: String?
        public var auth: AuthScheme
        /// The bearer token (bearer), or the password (basic).
        public var secret: SecretSource
        public var username: String?

        public init(id: String, name: String? = nil, auth: AuthScheme, secret: SecretSource, username: String? = nil) {
            self.id = id
            self.name = name
            self.auth = auth
            self.secret = secret
            self.username = username
        }

        enum CodingKeys: String, CodingKey {
            case id, name, auth, token, username, password
            case tokenEnv = "token_env", tokenFile = "token_file", passwordEnv = "password_env", passwordFile = "password_file"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            name = try c.decodeIfPresent(String.self, forKey: .name)
            auth = try c.decodeIfPresent(AuthScheme.self, forKey: .auth) ?? .bearer
            username = try c.decodeIfPresent(String.self, forKey: .username)
            switch auth {
            case .bearer:
                secret = SecretSource(value: try c.decodeIfPresent(String.self, forKey: .token), env: try c.decodeIfPresent(String.self, forKey: .tokenEnv),
                                      file: try c.decodeIfPresent(String.self, forKey: .tokenFile))
            case .basic:
                secret = SecretSource(value: try c.decodeIfPresent(String.self, forKey: .password),
                                      env: try c.decodeIfPresent(String.self, forKey: .passwordEnv),
                                      file: try c.decodeIfPresent(String.self, forKey: .passwordFile))
            }
        }
    }

    /// A TAXII collection: who reads it, who writes it, and the highest TLP it may hold.
    public struct Collection: Sendable, Equatable, Decodable {
        public var id: String
        public var title: String
        public var description: String?
        /// Trust-group ids, peer ids, or `everyone` (anonymous read; TLP:CLEAR only).
        public var read: [String]
        public var write: [String]
        public var tlpMax: TLP

        public init(id: String, title: String, description: String? = nil, read: [String], write: [String] = [], tlpMax: TLP) {
            self.id = id
            self.title = title
            self.description = description
            self.read = read
            self.write = write
            self.tlpMax = tlpMax
        }

        enum CodingKeys: String, CodingKey {
            case id, title, description, read, write
            case tlpMax = "tlp_max"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            id = try c.decode(String.self, forKey: .id)
            title = try c.decodeIfPresent(String.self, forKey: .title) ?? id
            description = try c.decodeIfPresent(String.self, forKey: .description)
            read = try c.decodeIfPresent([String].self, forKey: .read) ?? []
            write = try c.decodeIfPresent([String].self, forKey: .write) ?? []
            let text = try c.decodeIfPresent(String.self, forKey: .tlpMax) ?? "amber"
            guard let t = TLP(text: text) else {
                throw DecodingError.dataCorruptedError(forKey: .tlpMax, in: c, debugDescription: "collection \(id): tlp_max `\(text)` is not one of clear, green, amber, amber+strict, red")
            }
            tlpMax = t
        }
    }

    public struct Server: Sendable, Equatable, Decodable {
        public var host = "127.0.0.1"
        public var port = 9300
        public var store = "intel.sqlite"
        public var title = "Moat TAXII server"
        public var description: String?
        public var contact: String?
        /// The API root's path segment: `/api1/`.
        public var apiRoot = "api1"
        /// The base URL clients reach the server at (behind a proxy); default: from the request's Host.
        public var publicURL: String?
        public var defaultPageSize = 100
        public var maxPageSize = 1000
        public var maxContentLength = 10 << 20
        /// The TLP an object without any TLP marking is treated as.
        public var unmarkedAs: TLP = .amber

        public init() {}

        enum CodingKeys: String, CodingKey {
            case host, port, store, title, description, contact
            case apiRoot = "api_root", publicURL = "public_url", defaultPageSize = "default_page_size", maxPageSize = "max_page_size"
            case maxContentLength = "max_content_length", unmarkedAs = "unmarked_as"
        }

        public init(from decoder: any Decoder) throws {
            self.init()
            let c = try decoder.container(keyedBy: CodingKeys.self)
            host = try c.decodeIfPresent(String.self, forKey: .host) ?? host
            port = try c.decodeIfPresent(Int.self, forKey: .port) ?? port
            store = try c.decodeIfPresent(String.self, forKey: .store) ?? store
            title = try c.decodeIfPresent(String.self, forKey: .title) ?? title
            description = try c.decodeIfPresent(String.self, forKey: .description)
            contact = try c.decodeIfPresent(String.self, forKey: .contact)
            apiRoot = try c.decodeIfPresent(String.self, forKey: .apiRoot) ?? apiRoot
            publicURL = try c.decodeIfPresent(String.self, forKey: .publicURL)
            defaultPageSize = try c.decodeIfPresent(Int.self, forKey: .defaultPageSize) ?? defaultPageSize
            maxPageSize = try c.decodeIfPresent(Int.self, forKey: .maxPageSize) ?? maxPageSize
            maxContentLength = try c.decodeIfPresent(Int.self, forKey: .maxContentLength) ?? maxContentLength
            if let text = try c.decodeIfPresent(String.self, forKey: .unmarkedAs) {
                guard let t = TLP(text: text) else {
                    throw DecodingError.dataCorruptedError(forKey: .unmarkedAs, in: c, debugDescription: "server.unmarked_as `\(text)` is not a TLP level")
                }
                unmarkedAs = t
            }
        }
    }
}
