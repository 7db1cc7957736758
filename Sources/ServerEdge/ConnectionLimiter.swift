import NIOCore

/// How many client connections are open and whether the listener may accept more, as a value.
struct ConnectionLimit {
    let maxConnections: Int
    private(set) var open = 0
    /// A read (an accept) the listener asked for while it was full, to be done once there is room.
    private(set) var deferredRead = false

    init(maxConnections: Int) {
        precondition(maxConnections > 0)
        self.maxConnections = maxConnections
    }

    mutating func connectionOpened() {
        open += 1
    }

    /// A connection closed; true when a deferred accept should go ahead now.
    mutating func connectionClosed() -> Bool {
        open -= 1
        guard deferredRead, open < maxConnections else { return false }
        deferredRead = false
        return true
    }

    /// The listener wants to accept; false (and deferred) while the limit is reached.
    mutating func mayRead() -> Bool {
        guard open >= maxConnections else { return true }
        deferredRead = true
        return false
    }
}

/// On the listening channel: at most `maxConnections` client connections at once. Past it the
/// listener stops accepting: new connections wait in the kernel's backlog (which refuses them once
/// full) while the open ones are served; accepting resumes when one closes.
final class ConnectionLimiter: ChannelDuplexHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never

    private var limit: ConnectionLimit

    init(maxConnections: Int) {
        limit = ConnectionLimit(maxConnections: maxConnections)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let child = unwrapInboundIn(data)
        limit.connectionOpened()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        child.closeFuture.whenComplete { _ in
            bound.eventLoop.execute {
                let (limiter, context) = bound.value
                if limiter.limit.connectionClosed() { context.read() }
            }
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if limit.mayRead() { context.read() }
    }
}
