import NIOCore
import NIOHTTP1

/// Closes a client connection whose request body stops arriving: nothing of it for `timeout` while
/// the proxy is asking for more. Time the proxy itself holds reading back (a slow S3 upload pushing
/// back on the client) does not count. Closing ends the request's body early, so whatever it
/// started in S3 is aborted, as when the client goes away.
///
/// One timer per stalled request, set only when a read batch ends with the body unfinished: a
/// request that arrives whole sets none.
final class StalledBodyCloser: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    let timeout: TimeAmount
    /// A request head arrived and its end not yet.
    private var receiving = false
    /// The proxy asked for more bytes and none came since.
    private var awaitingBytes = false
    /// Since when the body has not moved on while the proxy waited for it.
    private var waitingSince = NIODeadline.uptimeNanoseconds(0)
    private var check: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: receiving = true
        case .body: break
        case .end: receiving = false
        }
        awaitingBytes = false
        context.fireChannelRead(data)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if receiving && check == nil { scheduleCheck(context, at: context.eventLoop.now + timeout) }
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if !awaitingBytes {
            awaitingBytes = true
            waitingSince = context.eventLoop.now
        }
        context.read()
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }

    private func scheduleCheck(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        check = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            check = nil
            guard receiving else { return }
            let context = bound.value
            let due = waitingSince + timeout
            let now = context.eventLoop.now
            if awaitingBytes && due <= now {
                context.close(promise: nil)
            } else {
                scheduleCheck(context, at: awaitingBytes ? due : now + timeout)
            }
        }
    }
}
