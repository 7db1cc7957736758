import NIOCore
import NIOHTTP1

/// An HTTP forward proxy that upstream connections go through: a CONNECT tunnel for a TLS upstream,
/// absolute-URI requests for a plain one.
public struct ForwardProxy: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// The `Proxy-Authorization` value (`Basic …`), when the proxy's URL carried a user.
    public var authorization: String?

    public init(host: String, port: Int, authorization: String? = nil) {
        self.host = host
        self.port = port
        self.authorization = authorization
    }

    /// `host:port`, never the credentials.
    public var description: String { (host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host) + ":\(port)" }
}

/// Opens a CONNECT tunnel through a forward proxy once the connection to the proxy is active:
/// sends `CONNECT host:port`, and succeeds `established` on a 2xx answer's end. Any other answer, a
/// close, or no answer within the timeout fails it. Sits behind an HTTP request encoder and
/// response decoder that are removed, with it, once the tunnel is open.
final class ProxyTunnelHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Never
    typealias OutboundOut = HTTPClientRequestPart

    private enum State {
        case idle
        case sent
        case answered
        case done
    }

    private let target: String
    private let authorization: String?
    private let timeout: TimeAmount
    private var state = State.idle
    private var timer: Scheduled<Void>?
    let established: EventLoopPromise<Void>

    /// - Parameter target: `host:port` of the upstream the tunnel leads to.
    init(target: String, authorization: String?, timeout: TimeAmount, established: EventLoopPromise<Void>) {
        self.target = target
        self.authorization = authorization
        self.timeout = timeout
        self.established = established
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendConnect(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendConnect(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(SQSTransportError.connectFailed("the proxy closed the connection before the tunnel to \(target) opened"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(SQSTransportError.connectFailed("the tunnel to \(target) through the proxy failed: \(error)"))
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard state == .sent, (200..<300).contains(head.status.code) else {
                fail(SQSTransportError.connectFailed("the proxy refused a tunnel to \(target): \(head.status)"))
                context.close(promise: nil)
                return
            }
            state = .answered
        case .body:
            break
        case .end:
            guard state == .answered else { return }
            state = .done
            timer?.cancel()
            established.succeed(())
        }
    }

    private func sendConnect(context: ChannelHandlerContext) {
        guard state == .idle else { return }
        state = .sent
        var head = HTTPRequestHead(version: .http1_1, method: .CONNECT, uri: target)
        head.headers.add(name: "Host", value: target)
        if let authorization { head.headers.add(name: "Proxy-Authorization", value: authorization) }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.fail(
                SQSTransportError.connectFailed("the proxy did not open a tunnel to \(handler.target) in time"))
            context.close(promise: nil)
        }
    }

    private func fail(_ error: SQSTransportError) {
        guard state != .done else { return }
        state = .done
        timer?.cancel()
        established.fail(error)
    }
}
