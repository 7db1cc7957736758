import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The upstream connections of one event loop: carries out what ``ConnectionPoolState`` decides,
/// makes connections, runs each request within its deadline. Used on its event loop only, so it
/// needs no lock.
final class EventLoopConnectionPool {
    typealias Completion = @Sendable (Result<UpstreamResponse, SQSTransportError>) -> Void

    private struct Pending {
        var request: UpstreamRequest
        let completion: Completion
        var timer: Scheduled<Void>?
        var connection: ConnectionPoolState.ConnectionID?
        /// Sent again once already after finding its connection closed.
        var resent = false
    }

    let eventLoop: any EventLoop
    private let settings: SQSTransport.Settings
    private let tls: NIOSSLContext?
    private var state: ConnectionPoolState
    private var connections: [ConnectionPoolState.ConnectionID: UpstreamConnectionHandler] = [:]
    private var pending: [ConnectionPoolState.RequestID: Pending] = [:]
    private var nextID = 0
    private var closed: EventLoopPromise<Void>?

    init(eventLoop: any EventLoop, settings: SQSTransport.Settings, tls: NIOSSLContext?) {
        self.eventLoop = eventLoop
        self.settings = settings
        self.tls = tls
        self.state = ConnectionPoolState(maxConnections: settings.maxConnectionsPerLoop)
    }

