import AWSSigning
import ArgumentParser
import AsyncHTTPClient
import CMallocTuning
import Foundation
import Logging
import NIOCore
import NIOPosix
import Proxy

/// The `sqs-extended-proxy` command.
@main
struct SQSExtendedProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sqs-extended-proxy",
        abstract: "An SQS endpoint that gives every AWS SDK the SQS Extended Client's large-message behaviour.",
        discussion: """
            Point an SDK's SQS endpoint at the listener. Every setting can also come from an environment \
            variable (SQS_PROXY_<NAME>, e.g. SQS_PROXY_SQS_ENDPOINT) or from the YAML file given with \
            --config. Precedence: command line, then environment, then file, then default. The region also \
            falls back to AWS_REGION, AWS_DEFAULT_REGION and the profile's region. Credentials come from \
            AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or the shared credentials and \
            config files (AWS_PROFILE).
            """)

    @Option(name: .long, help: "Address of the SQS listener, HOST:PORT (default 127.0.0.1:9324).")
    var listen: String?

    @Option(name: .long, help: "AWS region to sign for (default AWS_REGION, then AWS_DEFAULT_REGION).")
    var region: String?

    @Option(name: .customLong("sqs-endpoint"), help: "Upstream SQS URL (default https://sqs.REGION.amazonaws.com).")
    var sqsEndpoint: String?

    @Option(
        name: .customLong("s3-endpoint"),
        help: "S3 URL for payloads (default https://s3.REGION.amazonaws.com; http:// uses path-style).")
    var s3Endpoint: String?

    @Option(name: .long, help: "S3 bucket for offloaded payloads.")
    var bucket: String?

    @Option(
        name: .customLong("upstream-connect-timeout"), help: "Seconds to wait for an upstream connection (default 5).")
    var upstreamConnectTimeout: String?

    @Option(
        name: .customLong("upstream-read-timeout"),
        help: "Seconds to wait for an upstream answer; keep well above 20 for long polls (default 60).")
    var upstreamReadTimeout: String?

    @Option(
        name: .customLong("max-request-size"),
        help: "Largest request body held in memory, in bytes: every request but a send that streams (default 16777216)."
    )
    var maxRequestSize: String?

    @Option(
        name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    @Option(
        help:
            "Messages larger than this many bytes (body plus attributes) go through S3; 0 to 1048576 (default 262144).")
    var threshold: String?

    @Flag(name: .customLong("always-through-s3"), help: "Send every message body through S3, whatever its size.")
    var alwaysThroughS3 = false

    @Flag(
        name: .customLong("legacy-attribute-name"),
        help: "Mark offloaded messages with SQSLargePayloadSize (Java's default) instead of ExtendedPayloadSize.")
    var legacyAttributeName = false

    @Flag(
        name: .customLong("retain-payloads"),
        help: "Keep S3 objects when their messages are deleted (default: delete them).")
    var retainPayloads = false

    @Option(
        name: .customLong("s3-key-prefix"),
        help: "Prefix of payload keys (A-Z a-z 0-9 . / _ -, at most 988 characters).")
    var s3KeyPrefix: String?

    @Option(help: "Server-side encryption of payloads: aws:kms or AES256.")
    var sse: String?

    @Option(name: .customLong("sse-kms-key-id"), help: "KMS key for --sse aws:kms.")
    var sseKMSKeyID: String?

    @Option(name: .customLong("s3-acl"), help: "Canned ACL of stored payloads (e.g. bucket-owner-full-control).")
    var s3ACL: String?

    @Flag(
        name: .customLong("ignore-payload-not-found"),
        help:
            "Delete a received message whose payload is missing from S3 and leave it out, instead of failing the receive."
    )
    var ignorePayloadNotFound = false

    @Option(
        name: .customLong("max-payload-size"),
        help: "Largest message body accepted, in bytes; larger bodies stream through S3 (default 2147483648).")
    var maxPayloadSize: String?

    @Option(
        name: .customLong("part-size"),
        help:
            "Payloads larger than this go to S3 in a multipart upload of parts this size, in bytes; at least 5 MiB (default 8388608)."
    )
    var partSize: String?

    @Option(name: .customLong("parts-in-flight"), help: "Parts of one payload uploading at once, 1 to 64 (default 4).")
    var partsInFlight: String?

    @Option(name: .long, help: "YAML configuration file (also SQS_PROXY_CONFIG).")
    var config: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var fileSettings: [String: String] = [:]
        if let path = config ?? environment["SQS_PROXY_CONFIG"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("Cannot read the configuration file \(path).")
            }
            fileSettings = try ConfigurationResolver.parseFile(text)
        }
        let commandLine: [String: String?] = [
            "listen": listen, "region": region, "sqs-endpoint": sqsEndpoint, "s3-endpoint": s3Endpoint,
            "bucket": bucket, "upstream-connect-timeout": upstreamConnectTimeout,
            "upstream-read-timeout": upstreamReadTimeout, "max-request-size": maxRequestSize, "log-level": logLevel,
            "threshold": threshold, "s3-key-prefix": s3KeyPrefix, "sse": sse, "sse-kms-key-id": sseKMSKeyID,
            "s3-acl": s3ACL, "max-payload-size": maxPayloadSize, "part-size": partSize,
            "parts-in-flight": partsInFlight,
            "always-through-s3": alwaysThroughS3 ? "true" : nil,
            "legacy-attribute-name": legacyAttributeName ? "true" : nil,
            "retain-payloads": retainPayloads ? "true" : nil,
            "ignore-payload-not-found": ignorePayloadNotFound ? "true" : nil,
        ]
        let resolver = ConfigurationResolver(
            commandLine: commandLine.compactMapValues { $0 }, environment: environment, file: fileSettings)

        let levelName = resolver.value("log-level") ?? "info"
        guard let level = Logger.Level(rawValue: levelName) else {
            throw ValidationError("Unknown log level \(levelName).")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "sqs-extended-proxy")
        logger.debug("malloc mmap threshold fixed", metadata: ["bytes": "\(c_malloc_tuning_mmap_threshold)"])

        let sharedFiles = try SharedConfigFiles.load(environment: environment)
        let configuration = try resolver.resolve(
            profileRegion: sharedFiles.region(profile: environment["AWS_PROFILE"] ?? "default"))
        let credentials = try DefaultCredentialChain.resolve(environment: environment)
        try await ProxyRuntime.run(
            configuration: configuration, credentials: StaticCredentialProvider(credentials), logger: logger
        ) { address in
            let host =
                configuration.listenHost.contains(":") ? "[\(configuration.listenHost)]" : configuration.listenHost
            let line =
                "sqs-extended-proxy listening on http://\(host):\(address.port ?? 0) (upstream SQS \(configuration.sqsEndpoint))\n"
            FileHandle.standardOutput.write(Data(line.utf8))
        }
    }
}

extension ConfigurationError: LocalizedError {
    public var errorDescription: String? { description }
}

extension CredentialError: LocalizedError {
    public var errorDescription: String? { description }
}
