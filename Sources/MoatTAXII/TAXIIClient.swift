import AsyncHTTPClient
import Foundation
import MoatIntel
import NIOCore
import NIOHTTP1

/// How a client authenticates to a peer's TAXII server.
public enum TAXIICredentials: Sendable {
    case none
    case bearer(String)
    case basic(username: String, password: String)

    var header: String? {
        switch self {
        case .none: return nil
        case .bearer(let token): return "Bearer " + token
        case .basic(let u, let p): return "Basic " + Data("\(u):\(p)".utf8).base64EncodedString()
        }
    }
}

/// A TAXII 2.1 client for `moat intel pull` and `moat intel push`: discovery, paging through a
/// collection's objects with `limit`/`next` (and `added_after` to resume), and adding objects.
public struct TAXIIClient: Sendable {
    public var credentials: TAXIICredentials
    public var timeout: TimeAmount

    public init(credentials: TAXIICredentials = .none, timeout: TimeAmount = .seconds(60)) {
        self.credentials = credentials
        self.timeout = timeout
    }

    /// What a pull brought back.
    public struct Pulled: Sendable {
        public var objects: [JSONValue]
        public var pages: Int
        /// `X-TAXII-Date-Added-Last` of the last page with objects: where the next pull resumes.
        public var lastDateAdded: String?
    }

    static func slash(_ url: String) -> String { url.hasSuffix("/") ? url : url + "/" }

    func send(_ method: HTTPMethod, _ url: String, body: [UInt8]? = nil) async throws(IntelError) -> (JSONValue, [String: String]) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: "application/taxii+json;version=2.1")
        if let auth = credentials.header { request.headers.add(name: "Authorization", value: auth) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/taxii+json;version=2.1")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let status: UInt
        let bytes: ByteBuffer
        var headers: [String: String] = [:]
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: timeout)
            status = response.status.code
            for (name, value) in response.headers { headers[name.lowercased()] = value }
            bytes = try await response.body.collect(upTo: 256 << 20)
        } catch {
            throw IntelError("\(method) \(url): \(error)")
        }
        let json: JSONValue
        do {
            json = bytes.readableBytes == 0 ? .object([]) : try JSONValue.parse(Array(buffer: bytes))
        } catch {
            throw IntelError("\(method) \(url): HTTP \(status), the answer is not JSON (\(error))")
        }
        guard (200..<300).contains(status) else {
            let title = json["title"]?.string ?? "HTTP \(status)"
            throw IntelError("\(method) \(url): \(status) \(title)" + (json["description"]?.string.map { ": " + $0 } ?? ""))
        }
        return (json, headers)
    }

    /// The API root to use for `url`: a discovery URL (`…/taxii2/`) leads to its default API root (or its
    /// only one); any other URL is taken as an API root.
    public func apiRoot(for url: String) async throws(IntelError) -> String {
        let u = Self.slash(url)
        guard u.hasSuffix("/taxii2/") else { return u }
        let (discovery, _) = try await send(.GET, u)
        if let d = discovery["default"]?.string { return Self.slash(absolute(d, base: u)) }
        guard let roots = discovery["api_roots"]?.strings, roots.count == 1 else {
            throw IntelError("\(u) lists \(discovery["api_roots"]?.array?.count ?? 0) API roots and no default; give one with --from")
        }
        return Self.slash(absolute(roots[0], base: u))
    }

    func absolute(_ ref: String, base: String) -> String {
        URL(string: ref, relativeTo: URL(string: base))?.absoluteString ?? ref
    }

    /// Every object of a collection added after `addedAfter`, page by page (`limit` per page, following `next`).
    public func pull(apiRoot: String, collection: String, addedAfter: String? = nil, pageSize: Int = 500,
                     progress: (Int) -> Void = { _ in }) async throws(IntelError) -> Pulled {
        var objects: [JSONValue] = []
        var next: String?
        var pages = 0
        var lastAdded: String?
        let base = Self.slash(apiRoot) + "collections/\(collection)/objects/"
        repeat {
            var query = ["limit=\(pageSize)"]
            if let addedAfter { query.append("added_after=" + Self.encode(addedAfter)) }
            if let next { query.append("next=" + Self.encode(next)) }
            let (page, headers) = try await send(.GET, base + "?" + query.joined(separator: "&"))
            pages += 1
            let items = page["objects"]?.array ?? []
            objects += items
            if !items.isEmpty, let last = headers["x-taxii-date-added-last"] { lastAdded = last }
            progress(objects.count)
            next = page["more"]?.bool == true ? page["next"]?.string : nil
            if page["more"]?.bool == true, next == nil {
                throw IntelError("\(base): the server says there is more but gives no `next`")
            }
            if pages > 100_000 { throw IntelError("\(base): more than 100,000 pages; stopping") }
        } while next != nil
        return Pulled(objects: objects, pages: pages, lastDateAdded: lastAdded)
    }

    /// Adds objects to a collection and returns the status resource (polling it until complete).
    public func push(apiRoot: String, collection: String, objects: [JSONValue]) async throws(IntelError) -> JSONValue {
        let envelope: JSONValue = .object([("objects", .array(objects))])
        var (status, _) = try await send(.POST, Self.slash(apiRoot) + "collections/\(collection)/objects/", body: envelope.serialized())
        var polls = 0
        while status["status"]?.string == "pending", let id = status["id"]?.string, polls < 60 {
            try? await Task.sleep(for: .seconds(1))
            (status, _) = try await send(.GET, Self.slash(apiRoot) + "status/\(id)/")
            polls += 1
        }
        return status
    }

    static func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~:"))) ?? s
    }
}
