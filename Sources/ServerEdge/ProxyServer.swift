import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import RequestLimits
import RequestTracing
import SQSWire
import ServiceLifecycle

/// What answers the requests the server reads: the request path.
public protocol RequestResponder: Sendable {
    /// Whether request bodies are hashed (SHA-256) as they are read, for a client signature.
    var hashesBodies: Bool { get }
    /// Answers one request whose body is read as needed. Throws only when the connection failed
    /// while the body was read: nothing can be answered then.
    func respond(to context: RequestContext, body: RequestBody) async throws -> ProxyResponse
}

/// The SQS listener: HTTP/1.1 with keep-alive, one structured task per connection, requests on a
/// connection answered in order. On graceful shutdown it stops accepting, closes idle connections
/// and lets every request in progress (a long poll included) finish, then closes its connection.
public struct ProxyServer<Handler: RequestResponder>: Service {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    let host: String
    let port: Int
    /// How long a connection may stay idle between requests.
    let clientIdleTimeout: Duration
    /// Client connections served at once; more wait in the listener's backlog.
    let maxConnections: Int
    /// How long a request body may stop arriving before its connection is closed.
    let requestBodyTimeout: Duration
    /// How long a request head may take to arrive once its first byte did.
    let requestHeadTimeout: Duration
    /// The largest request head (request line and headers) read, in bytes.
    let maxRequestHeadSize: Int
    /// The bodies held in memory across requests; nil: not bounded.
    let memoryBudget: MemoryBudget?
    /// What a request may be and hold, decided from its head.
    let limits: RequestLimits
    let handler: Handler
    /// Starts each request's trace; nil when tracing is off.
    let tracer: RequestTracer?
    let group: any EventLoopGroup
    let logger: Logger
    let onShutdown: @Sendable () -> Void
    let onBound: @Sendable (SocketAddress) -> Void

    /// - Parameters:
    ///   - onShutdown: called when graceful shutdown begins.
    ///   - onBound: learns the bound address.
    public init(
        host: String, port: Int, clientIdleTimeout: Duration, maxConnections: Int = 1024,
        requestBodyTimeout: Duration = .seconds(20), requestHeadTimeout: Duration = .seconds(10),
        maxRequestHeadSize: Int = 64 * 1024, memoryBudget: MemoryBudget? = nil, limits: RequestLimits,
        handler: Handler, tracer: RequestTracer? = nil, group: any EventLoopGroup, logger: Logger,
        onShutdown: @escaping @Sendable () -> Void = {}, onBound: @escaping @Sendable (SocketAddress) -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.clientIdleTimeout = clientIdleTimeout
        self.maxConnections = maxConnections
        self.requestBodyTimeout = requestBodyTimeout
        self.requestHeadTimeout = requestHeadTimeout
        self.maxRequestHeadSize = maxRequestHeadSize
        self.memoryBudget = memoryBudget
        self.limits = limits
        self.handler = handler
        self.tracer = tracer
        self.group = group
        self.logger = logger
        self.onShutdown = onShutdown
        self.onBound = onBound
    }