    /// Runs `request` (`id` unique in the transport); `completion` gets its response or error.
    func execute(_ request: UpstreamRequest, id: Int, deadline: NIODeadline, completion: @escaping Completion) {
        let id = ConnectionPoolState.RequestID(value: id)
        let timer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in timedOut(id) }
        pending[id] = Pending(request: request, completion: completion, timer: timer)
        lease(id)
    }

    /// Closes the idle connections and fails waiting requests; busy connections close after
    /// their request. The future completes once every connection is closed.
    func shutDown() -> EventLoopFuture<Void> {
        let (closing, failing) = state.shutDown()
        for connection in closing { connections[connection]?.closeIfIdle() }
        for request in failing { finish(request, .failure(.shutDown)) }
        let promise = eventLoop.makePromise(of: Void.self)
        closed = promise
        completeShutdownIfDone()
        return promise.futureResult
    }

    private func lease(_ id: ConnectionPoolState.RequestID) {
        guard let request = pending[id]?.request else { return }
        switch state.lease(id, bounded: !request.mayLongPoll) {
        case .use(let connection): run(id, on: connection)
        case .connect: connect(dedicatedTo: nil)
        case .connectDedicated: connect(dedicatedTo: id)
        case .wait: break
        case .failShutDown: finish(id, .failure(.shutDown))
        }
    }

    private func perform(_ action: ConnectionPoolState.Action) {
        switch action {
        case .none: break
        case .run(let request, let connection): run(request, on: connection)
        case .connect: connect(dedicatedTo: nil)
        case .close(let connection): connections[connection]?.closeIfIdle()
        }
    }

    private func run(_ id: ConnectionPoolState.RequestID, on connection: ConnectionPoolState.ConnectionID) {
        guard let handler = connections[connection] else {
            perform(state.release(connection, reusable: false))
            lease(id)
            return
        }
        guard let request = pending[id]?.request else {
            // The request gave up while its connection was made.
            perform(state.release(connection, reusable: true))
            return
        }
        pending[id]?.connection = connection
        handler.execute(request) { [self] result in
            // A connection found closed (the server ended it while idle) wrote nothing: the
            // request goes out on another, once. A second closed one fails it as not sent, for
            // the caller's retries and their backoff, so that a server closing every connection
            // at once is not connected to in a loop until the deadline.
            if case .failure(.connectionClosed(written: false)) = result, pending[id]?.resent == false {
                pending[id]?.connection = nil
                pending[id]?.resent = true
                lease(id)
                return
            }
            finish(id, result)
        }
    }

    /// Waits for the CONNECT tunnel of `channel` to open, then replaces the handlers that opened it
    /// by the connection's own.
    private static func openTunnel(
        _ channel: any Channel,
        then addConnectionHandlers: @escaping (ChannelPipeline.SynchronousOperations) throws -> Void
    ) -> EventLoopFuture<Void> {
        let pipeline = channel.pipeline.syncOperations
        let tunnel: ProxyTunnelHandler
        let decoder: ByteToMessageHandler<HTTPResponseDecoder>
        let encoder: HTTPRequestEncoder
        do {
            tunnel = try pipeline.handler(type: ProxyTunnelHandler.self)
            decoder = try pipeline.handler(type: ByteToMessageHandler<HTTPResponseDecoder>.self)
            encoder = try pipeline.handler(type: HTTPRequestEncoder.self)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return tunnel.established.futureResult.assumeIsolated()
            .flatMap { pipeline.removeHandler(tunnel) }
            .flatMap { pipeline.removeHandler(decoder) }
            .flatMap { pipeline.removeHandler(encoder) }
            .flatMapThrowing { try addConnectionHandlers(pipeline) }
            .nonisolated()
    }

    private func connect(dedicatedTo request: ConnectionPoolState.RequestID?) {
        let id = ConnectionPoolState.ConnectionID(value: makeID())
        let handler = UpstreamConnectionHandler(
            id: id, maxResponseSize: settings.maxResponseSize, idleTimeout: settings.idleTimeout)
        let host = settings.host
        let tls = self.tls
        let serverName = settings.serverName
        let boundHandler = NIOLoopBound(handler, eventLoop: eventLoop)
        let proxy = settings.proxy
        // Through a proxy, a TLS upstream is reached in a CONNECT tunnel, opened before TLS starts.
        let tunnels = proxy != nil && tls != nil
        let target = (host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host) + ":\(settings.port)"
        let connectTimeout = settings.connectTimeout
        @Sendable func addConnectionHandlers(_ pipeline: ChannelPipeline.SynchronousOperations) throws {
            if let tls {
                try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
            }
            try pipeline.addHTTPClientHandlers(leftOverBytesStrategy: .fireError)
            try pipeline.addHandler(boundHandler.value)
        }
        ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    guard tunnels else { return try addConnectionHandlers(pipeline) }
                    try pipeline.addHandler(HTTPRequestEncoder())
                    try pipeline.addHandler(
                        ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
                    try pipeline.addHandler(
                        ProxyTunnelHandler(
                            target: target, authorization: proxy?.authorization, timeout: connectTimeout,
                            established: channel.eventLoop.makePromise()))
                }
            }
            .connect(host: proxy?.host ?? host, port: proxy?.port ?? settings.port)
            .assumeIsolated()
            .flatMap { channel -> EventLoopFuture<Void> in
                guard tunnels else { return channel.eventLoop.makeSucceededVoidFuture() }
                return Self.openTunnel(channel, then: addConnectionHandlers)
            }
            .whenComplete { [self] result in
                switch result {
                case .success:
                    connections[id] = handler
                    let events = UpstreamConnectionHandler.Events(
                        released: { [self] connection, reusable in released(connection, reusable: reusable) },
                        closed: { [self] connection in
                            state.connectionClosed(connection)
                            forget(connection)
                        })
                    let open = handler.attach(events)
                    if let request {
                        state.connectedDedicated(id)
                        open ? run(request, on: id) : released(id, reusable: false)
                    } else {
                        perform(state.connected(id))
                        if !open { connections[id]?.closeIfIdle() }
                    }
                case .failure(let error):
                    let failure = SQSTransportError.connectFailed("\(host):\(settings.port): \(error)")
                    if let request {
                        finish(request, .failure(failure))
                    } else if let waiting = state.connectFailed() {
                        finish(waiting, .failure(failure))
                    }
                    completeShutdownIfDone()
                }
            }
    }

    private func released(_ connection: ConnectionPoolState.ConnectionID, reusable: Bool) {
        if !reusable { forget(connection) }
        perform(state.release(connection, reusable: reusable))
    }

    /// A closed connection leaves the pool; the shutdown completes with the last one.
    private func forget(_ connection: ConnectionPoolState.ConnectionID) {
        connections[connection] = nil
        completeShutdownIfDone()
    }

    /// Gives up request `id` (its caller's task was cancelled).
    func cancel(_ id: Int) {
        abandon(ConnectionPoolState.RequestID(value: id), waiting: .cancelled, running: .cancelled)
    }

    private func timedOut(_ id: ConnectionPoolState.RequestID) {
        pending[id]?.timer = nil
        abandon(id, waiting: .timedOutWaiting, running: .timedOut)
    }

    /// Fails a request: at once if it waits for a connection, else by closing its connection.
    private func abandon(
        _ id: ConnectionPoolState.RequestID, waiting: SQSTransportError, running: SQSTransportError
    ) {
        guard let entry = pending[id] else { return }
        if let connection = entry.connection {
            connections[connection]?.abandon(with: running)
        } else {
            _ = state.cancel(id)
            finish(id, .failure(waiting))
        }
    }

    private func finish(_ id: ConnectionPoolState.RequestID, _ result: Result<UpstreamResponse, SQSTransportError>) {
        guard let entry = pending.removeValue(forKey: id) else { return }
        entry.timer?.cancel()
        entry.completion(result)
    }

    private func completeShutdownIfDone() {
        guard state.isShutDown, connections.isEmpty, state.connecting == 0, let closed else { return }
        self.closed = nil
        closed.succeed()
    }

    private func makeID() -> Int {
        nextID &+= 1
        return nextID
    }
}
