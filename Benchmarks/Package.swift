// swift-tools-version: 6.1
// Benchmarks live in their own package so that `swift build` and `swift test` of Arbiter
// do not build the benchmark harness. Run with scripts/bench (release build).
import PackageDescription

let package = Package(
    name: "ArbiterBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "EVM",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "EVMPrimitives", package: "main"),
                .product(name: "EVMCodec", package: "main"),
                .product(name: "EVMSigning", package: "main"),
            ],
            path: "Benchmarks/EVM",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "AMM",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "AMMMath", package: "main"),
                .product(name: "EVMPrimitives", package: "main"),
            ],
            path: "Benchmarks/AMM",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .target(name: "CHeap", path: "Tools/CHeap"),
        .executableTarget(
            name: "MarketStateMemory",
            dependencies: [
                "CHeap",
                .product(name: "MarketState", package: "main"),
                .product(name: "AMMMath", package: "main"),
                .product(name: "EVMPrimitives", package: "main"),
            ],
            path: "Tools/MarketStateMemory"
        ),
        .executableTarget(
            name: "MarketStateBench",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "MarketState", package: "main"),
                .product(name: "AMMMath", package: "main"),
                .product(name: "EVMPrimitives", package: "main"),
            ],
            path: "Benchmarks/MarketState",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
