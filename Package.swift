// swift-tools-version:6.1
import PackageDescription

// scripts/test builds the release configuration once with SQS_PROXY_TESTABLE=1, so that the unit
// tests run against optimized code (`@testable` needs -enable-testing); the end-to-end suite runs
// that build's binary too. A plain `swift build -c release` builds the proxy's modules without it.
let testable: [SwiftSetting] =
    Context.environment["SQS_PROXY_TESTABLE"] == "1" ? [.unsafeFlags(["-enable-testing"])] : []

// The proxy's executable is linked by lld with packed relative relocations (the table the dynamic
// loader reads at start: 3.2 MB in the static build, 46 KB packed) and with the functions the proxy
// runs at start-up placed together (scripts/startup-order writes their list): the kernel maps code
// 64 KiB around each page fault, so scattered start-up code stays resident. BENCHMARKS.md,
// "Footprint".
// The list orders functions one by one when the build puts each in its own section, as
// scripts/build-release does; without that, whole object files.
let startupLayout: [LinkerSetting] = [
    .unsafeFlags(
        [
            "-use-ld=lld", "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs",
            "-Xlinker", "--symbol-ordering-file=\(Context.packageDirectory)/Sources/sqs-extended-proxy/startup.order",
            "-Xlinker", "--no-warn-symbol-ordering",
            // The static runtime's link arguments export every symbol of the proxy's own objects
            // (a 4 MB table the loader searches for each library's symbols at start); nothing
            // looks them up.
            "-Xlinker", "--no-export-dynamic",
        ],
        .when(platforms: [.linux])
    )
]

// scripts/build-release links libstdc++ statically too, through a folder that holds only
// libstdc++.a and is searched before the system's (the Swift driver asks for -lstdc++ itself): the
// shared library's symbol tables cost 1.2 MiB resident, the parts the runtime uses far less. Only
// with the Swift runtime static: a shared runtime loads the shared libstdc++ anyway.
let staticLibstdcxx: [LinkerSetting] =
    Context.environment["SQS_PROXY_STATIC_LIBSTDCXX"].map { [.unsafeFlags(["-L", $0], .when(platforms: [.linux]))] }
    ?? []

let package = Package(
    name: "sqs-extended-proxy",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sqs-extended-proxy", targets: ["sqs-extended-proxy"]),
        // The pure codecs and signing, for the micro-benchmarks in Benchmarks/ and the fuzz targets in Fuzz/.
        .library(name: "SQSExtendedProxyCore", targets: ["TextCoding", "SQSWire", "ExtendedPayload", "AWSSigning"]),
        // The SQS transport, for the stack floor in Benchmarks/.
        .library(name: "SQSTransport", targets: ["SQSTransport"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.81.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.25.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.27.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.24.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.0"),
        // Only the OTLP/HTTP exporter: the gRPC one would bring grpc-swift into the build.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .target(name: "TextCoding"),
        .target(
            name: "SQSWire",
            dependencies: ["TextCoding", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "ExtendedPayload",
            dependencies: ["SQSWire"]
        ),
        .target(
            name: "RequestLimits",
            dependencies: ["SQSWire"]
        ),
        .target(
            name: "AWSSigning",
            dependencies: ["TextCoding", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "AWSCredentialChain",
            dependencies: [
                "AWSSigning",
                "TextCoding",
                "Upstream",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "SQSTransport",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(
            name: "RequestTracing",
            dependencies: [
                "TextCoding",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "Upstream",
            dependencies: [
                "SQSTransport",
                "TextCoding",
                "RequestTracing",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .target(
            name: "ObjectStore",
            dependencies: [
                "AWSSigning",
                "TextCoding",
                "AWSCredentialChain",
                "Upstream",
                "RequestTracing",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .target(
            name: "ServerEdge",
            dependencies: [
                "SQSWire",
                "TextCoding",
                "RequestLimits",
                "RequestTracing",
                "Upstream",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "Proxy",
            dependencies: [
                "ServerEdge",
                "SQSWire",
                "RequestLimits",
                "TextCoding",
                "AWSSigning",
                "AWSCredentialChain",
                "ExtendedPayload",
                "ObjectStore",
                "Upstream",
                "SQSTransport",
                "RequestTracing",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "ProxyApp",
            dependencies: [
                "Proxy",
                "ServerEdge",
                "RequestLimits",
                "SQSWire",
                "AWSSigning",
                "AWSCredentialChain",
                "ExtendedPayload",
                "ObjectStore",
                "Upstream",
                "SQSTransport",
                "TextCoding",
                "RequestTracing",
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(name: "CMallocTuning"),
        .executableTarget(
            name: "sqs-extended-proxy",
            dependencies: [
                "Proxy",
                "ServerEdge",
                "ProxyApp",
                "AWSSigning",
                "AWSCredentialChain",
                "Upstream",
                "CMallocTuning",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: ["startup.order"],
            linkerSettings: startupLayout + staticLibstdcxx
        ),
        .testTarget(name: "TextCodingTests", dependencies: ["TextCoding"]),
        .testTarget(name: "SQSWireTests", dependencies: ["SQSWire", "CMallocTuning"]),
        .testTarget(name: "ExtendedPayloadTests", dependencies: ["ExtendedPayload", "SQSWire"]),
        .testTarget(name: "RequestLimitsTests", dependencies: ["RequestLimits", "SQSWire"]),
        .testTarget(
            name: "RequestTracingTests",
            dependencies: [
                "RequestTracing",
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ServerEdgeTests",
            dependencies: [
                "ServerEdge",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SQSTransportTests",
            dependencies: [
                "SQSTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(
            name: "UpstreamTests",
            dependencies: [
                "Upstream",
                "SQSTransport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ObjectStoreTests",
            dependencies: [
                "ObjectStore",
                "AWSSigning",
                "AWSCredentialChain",
                "Upstream",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "AWSSigningTests", dependencies: ["AWSSigning"]),
        .testTarget(
            name: "AWSCredentialChainTests",
            dependencies: [
                "AWSCredentialChain",
                "AWSSigning",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "ProxyAppTests",
            dependencies: ["ProxyApp", "Proxy", "ExtendedPayload", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "ProxyTests",
            dependencies: [
                "Proxy",
                "ServerEdge",
                "RequestLimits",
                "ExtendedPayload",
                "AWSSigning",
                "AWSCredentialChain",
                "Upstream",
                "SQSTransport",
                "RequestTracing",
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)

for target in package.targets where target.type == .regular || target.type == .executable {
    target.swiftSettings = (target.swiftSettings ?? []) + testable
}
