// swift-tools-version:6.1
import PackageDescription

// libFuzzer targets for the proxy's parsers and codecs, in a package of their own so that the
// proxy's build does not change: one executable, the target chosen by FUZZ_TARGET. Built with
// `--sanitize=fuzzer --sanitize=address` by `scripts/fuzz`; see FUZZING.md.
let package = Package(
    name: "Fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "sqs-extended-proxy", path: "..")],
    targets: [
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "SQSExtendedProxyCore", package: "sqs-extended-proxy")]
        ),
        .executableTarget(
            name: "FuzzTargets",
            dependencies: ["FuzzSupport", .product(name: "SQSExtendedProxyCore", package: "sqs-extended-proxy")]
        ),
    ]
)
