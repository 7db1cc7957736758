// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for the proxy's parsers and codecs, in a package of their own so that the
// proxy's build does not change. Built with `--sanitize=fuzzer --sanitize=address` by `scripts/fuzz`; see FUZZING.md.
let fuzzTargets = [
    "FuzzJSONParser", "FuzzStreamingReaders", "FuzzUnescapers", "FuzzRequestDecoder", "FuzzResponseCodec",
    "FuzzXMLReader", "FuzzPayloadCodecs", "FuzzSignatureVerifier",
]

let package = Package(
    name: "Fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "sqs-extended-proxy", path: "..")],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "SQSExtendedProxyCore", package: "sqs-extended-proxy")]
        )
    ]
        + fuzzTargets.map { name in
            .executableTarget(
                name: name,
                dependencies: ["FuzzSupport", .product(name: "SQSExtendedProxyCore", package: "sqs-extended-proxy")]
            )
        }
)
