import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// One configured upstream for one API: where it is, how to reach it (TLS with certificate verification
/// for `https`), and the request headers every forwarded request carries. Built once at startup.
final class UpstreamEndpoint: Sendable {
    /// A parsed `http(s)://host[:port][/base]` URL.
    struct Address: Sendable, Hashable {
        var tls: Bool
        var host: String
        var port: Int
        /// A path prefix the API paths are appended to (no trailing slash), often empty.
        var basePath: String

        init?(url: String) {
            guard let u = URLComponents(string: url), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https",
                  let host = u.host, !host.isEmpty, u.query == nil, u.fragment == nil else { return nil }
            tls = scheme == "https"
            self.host = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
            port = u.port ?? (tls ? 443 : 80)
            guard (1...65_535).contains(port) else { return nil }
            var path = u.percentEncodedPath
            while path.hasSuffix("/") { path.removeLast() }
            basePath = path
        }

        /// The `Host` header: the host, and the port when it is not the scheme's default.
        var hostHeader: String {
            let h = host.contains(":") ? "[\(host)]" : host
            return port == (tls ? 443 : 80) ? h : "\(h):\(port)"
        }
    }

    let api: ModelAPI
    let index: Int
    let url: String
    let address: Address
    let tlsContext: NIOSSLContext?
    /// `POST {base}/v1/...`.
    let requestPath: String
    /// The start of every request, as bytes: request line, host, content type, the provider key.
    let requestPrefix: [UInt8]
    /// Request headers copied from the client when present (`forward_headers`).
    let forwardHeaders: [String]
    /// The providers' request headers, always passed on.
    static let providerHeaders = ["anthropic-version", "anthropic-beta", "openai-organization", "openai-project"]
    /// Anthropic: the version header to send when the client sent none.
    let defaultVersion: String?

    init(api: ModelAPI, index: Int, upstream: GatewayConfig.Upstream, forwardHeaders: [String]) throws {
        guard let address = Address(url: upstream.url) else { throw ConfigError(description: "not an http(s) URL: \(upstream.url)") }
        self.api = api
        self.index = index
        url = upstream.url
        self.address = address
        requestPath = address.basePath + api.path
        if address.tls {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.certificateVerification = .fullVerification
            if let ca = upstream.caFile { tls.additionalTrustRoots = [.file(ca)] }
            tls.applicationProtocols = ["http/1.1"]
            do {
                tlsContext = try NIOSSLContext(configuration: tls)
            } catch {
                throw ConfigError(description: "upstream \(upstream.url): cannot set up TLS: \(error)")
            }
        } else {
            tlsContext = nil
        }
        var prefix = "POST \(requestPath) HTTP/1.1\r\nhost: \(address.hostHeader)\r\ncontent-type: application/json\r\n"
        if let key = upstream.resolvedKey() {
            prefix += api == .anthropic ? "x-api-key: \(key)\r\n" : "authorization: Bearer \(key)\r\n"
        }
        requestPrefix = Array(prefix.utf8)
        var forwarded = Self.providerHeaders
        for name in forwardHeaders.map({ $0.lowercased() }) where !forwarded.contains(name) {
            // Moat sets these itself.
            if ["host", "content-type", "content-length", "authorization", "x-api-key", "connection", "transfer-encoding"].contains(name) { continue }
            forwarded.append(name)
        }
        self.forwardHeaders = forwarded
        defaultVersion = api == .anthropic ? "2023-06-01" : nil
    }

    /// The request for a client request, as one buffer: the fixed prefix, the forwarded headers, the
    /// body's length, the body as it came.
    func request(client: HTTPHeaders, body: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out = allocator.buffer(capacity: requestPrefix.count + 64 + body.readableBytes)
        out.writeBytes(requestPrefix)
        var sawVersion = false
        for name in forwardHeaders {
            for value in client[name] {
                out.writeString(name)
                out.writeStaticString(": ")
                out.writeString(value)
                out.writeStaticString("\r\n")
                if name == "anthropic-version" { sawVersion = true }
            }
        }
        if let v = defaultVersion, !sawVersion {
            out.writeStaticString("anthropic-version: ")
            out.writeString(v)
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("content-length: ")
        out.writeString(String(body.readableBytes))
        out.writeStaticString("\r\n\r\n")
        var b = body
        out.writeBuffer(&b)
        return out
    }
}
