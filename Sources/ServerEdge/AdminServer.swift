import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The admin listener, apart from the SQS one: `GET /healthz` (the process serves),
/// `GET /readyz` (credentials usable, upstream reachable, not shutting down) and `GET /metrics`
/// (Prometheus text format). It has the SQS listener's defences: a request head must arrive within
/// the head timeout, an idle connection is closed, and at most `maxConnections` are served at once
/// (more wait in the backlog). Concurrent readiness checks share one probe.
public struct AdminServer: Service {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// What `/readyz` reports.
    public struct Readiness: Sendable {
        public var ready: Bool
        /// One line per check, for a person reading the probe's answer.
        public var detail: String

        public init(ready: Bool, detail: String) {
            self.ready = ready
            self.detail = detail
        }
    }

    let host: String
    let port: Int
    /// Connections served at once; more wait in the listener's backlog.
    let maxConnections: Int
    /// How long a connection may stay idle between requests.
    let idleTimeout: Duration
    /// How long a request head may take to arrive once its first byte did.
    let headTimeout: Duration
    let group: any EventLoopGroup
    let readiness: SharedProbe<Readiness>
    let metrics: @Sendable () -> [UInt8]
    let logger: Logger
    let onBound: @Sendable (SocketAddress) -> Void

    /// The largest admin request head: a probe's or a scraper's needs far less.
    static let maxHeadSize = 16 * 1024

    public init(
        host: String, port: Int, maxConnections: Int = 512, idleTimeout: Duration = .seconds(60),
        headTimeout: Duration = .seconds(10), group: any EventLoopGroup, logger: Logger,
        readiness: @escaping @Sendable () async -> Readiness, metrics: @escaping @Sendable () -> [UInt8],
        onBound: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.headTimeout = headTimeout
        self.group = group
        self.logger = logger
        self.readiness = SharedProbe(readiness)
        self.metrics = metrics
        self.onBound = onBound
    }

    /// Serves until cancelled or shut down gracefully (the last step of the proxy's shutdown).
    public func run() async throws {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { [maxConnections] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectionLimiter(maxConnections: maxConnections))
                }
            }
            .bind(host: host, port: port) { [headTimeout, idleTimeout] channel in
                channel.eventLoop.makeCompletedFuture {
                    try HTTPServerChannel.configure(
                        channel, maxHeadSize: Self.maxHeadSize, headTimeout: headTimeout.timeAmount)
                    try channel.pipeline.syncOperations.addHandler(HTTPServerProtocolErrorHandler())
                    try channel.pipeline.syncOperations.addHandler(
                        IdleConnectionCloser(timeout: idleTimeout.timeAmount))
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        if let address = server.channel.localAddress { onBound(address) }
        do {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    try await server.executeThenClose { connections in
                        for try await connection in connections {
                            group.addTask { await serve(connection) }
                        }
                    }
                }
            }
        } catch is CancellationError {
            // Shut down: the listener and its connections are closed.
        }
    }

    private func serve(_ connection: Connection) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                for try await part in inbound {
                    guard case .head(let head) = part else { continue }
                    let (status, contentType, body) = await answer(head)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: contentType)
                    headers.add(name: "Content-Length", value: String(body.count))
                    if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
                    try await outbound.write(
                        contentsOf: [
                            .head(HTTPResponseHead(version: head.version, status: status, headers: headers)),
                            .body(.byteBuffer(ByteBuffer(bytes: body))), .end(nil),
                        ])
                    if !head.isKeepAlive { return }
                }
            }
        } catch {
            logger.debug("admin connection closed", metadata: ["error": "\(error)"])
        }
    }

    private func answer(_ head: HTTPRequestHead) async -> (HTTPResponseStatus, String, [UInt8]) {
        let path = head.uri.prefix { $0 != "?" }
        guard head.method == .GET || head.method == .HEAD else {
            return (.methodNotAllowed, "text/plain; charset=utf-8", Array("GET only\n".utf8))
        }
        switch path {
        case "/healthz":
            return (.ok, "text/plain; charset=utf-8", Array("ok\n".utf8))
        case "/readyz":
            let readiness = await readiness.result()
            return (
                readiness.ready ? .ok : .serviceUnavailable, "text/plain; charset=utf-8",
                Array((readiness.detail + "\n").utf8)
            )
        case "/metrics":
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", metrics())
        default:
            return (.notFound, "text/plain; charset=utf-8", Array("not found: /healthz, /readyz, /metrics\n".utf8))
        }
    }
}
