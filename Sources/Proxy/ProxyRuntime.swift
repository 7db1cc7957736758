import AWSSigning
import AsyncHTTPClient
import Logging
import NIOCore
import NIOPosix
import ObjectStore

/// Wires the proxy together: one event loop group, one pooled upstream client, the listener.
public enum ProxyRuntime {
    /// Runs the proxy until the task is cancelled; `onBound` learns the listener's address.
    public static func run(
        configuration: ProxyConfiguration, credentials: any CredentialProvider, logger: Logger,
        onBound: @Sendable (SocketAddress) -> Void = { _ in }
    ) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.timeout = .init(
            connect: .milliseconds(Int64(configuration.upstreamConnectTimeout * 1000)),
            read: .milliseconds(Int64(configuration.upstreamReadTimeout * 1000)))
        clientConfiguration.connectionPool = .init(
            idleTimeout: .seconds(55), concurrentHTTP1ConnectionsPerHostSoftLimit: 1024)
        clientConfiguration.redirectConfiguration = .disallow
        clientConfiguration.decompression = .disabled
        let client = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: clientConfiguration)
        let upstream = SQSUpstream(
            client: client, endpoint: configuration.sqsEndpoint, region: configuration.region,
            credentials: credentials,
            readTimeout: .milliseconds(Int64(configuration.upstreamReadTimeout * 1000)))
        let store = S3ObjectStore(
            client: client, endpoint: configuration.s3Endpoint, region: configuration.region, credentials: credentials,
            timeout: .milliseconds(Int64(configuration.upstreamReadTimeout * 1000)))
        let uploader = MultipartUploader(
            store: store, partSize: configuration.partSize, partsInFlight: configuration.partsInFlight)
        let extendedClient = ExtendedClient(
            settings: try ExtendedClient.Settings(configuration), store: store, uploader: uploader, upstream: upstream,
            queues: QueueAttributeCache(), logger: logger)
        let server = ProxyServer(
            configuration: configuration,
            handler: SQSRequestHandler(
                upstream: upstream, extendedClient: extendedClient,
                maxHeldRequestSize: configuration.maxRequestBodySize, logger: logger),
            group: group, logger: logger)
        do {
            try await server.run(onBound: onBound)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}
