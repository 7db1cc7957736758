import NIOCore
import NIOHTTP1
import SQSWire

/// Answers a request that NIO's HTTP parser refused (a malformed request, a head over the limit)
/// with an SQS error before the connection closes: 431 for a head too large, 400 otherwise. The
/// request's protocol is not known at that point: the body is the Query protocol's XML error, and
/// the `x-amzn-query-error` header carries the code to JSON clients (SQS is query-compatible, so
/// the SDKs read the code there when the body is not JSON). `Connection: close`.
final class HTTPProtocolErrorResponder: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// The largest request head, for the message.
    let maxHeadSize: Int
    /// A response was started and not ended: no other can be written.
    private var responding = false

    init(maxHeadSize: Int) {
        self.maxHeadSize = maxHeadSize
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if !responding {
            let refusal =
                parserError == .headerOverflow
                ? SQSError(
                    shape: "InvalidParameterValue", status: 431,
                    message: "The request head is larger than the limit of \(maxHeadSize) bytes.")
                : SQSError.malformedRequest("The request is not valid HTTP/1.1.")
            var response = ProxyResponse.error(refusal, wireProtocol: .query)
            response.headers.replaceOrAdd(
                name: "x-amzn-query-error", value: "\(refusal.queryCode);\(refusal.fault.rawValue)")
            response.headers.replaceOrAdd(name: "Connection", value: "close")
            response.headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
            let head = HTTPResponseHead(
                version: .http1_1, status: response.status, headers: response.headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code < 200: break
        case .head: responding = true
        case .body: break
        case .end: responding = false
        }
        context.write(data, promise: promise)
    }
}
