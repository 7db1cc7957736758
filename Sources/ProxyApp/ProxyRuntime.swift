import AWSCredentialChain
import AWSSigning
import AsyncHTTPClient
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ObjectStore
import Proxy
import RequestTracing
import SQSTransport
import ServerEdge
import ServiceLifecycle
import Synchronization
import Upstream

/// Wires the proxy together: one event loop group, one pooled upstream client for SQS, S3 and STS,
/// the credentials, the SQS and admin listeners, and their lifecycle.
public enum ProxyRuntime {
    /// The buckets of the latency histograms, for the metrics factory.
    public static var latencyBuckets: [Duration] { ServerMetrics.latencyBuckets }

    /// The pooled upstream client: connect, read and idle timeouts from the configuration, TLS with
    /// the system's trust store (or `caBundle`), no redirects, no decompression; through `proxy`
    /// when given (AsyncHTTPClient tunnels with CONNECT, to `http://` hosts too).
    static func makeClient(_ configuration: ProxyConfiguration, proxy: ForwardProxy? = nil) throws -> HTTPClient {
        var clientConfiguration = HTTPClient.Configuration()
        if let proxy {
            let credentials = proxy.authorization.map { String($0.dropFirst("Basic ".count)) }
            clientConfiguration.proxy = .server(
                host: proxy.host, port: proxy.port, authorization: credentials.map { .basic(credentials: $0) })
        }
        clientConfiguration.timeout = .init(
            connect: configuration.upstreamConnectTimeout.timeAmount,
            read: configuration.upstreamReadTimeout.timeAmount)
        clientConfiguration.connectionPool = .init(
            idleTimeout: configuration.upstreamIdleTimeout.timeAmount,
            concurrentHTTP1ConnectionsPerHostSoftLimit: 1024)
        clientConfiguration.redirectConfiguration = .disallow
        clientConfiguration.decompression = .disabled
        if let caBundle = configuration.caBundle {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(caBundle)
            clientConfiguration.tlsConfiguration = tls
        }
        return HTTPClient(
            eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: clientConfiguration)
    }

    /// The SQS transport: keep-alive connections to the SQS endpoint per event loop, TLS with the
    /// system's trust store (or `caBundle`) and the endpoint's name as SNI.
    static func makeTransport(_ configuration: ProxyConfiguration, group: any EventLoopGroup) throws -> SQSTransport {
        let endpoint = configuration.sqsEndpoint
        var tls: TLSConfiguration?
        if endpoint.scheme == "https" {
            var client = TLSConfiguration.makeClientConfiguration()
            if let caBundle = configuration.caBundle { client.trustRoots = .file(caBundle) }
            tls = client
        }
        return try SQSTransport(
            settings: .init(
                host: endpoint.host, port: endpoint.port, tls: tls,
                connectTimeout: configuration.upstreamConnectTimeout.timeAmount,
                idleTimeout: configuration.upstreamIdleTimeout.timeAmount,
                maxConnectionsPerLoop: configuration.upstreamMaxConnections,
                proxy: configuration.egressProxies.proxy(
                    scheme: endpoint.scheme, host: endpoint.host, port: endpoint.port)),
            group: group)
    }

    /// The one upstream seam for SQS, S3 and the credential endpoints: the pooled client of
    /// ``makeClient(_:)`` and one retry policy and budget.
    public static func makeCaller(_ configuration: ProxyConfiguration) throws -> UpstreamCaller {
        let egress = configuration.egressProxies
        var proxiedClients: [String: HTTPClient] = [:]
        for (scheme, proxy) in [("https", egress.https?.proxy), ("http", egress.http?.proxy)] {
            if let proxy { proxiedClients[scheme] = try makeClient(configuration, proxy: proxy) }
        }
        return UpstreamCaller(
            client: try makeClient(configuration), proxiedClients: proxiedClients, egress: egress,
            retrier: UpstreamRetrier(policy: RetryPolicy(maxAttempts: configuration.upstreamMaxAttempts)))
    }

