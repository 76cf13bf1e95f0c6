import Crypto
import Foundation
import Hummingbird
import HummingbirdTLS
import HummingbirdTesting
import MoatCore
import MoatGateway
import MoatStore
import MoatTesting
import NIOSSL
import Testing
import X509

/// Real providers are HTTPS: the upstream client speaks TLS and verifies the certificate. A local TLS
/// upstream (the mock) with a certificate for `localhost`, signed by a test CA made here and trusted
/// through the upstream's `ca_file`; the same upstream untrusted, or under another name, is refused.
@Suite("moat serve: TLS to the upstream")
struct GatewayTLSTests {
    /// A throwaway CA and a `localhost` server certificate, made for this run (never written to the repository).
    struct TestPKI {
        let caPEM: String
        let serverChain: [NIOSSLCertificate]
        let serverKey: NIOSSLPrivateKey

        init() throws {
            let caKey = P256.Signing.PrivateKey()
            let caName = try DistinguishedName { CommonName("Moat test CA") }
            let now = Date()
            let ca = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(caKey.publicKey),
                notValidBefore: now.addingTimeInterval(-3_600), notValidAfter: now.addingTimeInterval(3_600),
                issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                    Critical(KeyUsage(keyCertSign: true))
                },
                issuerPrivateKey: .init(caKey))
            let key = P256.Signing.PrivateKey()
            let leaf = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
                notValidBefore: now.addingTimeInterval(-3_600), notValidAfter: now.addingTimeInterval(3_600),
                issuer: caName, subject: try DistinguishedName { CommonName("localhost") }, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    SubjectAlternativeNames([.dnsName("localhost")])
                    try ExtendedKeyUsage([.serverAuth])
                },
                issuerPrivateKey: .init(caKey))
            caPEM = try ca.serializeAsPEM().pemString
            serverChain = [try NIOSSLCertificate(bytes: Array(try leaf.serializeAsPEM().pemString.utf8), format: .pem)]
            serverKey = try NIOSSLPrivateKey(bytes: Array(key.pemRepresentation.utf8), format: .pem)
        }
    }

    /// Runs `body` with the mock upstream on TLS and the CA's PEM in a file.
    static func withTLSUpstream(_ body: @escaping @Sendable (_ port: Int, _ caFile: String) async throws -> Void) async throws {
        let pki = try TestPKI()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moat-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let caFile = dir.appendingPathComponent("ca.pem").path
        try pki.caPEM.write(toFile: caFile, atomically: true, encoding: .utf8)
        let tls = TLSConfiguration.makeServerConfiguration(certificateChain: pki.serverChain.map { .certificate($0) },
                                                           privateKey: .privateKey(pki.serverKey))
        let app = Application(router: MockUpstream().router(), server: try .tls(.http1(), tlsConfiguration: tls),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: GatewayHarness.logger)
        try await app.test(.live) { client in
            try await body(try requireNonNil(client.port), caFile)
        }
    }

    /// A gateway whose upstreams are `url`, with `caFile` trusted.
    static func withGateway(url: String, caFile: String?, _ body: @Sendable (GatewayHarness.Reply, MoatStore, Gateway) async throws -> Void) async throws {
        var config = GatewayConfig()
        config.listen = .init(host: "127.0.0.1", port: 0)
        config.upstreams.openai = .init(url: url, caFile: caFile)
        config.upstreams.anthropic = .init(url: url, caFile: caFile)
        let store = try MoatStore.temporary()
        let key = try store.createKey(account: "acct-tls")
        let gateway = try Gateway(config: config, store: store, logger: GatewayHarness.logger)
        try await gateway.proxyApplication().test(.live) { client in
            let port = try requireNonNil(client.port)
            let h = GatewayHarness(gateway: gateway, store: store, key: key, port: port, mockPort: 0)
            let reply = try await h.send("/v1/messages", #"{"model":"m","max_tokens":32,"messages":[{"role":"user","content":"over tls"}]}"#)
            _ = await gateway.waitUntilLogged()
            try await body(reply, store, gateway)
        }
        await gateway.shutdown()
    }

    @Test func aTLSUpstreamSignedByATrustedCAIsReached() async throws {
        try await Self.withTLSUpstream { port, caFile in
            try await Self.withGateway(url: "https://localhost:\(port)", caFile: caFile) { reply, store, _ in
                #expect(reply.status == 200, "\(reply.body)")
                #expect(reply.json?["type"] as? String == "message")
                var lines: [String] = []
                try store.exportExchanges { lines.append($0) }
                #expect(lines.count == 1)
            }
        }
    }

    @Test func anUntrustedCertificateIsRefused() async throws {
        try await Self.withTLSUpstream { port, _ in
            try await Self.withGateway(url: "https://localhost:\(port)", caFile: nil) { reply, store, _ in
                #expect(reply.status == 502)
                #expect(reply.body.contains("unavailable"))
                let count = try store.exchangeCount()
                #expect(count == 0)
            }
        }
    }

    @Test func aCertificateForAnotherNameIsRefused() async throws {
        try await Self.withTLSUpstream { port, caFile in
            try await Self.withGateway(url: "https://127.0.0.1:\(port)", caFile: caFile) { reply, _, _ in
                #expect(reply.status == 502)
            }
        }
    }
}
