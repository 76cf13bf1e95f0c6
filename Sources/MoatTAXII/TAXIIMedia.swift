import Foundation
import Hummingbird
import MoatIntel
import NIOCore

/// TAXII 2.1 media types (section 1.6.8) and responses.
enum TAXIIMedia {
    static let taxii = "application/taxii+json;version=2.1"
    static let stix = "application/stix+json;version=2.1"

    /// Whether an `Accept` header admits TAXII 2.1: one of its items is `application/taxii+json` with
    /// no version or version 2.1 (parameters in any order, white space ignored). A missing header, `*/*`,
    /// `application/json` or another version does not: the server answers 406.
    static func acceptable(_ header: String?) -> Bool {
        guard let header else { return false }
        for item in header.split(separator: ",") {
            if isTAXII21(item) { return true }
        }
        return false
    }

    /// Whether a `Content-Type` is TAXII 2.1 (else 415).
    static func isTAXII21<S: StringProtocol>(_ value: S) -> Bool {
        let parts = value.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard parts.first == "application/taxii+json" else { return false }
        for p in parts.dropFirst() {
            let kv = p.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2, kv[0] == "version", kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) != "2.1" { return false }
        }
        return true
    }

    static func response(_ status: HTTPResponse.Status, json bytes: [UInt8], headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: taxii]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func response(_ status: HTTPResponse.Status, _ value: JSONValue, headers: HTTPFields = [:]) -> Response {
        response(status, json: value.serialized(), headers: headers)
    }
}

/// A TAXII error resource (section 3.6.1) as a response: `{"title", "description", "http_status"}`.
struct TAXIIError: HTTPResponseError {
    var status: HTTPResponse.Status
    var title: String
    var description: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ title: String, _ description: String, headers: HTTPFields = [:]) {
        self.status = status
        self.title = title
        self.description = description
        self.headers = headers
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        TAXIIMedia.response(status, .object([
            ("title", .string(title)), ("description", .string(description)), ("http_status", .string(String(status.code))),
        ]), headers: headers)
    }

    static func unauthorized(_ why: String = "this resource needs a peer's credentials (Authorization: Bearer TOKEN or Basic)") -> TAXIIError {
        TAXIIError(.unauthorized, "Unauthorized", why, headers: [.wwwAuthenticate: "Bearer realm=\"taxii\", Basic realm=\"taxii\""])
    }
    static func forbidden(_ why: String) -> TAXIIError { TAXIIError(.forbidden, "Forbidden", why) }
    static func notFound(_ why: String) -> TAXIIError { TAXIIError(.notFound, "Not Found", why) }
    static func badRequest(_ why: String) -> TAXIIError { TAXIIError(.badRequest, "Bad Request", why) }
}
