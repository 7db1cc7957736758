// swift-tools-version:6.1
// Micro-benchmarks of the proxy's hot pure code (ordo-one/benchmark), in a package of their own so
// that the proxy's build and CI do not carry the benchmark framework. Run from this folder:
//   swift package benchmark                     (wall clock, CPU, allocations)
//   swift package benchmark --format markdown
import PackageDescription

let package = Package(
    name: "sqs-extended-proxy-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "sqs-extended-proxy", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "HotPaths",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SQSExtendedProxyCore", package: "sqs-extended-proxy"),
            ],
            path: "Benchmarks/HotPaths",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
