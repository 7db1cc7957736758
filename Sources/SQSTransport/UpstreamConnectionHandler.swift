import NIOCore
import NIOHTTP1

/// The last handler of an upstream connection's pipeline (after NIOHTTP1's request encoder and
/// response decoder, and TLS): runs one request at a time as ``UpstreamConnectionState`` says,
/// and tells its pool when the connection comes free or goes away. Everything happens on the
/// connection's event loop.
final class UpstreamConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Never
    typealias OutboundOut = HTTPClientRequestPart
    typealias Completion = (Result<UpstreamResponse, SQSTransportError>) -> Void

    /// What the pool learns from the connection.
    struct Events {
        /// The request is done with the connection; `reusable` when it may carry another.
        var released: (ConnectionPoolState.ConnectionID, _ reusable: Bool) -> Void
        /// The connection closed while no request was on it.
        var closed: (ConnectionPoolState.ConnectionID) -> Void
    }

    let id: ConnectionPoolState.ConnectionID
    private var state: UpstreamConnectionState
    private let idleTimeout: TimeAmount
    private var events: Events?
    private var context: ChannelHandlerContext?
    private var completion: Completion?
    /// Since when the connection is idle; its idle timer closes it once `idleTimeout` has passed.
    private var idleSince = NIODeadline.now()
    private var idleTimer: Scheduled<Void>?

    init(id: ConnectionPoolState.ConnectionID, maxResponseSize: Int, idleTimeout: TimeAmount) {
        self.id = id
        self.state = UpstreamConnectionState(maxResponseSize: maxResponseSize)
        self.idleTimeout = idleTimeout
    }

    /// Connects the handler to its pool once the connection is made (on the event loop); false if
    /// the connection closed already.
    func attach(_ events: Events) -> Bool {
        guard let context, context.channel.isActive, state.state == .idle else { return false }
        self.events = events
        idleSince = .now()
        scheduleIdleCheck(at: idleSince + idleTimeout)
        return true
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        self.context = nil
    }

    /// Sends `request` and calls `completion` with its response, after the pool learnt that the
    /// connection is free again. A connection found closed fails it at once with
    /// `connectionClosed(written: false)`, having written nothing.
    func execute(_ request: UpstreamRequest, completion: @escaping Completion) {
        self.completion = completion
        let closes = request.head.headers.first(name: "connection")?.lowercased() == "close"
        let isActive = context?.channel.isActive ?? false
        run(state.startRequest(isActive: isActive, closes: closes), request: request)
    }

    /// The request's deadline passed, or its caller gave up: it fails with `error`.
    func abandon(with error: SQSTransportError) {
        run(state.abandon(with: error))
    }

    /// Closes the connection if it is idle (the pool shuts down).
    func closeIfIdle() {
        run(state.closeIfIdle())
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): run(state.responseHead(head))
        case .body(let part): run(state.responseBodyPart(part))
        case .end: run(state.responseEnd())
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        run(state.errorCaught(error))
    }

    func channelInactive(context: ChannelHandlerContext) {
        run(state.channelInactive())
        context.fireChannelInactive()
    }

    private func run(_ action: UpstreamConnectionState.Action, request: UpstreamRequest? = nil) {
        switch action {
        case .none:
            break
        case .writeRequest:
            guard let context, let request else { return }
            context.write(wrapOutboundOut(.head(request.head)), promise: nil)
            if request.body.readableBytes > 0 {
                context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
            }
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.assumeIsolated().whenSuccess { [self] in run(state.requestWritten()) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        case .succeedRequest(let response, let reuse):
            let completion = self.completion
            self.completion = nil
            if reuse {
                idleSince = .now()
            } else {
                context?.close(promise: nil)
            }
            events?.released(id, reuse)
            completion?(.success(response))
        case .failRequest(let error, let close):
            let completion = self.completion
            self.completion = nil
            if close { context?.close(promise: nil) }
            events?.released(id, false)
            completion?(.failure(error))
        case .forgetConnection:
            events?.closed(id)
        case .closeConnection:
            context?.close(promise: nil)
        }
    }

    /// Checks at `deadline` whether the connection has been idle for the idle timeout; one timer
    /// a connection, moved on while it is in use rather than set for every request.
    private func scheduleIdleCheck(at deadline: NIODeadline) {
        guard let context else { return }
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            idleTimer = nil
            guard case .idle = state.state else {
                if case .closed = state.state { return }
                if case .closing = state.state { return }
                scheduleIdleCheck(at: .now() + idleTimeout)
                return
            }
            let due = idleSince + idleTimeout
            if due <= .now() {
                run(state.closeIfIdle())
            } else {
                scheduleIdleCheck(at: due)
            }
        }
    }
}
