import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import SQSTransport

/// The CONNECT exchange that opens a tunnel through a forward proxy, on an embedded channel.
struct ProxyTunnelHandlerTests {
    static func channel(authorization: String? = nil) throws -> (EmbeddedChannel, EventLoopFuture<Void>) {
        let channel = EmbeddedChannel()
        let promise = channel.eventLoop.makePromise(of: Void.self)
        try channel.pipeline.syncOperations.addHandler(
            ProxyTunnelHandler(
                target: "sqs.eu-west-1.amazonaws.com:443", authorization: authorization, timeout: .seconds(5),
                established: promise))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 3128)).wait()
        return (channel, promise.futureResult)
    }

    @Test func aConnectRequestIsSentAndA2xxAnswerOpensTheTunnel() throws {
        let (channel, established) = try Self.channel(authorization: "Basic dTpw")
        guard case .head(let head) = try channel.readOutbound(as: HTTPClientRequestPart.self) else {
            Issue.record("no request head")
            return
        }
        #expect(head.method == .CONNECT && head.uri == "sqs.eu-west-1.amazonaws.com:443")
        #expect(head.headers["Host"] == ["sqs.eu-west-1.amazonaws.com:443"])
        #expect(head.headers["Proxy-Authorization"] == ["Basic dTpw"])
        #expect(try channel.readOutbound(as: HTTPClientRequestPart.self) == .end(nil))
        try channel.writeInbound(HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        #expect(!isDone(established))
        try channel.writeInbound(HTTPClientResponsePart.end(nil))
        try established.wait()
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func anyOtherAnswerFailsTheTunnelAndClosesTheConnection() throws {
        let (channel, established) = try Self.channel()
        _ = try channel.readOutbound(as: HTTPClientRequestPart.self)
        _ = try channel.readOutbound(as: HTTPClientRequestPart.self)
        try channel.writeInbound(
            HTTPClientResponsePart.head(HTTPResponseHead(version: .http1_1, status: .proxyAuthenticationRequired)))
        #expect(throws: SQSTransportError.self) { try established.wait() }
        #expect(!channel.isActive)
    }

    @Test func aCloseBeforeTheAnswerFailsTheTunnel() throws {
        let (channel, established) = try Self.channel()
        try channel.close().wait()
        #expect(throws: SQSTransportError.self) { try established.wait() }
    }

    private func isDone(_ future: EventLoopFuture<Void>) -> Bool {
        var done = false
        future.whenComplete { _ in done = true }
        return done
    }
}
