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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(name: "MoatCore"),
        .target(name: "MoatDetect", dependencies: ["MoatCore"]),
        .target(name: "MoatSimulate", dependencies: ["MoatCore"]),
        .target(name: "MoatEvaluate", dependencies: ["MoatCore"]),
        .executableTarget(
            name: "moat",
            dependencies: [
                "MoatCore", "MoatDetect", "MoatSimulate", "MoatEvaluate",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "MoatCoreTests", dependencies: ["MoatCore"]),
        .testTarget(name: "MoatDetectTests", dependencies: ["MoatDetect", "MoatSimulate", "MoatEvaluate"]),
        .testTarget(name: "MoatSimulateTests", dependencies: ["MoatSimulate"]),
        .testTarget(name: "MoatEvaluateTests", dependencies: ["MoatEvaluate"]),
        .testTarget(name: "MoatCLITests", dependencies: ["MoatCore"]),
    ],
    swiftLanguageModes: [.v6]
)
