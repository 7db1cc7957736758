import AWSCredentialChain
import AWSSigning
import ArgumentParser
import AsyncHTTPClient
import CMallocTuning
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import Proxy
import ProxyApp
import ServerEdge
import Upstream

#if canImport(Glibc)
    import Glibc

    private let systemWrite = Glibc.write
#elseif canImport(Darwin)
    import Darwin

    private let systemWrite = Darwin.write
#endif
#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The `sqs-extended-proxy` command: `serve` (the default) and `check`.
@main
struct SQSExtendedProxyCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
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
                Identity), EC2 instance metadata (IMDSv2). SIGTERM and SIGINT shut down gracefully. \
                OpenTelemetry tracing is off unless OTEL_TRACES_EXPORTER=otlp or an OTLP endpoint \
                (OTEL_EXPORTER_OTLP_ENDPOINT) is set; the other OTEL_* variables act as the specification says \
                (check shows them).

                SETTINGS (serve and check):
                \(Setting.helpText)
                """,
            version: ProxyVersion.current, subcommands: [Serve.self, Check.self], defaultSubcommand: Serve.self)
    }

    /// Makes NIO's event loops Swift Concurrency's executor before anything runs, so that the
    /// request path does not hop between the event loop threads and a second thread pool.
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await main(nil)
    }
}

/// What `serve` and `check` read their settings from.
struct SettingSources: ParsableArguments {
    @Option(name: .long, help: "YAML configuration file (also SQS_PROXY_CONFIG).")
    var config: String?

    /// Every other option: the settings of ``Setting/all``, parsed from that table.
    @Argument(parsing: .allUnrecognized, help: .hidden)
    var settings: [String] = []

    /// The resolver of the settings from the command line, `environment` and the file.
    func resolver(environment: [String: String]) throws -> ConfigurationResolver {
        var fileSettings: [String: String] = [:]
        if let path = config ?? environment["SQS_PROXY_CONFIG"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("Cannot read the configuration file \(path).")
            }
            fileSettings = try ConfigurationResolver.parseFile(text)
        }
        return ConfigurationResolver(
            commandLine: try Setting.parseCommandLine(settings), environment: environment, file: fileSettings)
    }
}

/// `sqs-extended-proxy check`: tries the settings and every upstream once (see ``ProxyCheck``).
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Print the resolved settings with their sources, then check credentials, STS, the bucket and SQS; exit 0 only if all passed."
    )

    @Option(name: .long, help: "Check SQS with GetQueueUrl of this queue instead of ListQueues.")
    var queue: String?

    @OptionGroup var sources: SettingSources

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var check = ProxyCheck(
            resolver: try sources.resolver(environment: environment), environment: environment, queue: queue)
        let passed = await check.run { line in Serve.write(line + "\n", to: STDOUT_FILENO) }
        throw ExitCode(passed ? 0 : 1)
    }
}

/// `sqs-extended-proxy [serve]`: runs the proxy.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the proxy (the default).")

    @Flag(
        name: .customLong("health-check"),
        help: "Ask the admin listener's /healthz, exit 0 if it answers 200, 1 otherwise (a container HEALTHCHECK).")
    var healthCheck = false

    @OptionGroup var sources: SettingSources

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var resolver = try sources.resolver(environment: environment)
        if healthCheck { try await Self.checkHealth(resolver) }

        let sharedFiles = try SharedConfigFiles.load(environment: environment)
        let profile = environment["AWS_PROFILE"] ?? "default"
        resolver.profile = sharedFiles.settings(profile: profile) ?? [:]
        let configuration = try resolver.resolve(profileRegion: sharedFiles.region(profile: profile))
        LoggingSystem.bootstrap { label in
            LineLogHandler(label: label, level: configuration.logLevel, format: configuration.logFormat)
        }
        let logger = Logger(label: "sqs-extended-proxy")
        logger.debug("malloc mmap threshold fixed", metadata: ["bytes": "\(c_malloc_tuning_mmap_threshold)"])
        let registry = PrometheusCollectorRegistry()
        var metricsFactory = PrometheusMetricsFactory(registry: registry)
        metricsFactory.defaultDurationHistogramBuckets = ProxyRuntime.latencyBuckets
        MetricsSystem.bootstrap(metricsFactory)

        let caller = try ProxyRuntime.makeCaller(configuration)
        do {
            let chain = try DefaultCredentialChain(
                environment: environment, http: caller,
                sts: STSClient(
                    endpoint: configuration.stsEndpoint, region: configuration.region, http: caller,
                    timeout: configuration.upstreamReadTimeout.timeAmount),
                logger: logger)
            let credentials = try await chain.resolve()
            logger.info("credentials", metadata: ["source": "\(credentials.name)"])
            try await ProxyRuntime.run(
                configuration: configuration, caller: caller, credentials: credentials, logger: logger,
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
            try? await caller.shutdown()
            throw error
        }
        try await caller.shutdown()
        logger.info("stopped")
    }

    /// Exits 0 if the admin listener's `/healthz` answers 200, else 1.
    static func checkHealth(_ resolver: ConfigurationResolver) async throws -> Never {
        var (host, port) = ("127.0.0.1", ProxyConfiguration.defaultAdminPort)
        if let listen = resolver.value("admin-listen") {
            (host, port) = try Setting.hostAndPort(listen, setting: "admin-listen")
        }
        if host == "0.0.0.0" { host = "127.0.0.1" }
        if host == "::" { host = "::1" }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        var healthy = false
        do {
            let url = "http://\(host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host):\(port)/healthz"
            let response = try await client.execute(HTTPClientRequest(url: url), deadline: .now() + .seconds(3))
            healthy = response.status == .ok
        } catch {
            Self.write("health check failed: \(error)\n", to: STDERR_FILENO)
        }
        try? await client.shutdown()
        throw ExitCode(healthy ? 0 : 1)
    }

    /// Prints a listener's address on standard output, where scripts wait for it.
    static func announce(_ what: String, _ address: SocketAddress, _ host: String, suffix: String) {
        let shownHost = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
        write("\(what) http://\(shownHost):\(address.port ?? 0)\(suffix)\n", to: STDOUT_FILENO)
    }

    /// Writes `text` to a file descriptor at once, unbuffered (tests and scripts read these lines as
    /// they come).
    static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { systemWrite(descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }
}

extension ConfigurationError: LocalizedError {
    public var errorDescription: String? { description }
}

extension CredentialError: LocalizedError {
    public var errorDescription: String? { description }
}
