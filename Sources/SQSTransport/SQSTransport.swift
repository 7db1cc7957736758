import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// The proxy's HTTP/1.1 client for SQS calls: keep-alive connections to one endpoint, pooled per
/// event loop, a request run on the event loop its caller runs on (the client connection's, for
/// the request path), head and body written at once, the response collected whole.
///
/// Leaner than a general HTTP client by design: no redirects, no streaming bodies. Through a
/// forward proxy, a TLS upstream is reached in a CONNECT tunnel (opened in front of TLS in each
/// connection's pipeline) and a plain one with absolute-URI requests.
public final class SQSTransport: Sendable {
    /// Where and how to connect.
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        /// TLS when set: the trust roots (the system's by default) and the server name sent.
        public var tls: TLSConfiguration?
        public var connectTimeout: TimeAmount
        /// How long a connection stays open without a request.
        public var idleTimeout: TimeAmount
        /// Connections per event loop for requests that do not long-poll; more wait in order.
        public var maxConnectionsPerLoop: Int
        public var maxResponseSize: Int
        /// The forward proxy connections go through; nil: straight to the upstream.
        public var proxy: ForwardProxy?

        public init(
            host: String, port: Int, tls: TLSConfiguration?, connectTimeout: TimeAmount = .seconds(5),
            idleTimeout: TimeAmount = .seconds(30), maxConnectionsPerLoop: Int = 64,
            maxResponseSize: Int = 64 * 1024 * 1024, proxy: ForwardProxy? = nil
        ) {
            self.host = host
            self.port = port
            self.tls = tls
            self.proxy = proxy
            self.connectTimeout = connectTimeout
            self.idleTimeout = idleTimeout
            self.maxConnectionsPerLoop = maxConnectionsPerLoop
            self.maxResponseSize = maxResponseSize
        }

        /// The name for SNI and certificate checks: the host, unless it is an IP address.
        var serverName: String? {
            let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
            return isAddress ? nil : host
        }
    }

    private let group: any EventLoopGroup
    /// The forward proxy that plain requests are sent to with absolute URIs; nil for a TLS upstream
    /// (tunnelled) or without a proxy.
    private let absoluteURIProxy: ForwardProxy?
    private let nextRequestID = Atomic(0)
    private let pools: [ObjectIdentifier: NIOLoopBoundBox<EventLoopConnectionPool>]

    /// - Throws: when the TLS settings cannot be loaded (a CA bundle that cannot be read).
    public init(settings: Settings, group: any EventLoopGroup) throws {
        self.group = group
        absoluteURIProxy = settings.tls == nil ? settings.proxy : nil
        let tls = try settings.tls.map { try NIOSSLContext(configuration: $0) }
        var pools: [ObjectIdentifier: NIOLoopBoundBox<EventLoopConnectionPool>] = [:]
        for eventLoop in group.makeIterator() {
            pools[ObjectIdentifier(eventLoop)] = NIOLoopBoundBox.makeBoxSendingValue(
                EventLoopConnectionPool(eventLoop: eventLoop, settings: settings, tls: tls), eventLoop: eventLoop)
        }
        self.pools = pools
    }

    /// Sends `request`; throws an ``SQSTransportError``. It runs on the calling event loop's pool
    /// (another of the group's when the caller is not on one). Cancelling the task fails the
    /// request with `cancelled` and closes its connection if it had gone out.
    public func execute(_ request: UpstreamRequest, deadline: NIODeadline) async throws -> UpstreamResponse {
        var request = request
        if let proxy = absoluteURIProxy {
            // `http://host` from the request's Host header, which names the upstream.
            request.head.uri = "http://" + (request.head.headers.first(name: "host") ?? "") + request.head.uri
            if let authorization = proxy.authorization {
                request.head.headers.replaceOrAdd(name: "Proxy-Authorization", value: authorization)
            }
        }
        let response = try await send(request, deadline: deadline)
        // The proxy's own refusal: the request never reached the upstream.
        if absoluteURIProxy != nil && response.status == .proxyAuthenticationRequired {
            throw SQSTransportError.connectFailed("the proxy \(absoluteURIProxy!) refused the request: 407")
        }
        return response
    }

    private func send(_ request: UpstreamRequest, deadline: NIODeadline) async throws -> UpstreamResponse {
        let eventLoop = group.any()
        guard let pool = pools[ObjectIdentifier(eventLoop)] else { throw SQSTransportError.shutDown }
        let id = nextRequestID.wrappingAdd(1, ordering: .relaxed).newValue
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                let completion: EventLoopConnectionPool.Completion = { continuation.resume(with: $0) }
                if eventLoop.inEventLoop {
                    pool.value.execute(request, id: id, deadline: deadline, completion: completion)
                } else {
                    eventLoop.execute {
                        pool.value.execute(request, id: id, deadline: deadline, completion: completion)
                    }
                }
            }
        } onCancel: {
            eventLoop.execute { pool.value.cancel(id) }
        }
    }

    /// Sends `request` from the event loop it is called on; for tests that drive several
    /// requests from one loop at once.
    func submit(_ request: UpstreamRequest, deadline: NIODeadline) -> EventLoopFuture<UpstreamResponse> {
        let eventLoop = group.any()
        let promise = eventLoop.makePromise(of: UpstreamResponse.self)
        let id = nextRequestID.wrappingAdd(1, ordering: .relaxed).newValue
        eventLoop.execute {
            self.pools[ObjectIdentifier(eventLoop)]?.value.execute(request, id: id, deadline: deadline) {
                promise.completeWith($0.mapError { $0 })
            }
        }
        return promise.futureResult
    }

    /// Stops taking requests: idle connections close at once, busy ones after their request.
    /// Returns when every connection is closed.
    public func shutdown() async {
        await withTaskGroup(of: Void.self) { tasks in
            for pool in pools.values {
                tasks.addTask { _ = try? await pool.eventLoop.flatSubmit { pool.value.shutDown() }.get() }
            }
        }
    }
}