    /// Runs the proxy until SIGTERM or SIGINT, then shuts down gracefully: the SQS listener stops
    /// accepting, `/readyz` turns 503, requests in progress finish within the grace period, then
    /// the admin listener and the credential refresher stop.
    /// - Parameters:
    ///   - caller: the upstream seam from ``makeCaller(_:)``; its client shut down by the caller.
    ///   - metrics: the Prometheus text of every metric, for `/metrics`.
    ///   - onBound: learns the SQS listener's address; `onAdminBound` the admin listener's.
    public static func run(
        configuration: ProxyConfiguration, caller: UpstreamCaller, credentials: any CredentialProvider, logger: Logger,
        metrics: @escaping @Sendable () -> [UInt8],
        onBound: @escaping @Sendable (SocketAddress) -> Void = { _ in },
        onAdminBound: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let readTimeout = configuration.upstreamReadTimeout.timeAmount
        let transport = try makeTransport(configuration, group: group)
        let upstream = SQSUpstream(
            caller: caller, transport: transport, endpoint: configuration.sqsEndpoint, region: configuration.region,
            credentials: credentials, readTimeout: readTimeout)
        let store = S3ObjectStore(
            caller: caller, endpoint: configuration.s3Endpoint, region: configuration.region, credentials: credentials,
            timeout: readTimeout)
        let uploader = MultipartUploader(
            store: store, partSize: configuration.partSize, partsInFlight: configuration.partsInFlight)
        let clientCredentials = try configuration.clientCredentials.map { path throws(ConfigurationError) in
            try ClientCredentials(path: path)
        }
        if let clientCredentials {
            logger.info(
                "clients must sign their requests",
                metadata: ["client_credentials": "\(clientCredentials.path)", "keys": "\(clientCredentials.count)"])
        } else if !isLoopback(configuration.listenHost) {
            logger.warning(
                "the SQS listener is reachable from other hosts and clients are not authenticated: anything that reaches \(configuration.listenHost):\(configuration.listenPort) acts with the proxy's AWS identity; listen on 127.0.0.1 (a sidecar shares the application's loopback), or set --client-credentials"
            )
        }
        for location in configuration.payloadLocations.unterminatedPrefixes {
            logger.warning(
                "a payload location's prefix does not end in /: it also matches keys of longer names",
                metadata: ["location": "\(location)"])
        }
        for warning in configuration.tracing?.warnings ?? [] { logger.warning("tracing: \(warning)") }
        var tracing: (tracer: RequestTracer, service: any Service)?
        if let settings = configuration.tracing, settings.enabled {
            tracing = try TracingBackend.bootstrap(settings, logger: logger)
            logger.info("tracing", metadata: ["settings": "\(settings.lines.joined(separator: "; "))"])
        }
        let draining = DrainingFlag()
        let memoryBudget = MemoryBudget(limit: configuration.memoryBudget)
        let server = ProxyServer(
            host: configuration.listenHost, port: configuration.listenPort,
            clientIdleTimeout: configuration.clientIdleTimeout, maxConnections: configuration.maxConnections,
            requestBodyTimeout: configuration.requestBodyTimeout, requestHeadTimeout: configuration.requestHeadTimeout,
            maxRequestHeadSize: configuration.maxRequestHeadSize,
            memoryBudget: memoryBudget, limits: configuration.requestLimits,
            handler: SQSRequestHandler(
                upstream: upstream, store: store, uploader: uploader,
                settings: try configuration.extendedClientSettings(),
                clientCredentials: clientCredentials, limits: configuration.requestLimits,
                queueURLs: configuration.queueURLMap, logger: logger),
            tracer: tracing?.tracer, group: group, logger: logger, onShutdown: { draining.set() }, onBound: onBound)
        let sqsReachability = UpstreamReachability(
            client: caller.client(for: configuration.sqsEndpoint.description, service: "sqs"),
            endpoint: configuration.sqsEndpoint)
        let s3Reachability =
            configuration.bucket == nil
            ? nil
            : UpstreamReachability(
                client: caller.client(for: configuration.s3Endpoint.description, service: "s3"),
                endpoint: configuration.s3Endpoint)
        let admin = AdminServer(
            host: configuration.adminHost, port: configuration.adminPort,
            maxConnections: configuration.adminMaxConnections, idleTimeout: configuration.clientIdleTimeout,
            headTimeout: configuration.requestHeadTimeout, group: group, logger: logger,
            readiness: {
                if draining.isSet { return .init(ready: false, detail: "shutting down") }
                let credentialsReady = credentials.isReady
                async let sqsCheck = sqsReachability.check()
                async let s3Check = s3Reachability?.check()
                let (sqsReachable, s3Reachable) = await (sqsCheck, s3Check)
                var lines = [
                    "credentials (\(credentials.name)): \(credentialsReady ? "ready" : "not ready")",
                    "upstream SQS \(configuration.sqsEndpoint): \(sqsReachable ? "reachable" : "unreachable")",
                ]
                var ready = credentialsReady && sqsReachable
                if let reachable = s3Reachable {
                    lines.append("upstream S3 \(configuration.s3Endpoint): \(reachable ? "reachable" : "unreachable")")
                    ready = ready && reachable
                }
                return AdminServer.Readiness(ready: ready, detail: lines.joined(separator: "\n"))
            },
            metrics: {
                ServerMetrics.recordMemoryBudget(memoryBudget)
                return metrics()
            }, onBound: onAdminBound)
        // Shut down in reverse order: the SQS listener first, the refresher (which in-flight
        // requests may still need) last.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        // The exporter stops last, with the spans of the last requests; it never stops the proxy.
        if let tracing {
            services.append(
                .init(
                    service: SpanExporting(service: tracing.service, flushLimit: .seconds(5), logger: logger),
                    successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore, serviceName: "tracing"))
        }
        services.append(.init(service: CredentialRefresher(provider: credentials), serviceName: "credentials"))
        if let clientCredentials {
            services.append(
                .init(
                    service: ClientCredentialsWatcher(
                        credentials: clientCredentials, interval: .seconds(1), logger: logger),
                    serviceName: "client credentials"))
        }
        services += [
            .init(service: admin, serviceName: "admin listener"),
            .init(service: server, serviceName: "SQS listener"),
        ]
        var serviceConfiguration = ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        serviceConfiguration.maximumGracefulShutdownDuration = configuration.shutdownGracePeriod
        // The SQS connections close once the last request is answered.
        do {
            try await ServiceGroup(configuration: serviceConfiguration).run()
        } catch {
            await transport.shutdown()
            throw error
        }
        await transport.shutdown()
    }
}