    /// Binds the listener, then serves until cancelled or shut down gracefully. A graceful
    /// shutdown goes through NIO's quiescing: the listener stops accepting, idle connections close
    /// at once, and each request in progress is answered with `Connection: close` (by
    /// `HTTPServerPipelineHandler`) before its connection closes.
    public func run() async throws {
        let quiescing = ServerQuiescingHelper(group: group)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { [maxConnections] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectionLimiter(maxConnections: maxConnections))
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: Self.readsPerWakeup)
            .bind(host: host, port: port) {
                [clientIdleTimeout, requestBodyTimeout, requestHeadTimeout, maxRequestHeadSize] channel in
                channel.eventLoop.makeCompletedFuture {
                    try HTTPServerChannel.configure(
                        channel, maxHeadSize: maxRequestHeadSize, headTimeout: requestHeadTimeout.timeAmount)
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPProtocolErrorResponder(maxHeadSize: maxRequestHeadSize))
                    try channel.pipeline.syncOperations.addHandler(
                        IdleConnectionCloser(timeout: clientIdleTimeout.timeAmount))
                    try channel.pipeline.syncOperations.addHandler(
                        StalledBodyCloser(timeout: requestBodyTimeout.timeAmount))
                    return try Connection(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: Self.readAhead))
                }
            }
        if let address = server.channel.localAddress { onBound(address) }
        try await withThrowingDiscardingTaskGroup { group in
            try await withGracefulShutdownHandler {
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask { await serve(connection) }
                    }
                }
            } onGracefulShutdown: {
                logger.info("shutting down: no new connections; finishing requests in progress")
                onShutdown()
                quiescing.initiateShutdown(promise: nil)
            }
        }
    }

    /// How many request parts a connection reads ahead of its request path. With the reads of one
    /// wakeup (each at most 64 KiB) it bounds what a connection holds that the memory budget does
    /// not count: about half a MiB.
    static var readAhead: NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark {
        .init(lowWatermark: 2, highWatermark: 4)
    }
    /// The reads of one wakeup of a connection.
    static var readsPerWakeup: UInt { 4 }

    /// Serves one connection. When its client goes away while the request in progress may be
    /// abandoned (``ClientPresence``), the serving is cancelled: the request's upstream calls and
    /// their connections are given up.
    private func serve(_ connection: Connection) async {
        let presence = ClientPresence()
        connection.channel.closeFuture.whenComplete { _ in presence.clientLeft() }
        do {
            try await connection.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await serveRequests(inbound: inbound, outbound: outbound, presence: presence) }
                    group.addTask { await presence.abandoned() }
                    // Whichever ends first ends the other: the connection was served, or abandoned.
                    defer { group.cancelAll() }
                    try await group.next()
                }
            }
        } catch {
            logger.debug("connection closed", metadata: ["error": "\(error)"])
        }
    }

    /// Answers the requests of one connection in order, until it ends or one is not kept alive.
    func serveRequests(
        inbound: NIOAsyncChannelInboundStream<HTTPServerRequestPart>,
        outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, presence: ClientPresence = ClientPresence()
    ) async throws {
        var parts = inbound.makeAsyncIterator()
        while let part = try await parts.next() {
            guard case .head(let head) = part else { continue }
            let started = ContinuousClock.now
            let lease = memoryBudget.map(MemoryLease.init)
            defer { lease?.end() }
            presence.requestBegins()
            let trace = tracer?.start("SQS", headers: head.headers)
            let response: ProxyResponse
            let reusable: Bool
            do {
                (response, reusable) = try await MemoryLease.$current.withValue(lease) {
                    try await ClientPresence.$current.withValue(presence) {
                        try await traced(trace) {
                            try await answer(head, parts: &parts, outbound: outbound, lease: lease)
                        }
                    }
                }
            } catch {
                trace?.abandon(error)
                throw error
            }
            let keepAlive = reusable && head.isKeepAlive
            lease?.charge(response.body.readableBytes)
            do {
                // A streamed body's reads from S3 are the request's too: its span ends with the last byte.
                try await traced(trace) {
                    try await write(response, keepAlive: keepAlive, version: head.version, to: outbound)
                }
            } catch {
                trace?.finish(response, failure: error)
                throw error
            }
            trace?.finish(response, failure: nil)
            presence.requestBegins()
            logAnswered(response, duration: ContinuousClock.now - started)
            guard keepAlive else { return }
        }
    }

    /// Reads and answers one request; `reusable` is false when the connection cannot carry another.
    /// A request whose declared body is over the limit, or that the memory budget has no room for,
    /// is refused before its body is read.
    private func answer(
        _ head: HTTPRequestHead, parts: inout NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>, lease: MemoryLease?
    ) async throws -> (response: ProxyResponse, reusable: Bool) {
        let context = RequestContext(head: head, limits: limits)
        let (limit, heldLimit) = (context.body.limit, context.body.hold)
        let expectsContinue = head.headers.first(name: "expect")?.lowercased() == "100-continue"
        func refusal(_ error: SQSError = .requestTooLarge(limit: limit)) -> ProxyResponse {
            var response = ProxyResponse.error(error, wireProtocol: context.wireProtocol)
            response.action = context.namedAction
            return response
        }
        let refused: SQSError? =
            if let declaredLength = context.declaredLength, declaredLength > limit {
                .requestTooLarge(limit: limit)
            } else if let lease, !lease.admits(min(context.declaredLength ?? 0, heldLimit)) {
                .overMemoryBudget
            } else {
                nil
            }
        if let refused {
            // A client waiting for 100-continue sends nothing; any other is still sending, so its
            // body is read and dropped first.
            guard !expectsContinue else { return (refusal(refused), false) }
            let body = RequestBody(parts: parts, limit: context.declaredLength ?? limit)
            do {
                try await body.drain()
            } catch is RequestBody.TooLarge {
                parts = body.parts
                return (refusal(refused), false)
            }
            parts = body.parts
            return (refusal(refused), true)
        }
        if expectsContinue {
            try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .continue)))
        }
        let body = RequestBody(
            parts: parts, limit: limit, hashing: handler.hashesBodies, lease: lease, heldLimit: heldLimit)
        var response: ProxyResponse? = try await handler.respond(to: context, body: body)
        // A request answered before its body was read (refused half-way) is drained, so that the
        // client, still sending, gets to read the answer.
        do {
            try await body.drain()
        } catch is RequestBody.TooLarge {
            response = nil
        }
        parts = body.parts
        // A body without a declared length that went past the limit cannot be drained.
        guard let response else { return (refusal(), false) }
        return (response, true)
    }

    /// Runs `body` as the work of `trace`'s request, when there is one (inlined: with tracing off,
    /// `body` is all that runs).
    @inline(__always)
    private func traced<Result>(_ trace: RequestTrace?, _ body: () async throws -> Result) async throws -> Result {
        guard let trace else { return try await body() }
        return try await RequestTrace.$current.withValue(trace) { try await body() }
    }

    /// The request log line (info) and the request metrics.
    private func logAnswered(_ response: ProxyResponse, duration: Duration) {
        let action = response.action?.rawValue ?? "Unknown"
        ServerMetrics.requestAnswered(action: action, status: response.status, duration: duration)
        // The metadata is built only when info lines are written.
        logger.info("request", metadata: Self.requestMetadata(response, action: action, duration: duration))
    }

    private static func requestMetadata(_ response: ProxyResponse, action: String, duration: Duration)
        -> Logger.Metadata
    {
        var metadata: Logger.Metadata = [
            "action": "\(action)", "status": "\(response.status.code)",
            "duration_ms":
                "\(Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds / 1_000_000_000_000) / 1000)",
            "request_id": "\(response.headers.first(name: "x-amzn-RequestId") ?? "")",
        ]
        if let queueURL = response.queueURL { metadata["queue"] = "\(queueURL.split(separator: "/").last ?? "")" }
        return metadata
    }

    private func write(
        _ response: ProxyResponse, keepAlive: Bool, version: HTTPVersion,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var headers = response.headers
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        guard let streamedBody = response.streamedBody else {
            headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
            let head = HTTPResponseHead(version: version, status: response.status, headers: headers)
            try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(response.body)), .end(nil)])
            return
        }
        headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
        try await outbound.write(.head(HTTPResponseHead(version: version, status: response.status, headers: headers)))
        try await streamedBody(ResponseBodyWriter(outbound: outbound))
        try await outbound.write(.end(nil))
    }
}

extension Duration {
    /// The same span as NIO's `TimeAmount` (whole nanoseconds).
    public var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
