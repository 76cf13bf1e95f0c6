// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "moat",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "moat", targets: ["moat"]),
        .library(name: "MoatCore", targets: ["MoatCore"]),
        .library(name: "MoatDetect", targets: ["MoatDetect"]),
        .library(name: "MoatSimulate", targets: ["MoatSimulate"]),
        .library(name: "MoatEvaluate", targets: ["MoatEvaluate"]),
        .library(name: "MoatStore", targets: ["MoatStore"]),
        .library(name: "MoatStorePostgres", targets: ["MoatStorePostgres"]),
        .library(name: "MoatGateway", targets: ["MoatGateway"]),
        .library(name: "MoatReport", targets: ["MoatReport"]),
        .library(name: "MoatIntel", targets: ["MoatIntel"]),
        .library(name: "MoatTAXII", targets: ["MoatTAXII"]),
        .library(name: "MoatProvenance", targets: ["MoatProvenance"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Pure Swift, no networking: contract types, the engine, the simulator, the scorer.
        .target(name: "MoatCore"),
        .target(name: "MoatDetect", dependencies: ["MoatCore"]),
        .target(name: "MoatSimulate", dependencies: ["MoatCore"]),
        .target(name: "MoatEvaluate", dependencies: ["MoatCore"]),
        // The self-contained HTML campaign report and its SVG charts (pure: no I/O).
        .target(name: "MoatReport", dependencies: ["MoatCore"]),
        // The keyed text watermark (streaming) and its exact test; pure, no I/O.
        .target(
            name: "MoatProvenance",
            dependencies: ["MoatCore", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Persistence: keys, accounts, the exchange log, verdicts and audit, in embedded SQLite.
        .target(
            name: "MoatStore",
            dependencies: [
                "MoatCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The shared store of gateway replicas, in PostgreSQL: keys, accounts, verdicts, audit, leased limits.
        // Its own module, so that the embedded (SQLite) parts do not carry a PostgreSQL client.
        .target(
            name: "MoatStorePostgres",
            dependencies: [
                "MoatCore", "MoatStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The inline gateway, on Hummingbird's server with its own NIO pipeline and upstream client.
        .target(
            name: "MoatGateway",
            dependencies: [
                "MoatCore", "MoatDetect", "MoatStore", "MoatReport", "MoatIntel", "MoatProvenance",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Shared intelligence, pure: STIX 2.1 objects, TLP, keyed hashes, bundles from reports, the matcher.
        .target(name: "MoatIntel", dependencies: ["MoatCore", "MoatDetect", .product(name: "Crypto", package: "swift-crypto")]),
        // The TAXII 2.1 server and client over the store, on Hummingbird.
        .target(
            name: "MoatTAXII",
            dependencies: [
                "MoatCore", "MoatIntel", "MoatStore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Test doubles and tools, outside the production modules: the deterministic mock upstream.
        .target(
            name: "MoatTesting",
            dependencies: [
                "MoatCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Test support only (no production module depends on it): real PostgreSQL and nginx servers of a test's own.
        .target(name: "MoatTestServers"),
        .executableTarget(
            name: "moat",
            dependencies: [
                "MoatCore", "MoatDetect", "MoatSimulate", "MoatEvaluate", "MoatStore", "MoatGateway", "MoatReport",
                "MoatIntel", "MoatTAXII", "MoatTesting", "MoatProvenance", "MoatStorePostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Development tool for detection work (not shipped): replay a simulated scenario with overrides.
        .executableTarget(name: "moat-lab", dependencies: ["MoatCore", "MoatDetect", "MoatEvaluate", "MoatSimulate"],
                          path: "Tools/MoatLab"),
        .testTarget(name: "MoatCoreTests", dependencies: ["MoatCore"]),
        .testTarget(name: "MoatDetectTests", dependencies: ["MoatDetect", "MoatSimulate", "MoatEvaluate"]),
        .testTarget(name: "MoatSimulateTests", dependencies: ["MoatSimulate"]),
        .testTarget(name: "MoatEvaluateTests", dependencies: ["MoatEvaluate"]),
        .testTarget(name: "MoatReportTests", dependencies: ["MoatReport"]),
        .testTarget(name: "MoatProvenanceTests", dependencies: ["MoatProvenance"]),
        .testTarget(name: "MoatStoreTests", dependencies: ["MoatStore", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "MoatGatewayTests",
            dependencies: [
                "MoatGateway", "MoatStore", "MoatSimulate", "MoatDetect", "MoatTesting", "MoatIntel", "MoatProvenance",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "MoatCLITests", dependencies: ["MoatCore", "MoatTestServers"]),
        .testTarget(name: "MoatStorePostgresTests", dependencies: ["MoatStorePostgres", "MoatStore", "MoatCore", "MoatTestServers"]),
        .testTarget(name: "MoatIntelTests", dependencies: ["MoatIntel", "MoatCore", "MoatDetect"]),
        .testTarget(
            name: "MoatTAXIITests",
            dependencies: [
                "MoatTAXII", "MoatIntel", "MoatStore",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
