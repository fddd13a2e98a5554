// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Arbiter",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "arbiter", targets: ["arbiter"]),
        .library(name: "EVMPrimitives", targets: ["EVMPrimitives"]),
        .library(name: "EVMCodec", targets: ["EVMCodec"]),
        .library(name: "EVMSigning", targets: ["EVMSigning"]),
        .library(name: "AMMMath", targets: ["AMMMath"]),
        .library(name: "MarketState", targets: ["MarketState"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-crypto", "4.0.0"..<"5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // primitives
        .target(name: "CIntrinsics"),
        // the operator's HTTP surface
        .target(name: "ArbiterServer", dependencies: ["EVMCodec", .product(name: "Hummingbird", package: "hummingbird"),
                                                      .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                                                      .product(name: "HTTPTypes", package: "swift-http-types"), .product(name: "Logging", package: "swift-log"),
                                                      .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
                resources: [.copy("Dashboard")]),
        .target(name: "EVMPrimitives", dependencies: ["CIntrinsics"]),
        // codecs & signing
        .target(name: "EVMCodec", dependencies: ["EVMPrimitives"]),
        .systemLibrary(
            name: "CSecp256k1",
            pkgConfig: "libsecp256k1",
            providers: [.apt(["libsecp256k1-dev"])]
        ),
        .target(name: "EVMSigning", dependencies: ["EVMPrimitives", "EVMCodec", "CSecp256k1"]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .target(name: "CowProtocol", dependencies: ["EVMPrimitives", "EVMCodec", "EVMSigning"]),
        .target(name: "SolanaPrimitives", dependencies: ["EVMPrimitives", .product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "SolanaClient",
            dependencies: ["SolanaPrimitives", "JSONRPC", "EVMCodec", .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio")]
        ),
        // pure models
        .target(name: "AMMMath", dependencies: ["EVMPrimitives", "EVMCodec"]),
        .target(name: "Opportunities", dependencies: ["EVMPrimitives", "EVMCodec", "SolanaPrimitives"]),
        .target(name: "SolanaVenues", dependencies: ["AMMMath", "SolanaPrimitives", "EVMPrimitives", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "SolanaDetection", dependencies: ["SolanaVenues", "AMMMath", "Opportunities", "SolanaPrimitives", "EVMPrimitives"]),
        .target(name: "Signals"),
        .target(
            name: "Registry",
            dependencies: ["EVMPrimitives", .product(name: "TOMLKit", package: "TOMLKit")],
            resources: [.copy("Data")]
        ),
        .target(
            name: "ExecutorContracts",
            dependencies: ["EVMPrimitives", "EVMCodec"],
            resources: [.copy("Artifacts")]
        ),
        // transport
        .target(
            name: "JSONRPC",
            dependencies: [
                "EVMCodec",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "StreamBus",
            dependencies: [
                "Opportunities",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "Feeds",
            dependencies: [
                "EVMPrimitives",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(name: "EthClient", dependencies: ["JSONRPC", "EVMCodec", "EVMPrimitives", "AMMMath"]),
        // recorded inputs (record, replay, backtest)
        .target(name: "Recording", dependencies: ["CZlib", "CZstd"]),
        // engine
        .target(name: "MarketState", dependencies: ["EVMPrimitives", "EVMCodec", "AMMMath", "CowProtocol"]),
        .target(
            name: "MarketWatch",
            dependencies: [
                "MarketState", "EthClient", "JSONRPC", "AMMMath", "EVMCodec", "EVMPrimitives", "CowProtocol",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(name: "Detection", dependencies: ["AMMMath", "MarketState", "Opportunities", "Signals", "EVMPrimitives", "CowProtocol", "SolanaPrimitives"]),
        .target(
            name: "SolanaWatch",
            dependencies: [
                "SolanaDetection", "SolanaClient", "SolanaVenues", "SolanaPrimitives", "StreamBus", "Opportunities", "JSONRPC", "AMMMath",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Pipeline",
            dependencies: [
                "Detection", "Execution", "MarketWatch", "MarketState", "StreamBus", "Opportunities", "Signals", "AMMMath", "EVMPrimitives", "Feeds",
                "CowProtocol", "EthClient", "JSONRPC", "SolanaExecution",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "Execution",
            dependencies: [
                "Opportunities", "EVMPrimitives", "EVMCodec", "EVMSigning", "AMMMath", "MarketState", "MarketWatch", "EthClient", "JSONRPC",
                "SolanaPrimitives", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SolanaExecution",
            dependencies: ["Execution", "SolanaClient", "SolanaPrimitives", "Opportunities", "JSONRPC", "MarketWatch", "EVMPrimitives", "EVMCodec",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "DetectBench", dependencies: ["Detection", "MarketState", "AMMMath", "Opportunities", "StreamBus", "EVMPrimitives", "SolanaDetection", "SolanaVenues", "SolanaPrimitives"]),
        .target(name: "CMallocCount"),
        .target(name: "LabKit", dependencies: ["EVMCodec"]),
        // coverage-guided fuzzing (scripts/fuzz): each decoder's properties, shared by the harness and FuzzCorpusTests
        .target(
            name: "FuzzChecks",
            dependencies: ["EVMCodec", "EVMPrimitives", "EVMSigning", "JSONRPC", "MarketState", "AMMMath", "StreamBus", "Opportunities", "Registry", "Feeds",
                           "SolanaPrimitives", "SolanaVenues", "CowProtocol", "MarketWatch", "SolanaWatch", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // apps
        .executableTarget(
            name: "arbiter",
            dependencies: [
                "EVMPrimitives", "EVMCodec", "EVMSigning", "Registry", "AMMMath", "MarketState", "MarketWatch", "JSONRPC",
                "Detection", "Execution", "EthClient", "Opportunities", "Pipeline", "StreamBus", "DetectBench", "CMallocCount", "LabKit", "Signals", "Feeds", "CowProtocol", "SolanaPrimitives",
                "SolanaClient", "SolanaExecution", "SolanaVenues", "SolanaDetection", "SolanaWatch", "ArbiterServer", "Recording",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // test support
        .target(name: "ArbiterTestKit", dependencies: ["EVMPrimitives", "EVMCodec", "LabKit"]),
        .testTarget(name: "ArbiterServerTests", dependencies: ["ArbiterServer", "EVMCodec", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                             .product(name: "WSClient", package: "swift-websocket")]),
        .testTarget(name: "EVMPrimitivesTests", dependencies: ["EVMPrimitives", "ArbiterTestKit"]),
        .testTarget(name: "RecordingTests", dependencies: ["Recording", "ArbiterTestKit"]),
        .testTarget(name: "EVMCodecTests", dependencies: ["EVMCodec", "ArbiterTestKit"]),
        .testTarget(name: "EVMSigningTests", dependencies: ["EVMSigning", "EVMCodec", "ArbiterTestKit"]),
        .testTarget(name: "ExecutorContractsTests", dependencies: ["ExecutorContracts", "Execution", "EVMCodec", "EVMPrimitives"]),
        .testTarget(name: "DevnetTests", dependencies: ["ArbiterTestKit", "EVMCodec", "EVMPrimitives", "LabKit"]),
        .testTarget(name: "AMMMathTests", dependencies: ["AMMMath", "EVMPrimitives", "EVMCodec", "ArbiterTestKit"]),
        .testTarget(name: "JSONRPCTests", dependencies: ["JSONRPC", "EVMCodec", "ArbiterTestKit"]),
        .testTarget(name: "EthClientTests", dependencies: ["EthClient", "JSONRPC", "MarketState", "AMMMath", "EVMCodec", "EVMPrimitives", "ArbiterTestKit"]),
        .testTarget(
            name: "MarketWatchTests",
            dependencies: [
                "MarketWatch", "MarketState", "EthClient", "JSONRPC", "AMMMath", "EVMCodec", "EVMPrimitives", "ArbiterTestKit",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(name: "MarketStateTests", dependencies: ["MarketState", "AMMMath", "EVMPrimitives", "EVMCodec", "ArbiterTestKit"]),
        .testTarget(name: "SignalsTests", dependencies: ["Signals", "ArbiterTestKit", "EVMCodec"]),
        .testTarget(name: "DetectionTests", dependencies: ["Detection", "Signals", "Opportunities", "MarketState", "AMMMath", "EVMPrimitives", "EVMCodec", "CowProtocol", "ArbiterTestKit"]),
        .testTarget(
            name: "StreamBusTests",
            dependencies: ["StreamBus", "Opportunities", "EVMPrimitives", "ArbiterTestKit", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "ExecutionTests",
            dependencies: ["Execution", "Opportunities", "EVMPrimitives", "EVMCodec", "EVMSigning", "EthClient", "JSONRPC", "MarketState", "AMMMath",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "ExecutionLabTests",
            dependencies: [
                "Execution", "Pipeline", "Detection", "MarketWatch", "MarketState", "StreamBus", "EthClient", "JSONRPC", "AMMMath", "Opportunities",
                "EVMSigning", "EVMCodec", "EVMPrimitives", "ArbiterTestKit", "Feeds", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "OpportunitiesTests", dependencies: ["Opportunities", "EVMPrimitives", "EVMCodec", "ArbiterTestKit"]),
        .testTarget(name: "FeedsTests", dependencies: ["Feeds", "ArbiterTestKit", .product(name: "MetricsTestKit", package: "swift-metrics")]),
        .testTarget(name: "SolanaPrimitivesTests", dependencies: ["SolanaPrimitives", "ArbiterTestKit"]),
        .testTarget(name: "SolanaExecutionTests", dependencies: ["SolanaExecution", "SolanaClient", "SolanaPrimitives", "Execution", "Opportunities", "JSONRPC", "EVMCodec",
                                                               "EVMPrimitives", "LabKit", "ArbiterTestKit", "SolanaWatch", "SolanaDetection", "StreamBus",
                                                               .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "SolanaClientTests", dependencies: ["SolanaClient", "SolanaPrimitives", "JSONRPC", "EVMCodec", "LabKit", "ArbiterTestKit"]),
        .testTarget(name: "SolanaVenuesTests", dependencies: ["SolanaVenues", "SolanaDetection", "AMMMath", "Opportunities", "SolanaPrimitives", "EVMPrimitives", "DetectBench", "ArbiterTestKit"]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "EVMPrimitives", "ArbiterTestKit"]),
        .testTarget(name: "FuzzChecksTests", dependencies: ["FuzzChecks", "ArbiterTestKit"]),
    ],
    swiftLanguageModes: [.v6]
)
