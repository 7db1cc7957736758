// swift-tools-version:6.1
// Micro-benchmarks of the proxy's hot pure code (ordo-one/benchmark), in a package of their own so
// that the proxy's build and CI do not carry the benchmark framework. Run from this folder:
//   swift package benchmark                     (wall clock, CPU, allocations)
//   swift package benchmark --format markdown
// and StackFloor, the proxy's server and client stack without the proxy (see the file).
import PackageDescription

let package = Package(
    name: "sqs-extended-proxy-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "sqs-extended-proxy", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.25.0"),
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
        ),
        // The server and client stack with none of the proxy's work (Benchmarks/small_messages.py).
        .executableTarget(
            name: "StackFloor",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "SQSTransport", package: "sqs-extended-proxy"),
            ],
            path: "Benchmarks/StackFloor"
        ),
    ]
)
