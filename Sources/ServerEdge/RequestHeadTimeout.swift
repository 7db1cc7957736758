import NIOCore
import NIOHTTP1

/// Closes a client connection that takes longer than `timeout` to deliver a request head once its
/// first byte arrived: a client trickling its headers. A connection that sends nothing is the idle
/// timeout's (``IdleConnectionCloser``).
///
/// The HTTP decoder shows nothing of a head until it is complete, so two handlers share this
/// clock: ``bytesHandler`` goes in front of the decoder and sees bytes arrive, ``partsHandler``
/// after it and sees heads and ends. A timer is set only when a read batch ends with a head
/// started and unfinished: a head that arrives in one read sets none.
final class RequestHeadTimeout {
    let timeout: TimeAmount
    /// Between requests: the next bytes start a head.
    private var awaitingHead = true
    /// When the first byte of the awaited head arrived.
    private var startedAt: NIODeadline?
    private var check: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    /// In front of the HTTP decoder.
    var bytesHandler: BytesHandler { BytesHandler(clock: self) }
    /// After the HTTP decoder.
    var partsHandler: PartsHandler { PartsHandler(clock: self) }

    fileprivate func bytesArrived(_ context: ChannelHandlerContext) {
        if awaitingHead && startedAt == nil { startedAt = context.eventLoop.now }
    }

    fileprivate func readEnded(_ context: ChannelHandlerContext) {
        guard awaitingHead, let startedAt, check == nil else { return }
        let channel = context.channel
        check = context.eventLoop.assumeIsolated().scheduleTask(deadline: startedAt + timeout) { [self] in
            check = nil
            if awaitingHead && self.startedAt != nil { channel.close(promise: nil) }
        }
    }

    fileprivate func headArrived() {
        awaitingHead = false
        startedAt = nil
        stop()
    }

    fileprivate func requestEnded() {
        awaitingHead = true
    }

    fileprivate func stop() {
        check?.cancel()
        check = nil
    }

    final class BytesHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        let clock: RequestHeadTimeout

        fileprivate init(clock: RequestHeadTimeout) { self.clock = clock }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            clock.bytesArrived(context)
            context.fireChannelRead(data)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.fireChannelReadComplete()
            clock.readEnded(context)
        }

        func channelInactive(context: ChannelHandlerContext) {
            clock.stop()
            context.fireChannelInactive()
        }
    }

    final class PartsHandler: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart
        let clock: RequestHeadTimeout

        fileprivate init(clock: RequestHeadTimeout) { self.clock = clock }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head: clock.headArrived()
            case .body: break
            case .end: clock.requestEnded()
            }
            context.fireChannelRead(data)
        }
    }
}
