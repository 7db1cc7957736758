import AWSCredentialChain
import AWSSigning
import ArgumentParser
import AsyncHTTPClient
import CMallocTuning
import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
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
            the AWS SDKs' default chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, a web \
            identity token (AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, EKS IRSA), the shared credentials \
            and config files (AWS_PROFILE; role_arn with source_profile), the container endpoint (ECS, EKS Pod \
            Identity), EC2 instance metadata (IMDSv2). SIGTERM and SIGINT shut down gracefully.
            """)

    @Option(name: .long, help: "Address of the SQS listener, HOST:PORT (default 127.0.0.1:9324).")
    var listen: String?

    @Option(
        name: .customLong("admin-listen"),
        help: "Address of the admin listener (/healthz, /readyz, /metrics), HOST:PORT (default 127.0.0.1:9325).")
    var adminListen: String?

    @Option(name: .long, help: "AWS region to sign for (default AWS_REGION, then AWS_DEFAULT_REGION).")
    var region: String?

    @Option(name: .customLong("sqs-endpoint"), help: "Upstream SQS URL (default https://sqs.REGION.amazonaws.com).")
    var sqsEndpoint: String?

    @Option(
        name: .customLong("s3-endpoint"),
        help: "S3 URL for payloads (default https://s3.REGION.amazonaws.com; http:// uses path-style).")
    var s3Endpoint: String?

    @Option(
        name: .customLong("sts-endpoint"),
        help:
            "STS URL for web identity and assumed roles (default AWS_ENDPOINT_URL_STS, then https://sts.REGION.amazonaws.com)."
    )
    var stsEndpoint: String?

    @Option(name: .long, help: "S3 bucket for offloaded payloads.")
    var bucket: String?

    @Option(
        name: .customLong("payload-buckets"),
        help:
            "Buckets whose payloads the proxy reads and deletes for clients, comma-separated; * for any (default: the --bucket alone)."
    )
    var payloadBuckets: String?

    @Option(
        name: .customLong("client-credentials"),
        help:
            "Shared-credentials file of the access keys clients must sign with (SigV4); read again when it changes (default: clients are not authenticated)."
    )
    var clientCredentials: String?

    @Option(
        name: .customLong("upstream-connect-timeout"), help: "Seconds to wait for an upstream connection (default 5).")
    var upstreamConnectTimeout: String?

    @Option(
        name: .customLong("upstream-read-timeout"),
        help: "Seconds to wait for an upstream answer; keep well above 20 for long polls (default 60).")
    var upstreamReadTimeout: String?

    @Option(
        name: .customLong("upstream-idle-timeout"),
        help: "Seconds an unused upstream connection stays in the pool (default 30).")
    var upstreamIdleTimeout: String?

    @Option(
        name: .customLong("upstream-max-attempts"),
        help: "Attempts of an upstream call in all, retries with jittered backoff included; 1 to 10 (default 3).")
    var upstreamMaxAttempts: String?

    @Option(
        name: .customLong("ca-bundle"),
        help: "PEM file of certificate authorities to trust upstream (default AWS_CA_BUNDLE, then the system's).")
    var caBundle: String?

    @Option(
        name: .customLong("client-idle-timeout"),
        help: "Seconds a client connection may stay idle between requests before it is closed (default 60).")
    var clientIdleTimeout: String?

    @Option(
        name: .customLong("shutdown-grace-period"),
        help: "Seconds requests in progress (long polls included) may take to finish after SIGTERM (default 25).")
    var shutdownGracePeriod: String?

    @Option(
        name: .customLong("max-request-size"),
        help: "Largest request body held in memory, in bytes: every request but a send that streams (default 16777216)."
    )
    var maxRequestSize: String?

    @Option(
        name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default info).")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "text or json (one JSON object per line) (default text).")
    var logFormat: String?

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

    @Flag(
        name: .customLong("health-check"),
        help: "Ask the admin listener's /healthz, exit 0 if it answers 200, 1 otherwise (a container HEALTHCHECK).")
    var healthCheck = false

    /// Makes NIO's event loops Swift Concurrency's executor before anything runs, so that the
    /// request path does not hop between the event loop threads and a second thread pool.
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }

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
            "listen": listen, "admin-listen": adminListen, "region": region, "sqs-endpoint": sqsEndpoint,
            "s3-endpoint": s3Endpoint, "sts-endpoint": stsEndpoint, "bucket": bucket,
            "payload-buckets": payloadBuckets, "client-credentials": clientCredentials,
            "upstream-connect-timeout": upstreamConnectTimeout, "upstream-read-timeout": upstreamReadTimeout,
            "upstream-idle-timeout": upstreamIdleTimeout, "upstream-max-attempts": upstreamMaxAttempts,
            "ca-bundle": caBundle, "client-idle-timeout": clientIdleTimeout,
            "shutdown-grace-period": shutdownGracePeriod, "max-request-size": maxRequestSize,
            "log-level": logLevel, "log-format": logFormat,
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
        if healthCheck { try await Self.checkHealth(resolver) }

        let levelName = resolver.value("log-level") ?? "info"
        guard let level = Logger.Level(rawValue: levelName) else {
            throw ValidationError("Unknown log level \(levelName).")
        }
        let formatName = resolver.value("log-format") ?? "text"
        guard let format = LineLogHandler.Format(rawValue: formatName) else {
            throw ValidationError("log-format must be text or json: \(formatName)")
        }
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, level: level, format: format) }
        let logger = Logger(label: "sqs-extended-proxy")
        logger.debug("malloc mmap threshold fixed", metadata: ["bytes": "\(c_malloc_tuning_mmap_threshold)"])
        let registry = PrometheusCollectorRegistry()
        var metricsFactory = PrometheusMetricsFactory(registry: registry)
        metricsFactory.defaultDurationHistogramBuckets = ProxyRuntime.latencyBuckets
        MetricsSystem.bootstrap(metricsFactory)

        let sharedFiles = try SharedConfigFiles.load(environment: environment)
        let configuration = try resolver.resolve(
            profileRegion: sharedFiles.region(profile: environment["AWS_PROFILE"] ?? "default"))
        let client = try ProxyRuntime.makeClient(configuration)
        do {
            let chain = try DefaultCredentialChain(
                environment: environment, http: client,
                sts: STSClient(
                    endpoint: configuration.stsEndpoint, region: configuration.region, http: client,
                    timeout: .milliseconds(Int64(configuration.upstreamReadTimeout * 1000))),
                logger: logger)
            let credentials = try await chain.resolve()
            logger.info("credentials", metadata: ["source": "\(credentials.name)"])
            try await ProxyRuntime.run(
                configuration: configuration, client: client, credentials: credentials, logger: logger,
                metrics: { registry.emitToBuffer() },
                onBound: { address in
                    Self.announce(
                        "sqs-extended-proxy listening on", address, configuration.listenHost,
                        suffix: " (upstream SQS \(configuration.sqsEndpoint))")
                },
                onAdminBound: { address in
                    Self.announce("admin listening on", address, configuration.adminHost, suffix: "")
                })
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        logger.info("stopped")
    }

    /// Exits 0 if the admin listener's `/healthz` answers 200, else 1.
    static func checkHealth(_ resolver: ConfigurationResolver) async throws -> Never {
        var (host, port) = ("127.0.0.1", ProxyConfiguration.defaultAdminPort)
        if let listen = resolver.value("admin-listen") {
            (host, port) = try ConfigurationResolver.hostAndPort(listen, setting: "admin-listen")
        }
        if host == "0.0.0.0" { host = "127.0.0.1" }
        if host == "::" { host = "::1" }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var healthy = false
        do {
            let url = "http://\(host.contains(":") ? "[\(host)]" : host):\(port)/healthz"
            let response = try await client.execute(HTTPClientRequest(url: url), deadline: .now() + .seconds(3))
            healthy = response.status == .ok
        } catch {
            FileHandle.standardError.write(Data("health check failed: \(error)\n".utf8))
        }
        try? await client.shutdown()
        throw ExitCode(healthy ? 0 : 1)
    }

    /// Prints a listener's address on standard output, where scripts wait for it.
    static func announce(_ what: String, _ address: SocketAddress, _ host: String, suffix: String) {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        FileHandle.standardOutput.write(Data("\(what) http://\(shownHost):\(address.port ?? 0)\(suffix)\n".utf8))
    }
}

extension ConfigurationError: LocalizedError {
    public var errorDescription: String? { description }
}

extension CredentialError: LocalizedError {
    public var errorDescription: String? { description }
}