/// Whether a listener on `host` is reachable from this host only.
func isLoopback(_ host: String) -> Bool {
    host == "localhost" || host == "::1" || host.hasPrefix("127.")
}

/// Set once graceful shutdown has begun.
final class DrainingFlag: Sendable {
    private let value = Atomic(false)

    func set() { value.store(true, ordering: .relaxed) }

    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Keeps the credentials fresh while the proxy runs.
struct CredentialRefresher: Service {
    let provider: any CredentialProvider

    func run() async throws {
        await cancelWhenGracefulShutdown { await provider.run() }
        // Fixed credentials have nothing to refresh: the service still lasts until shutdown.
        try? await gracefulShutdown()
    }
}

/// Whether an upstream endpoint answers HTTP at all (any status counts), remembered for a
/// few seconds so that frequent probes do not become upstream load.
final class UpstreamReachability: Sendable {
    let client: HTTPClient
    let endpoint: UpstreamEndpoint
    private let last = Mutex<(at: ContinuousClock.Instant, reachable: Bool)?>(nil)

    init(client: HTTPClient, endpoint: UpstreamEndpoint) {
        self.client = client
        self.endpoint = endpoint
    }

    func check() async -> Bool {
        if let last = last.withLock({ $0 }), ContinuousClock.now - last.at < .seconds(5) { return last.reachable }
        var request = HTTPClientRequest(url: endpoint.description + "/")
        request.method = .GET
        let reachable: Bool
        do {
            let response = try await client.execute(request, deadline: .now() + .seconds(2))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            reachable = true
        } catch {
            reachable = false
        }
        last.withLock { $0 = (ContinuousClock.now, reachable) }
        return reachable
    }
}

/// Reads the client credentials file again every `interval` while the proxy runs. A file that
/// became unreadable or invalid leaves the keys as they were, with one warning per change.
struct ClientCredentialsWatcher: Service {
    let credentials: ClientCredentials
    let interval: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown { await watch() }
    }

    private func watch() async {
        var lastProblem: String?
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            switch await credentials.reload() {
            case .success(let count):
                lastProblem = nil
                logger.notice("client credentials read again", metadata: ["keys": "\(count)"])
            case .failure(let error) where error.description != lastProblem:
                lastProblem = error.description
                logger.warning(
                    "client credentials file not taken; the keys stay as they were",
                    metadata: ["error": "\(error.description)"])
            default:
                break
            }
        }
    }
}
