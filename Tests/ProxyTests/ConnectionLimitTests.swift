import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import Proxy
@testable import ServerEdge

struct ConnectionLimitTests {
    @Test func acceptsUntilTheLimitThenDefersUntilOneCloses() {
        var limit = ConnectionLimit(maxConnections: 2)
        let readsWhenEmpty = limit.mayRead()
        #expect(readsWhenEmpty)
        limit.connectionOpened()
        limit.connectionOpened()
        let readsWhenFull = limit.mayRead()
        #expect(!readsWhenFull)
        #expect(limit.deferredRead)
        let resumes = limit.connectionClosed()
        #expect(resumes)
        #expect(!limit.deferredRead)
        let readsWithRoom = limit.mayRead()
        #expect(readsWithRoom)
        limit.connectionOpened()
        // Nothing was deferred: a close does not read.
        let resumesAgain = limit.connectionClosed()
        #expect(!resumesAgain)
        #expect(limit.open == 1)
    }

    /// A raw client connection: sends a request the proxy answers itself (an unknown action: 400)
    /// and learns the first bytes of the answer.
    final class RawClient: Sendable {
        final class FirstBytes: ChannelInboundHandler, Sendable {
            typealias InboundIn = ByteBuffer
            let answer: EventLoopPromise<String>
            let answered = Atomic(false)

            init(answer: EventLoopPromise<String>) { self.answer = answer }

            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                answered.store(true, ordering: .relaxed)
                answer.succeed(String(buffer: unwrapInboundIn(data)))
            }

            func channelInactive(context: ChannelHandlerContext) {
                answer.fail(ChannelError.eof)
            }
        }

        let channel: any Channel
        let reader: FirstBytes
        var answer: EventLoopFuture<String> { reader.answer.futureResult }

        init(port: Int) async throws {
            let reader = FirstBytes(answer: MultiThreadedEventLoopGroup.singleton.any().makePromise(of: String.self))
            self.reader = reader
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(reader) }
                }
                .connect(host: "127.0.0.1", port: port).get()
            let request =
                "POST / HTTP/1.1\r\nHost: proxy\r\nContent-Type: application/x-amz-json-1.0\r\n"
                + "X-Amz-Target: AmazonSQS.No-thing\r\nContent-Length: 2\r\n\r\n{}"
            try await channel.writeAndFlush(ByteBuffer(string: request))
        }
    }

    @Test func pastTheLimitAConnectionWaitsUntilAnotherCloses() async throws {
        let base = ProxyServerTests.server(upstreamPort: 1)
        let bound = AsyncStream.makeStream(of: Int.self)
        let server = ProxyServer(
            host: base.host, port: 0, clientIdleTimeout: .seconds(60), maxConnections: 1, limits: base.limits,
            handler: base.handler,
            group: base.group, logger: Logger(label: "test"), onBound: { bound.continuation.yield($0.port ?? 0) })
        let running = Task { try await server.run() }
        var ports = bound.stream.makeAsyncIterator()
        let port = try #require(await ports.next())

        let first = try await RawClient(port: port)
        #expect(try await first.answer.get().hasPrefix("HTTP/1.1 400"))
        let second = try await RawClient(port: port)
        try await Task.sleep(for: .milliseconds(300))
        let answeredWhileFull = second.reader.answered.load(ordering: .relaxed)
        #expect(!answeredWhileFull)
        try await first.channel.close()
        #expect(try await second.answer.get().hasPrefix("HTTP/1.1 400"))

        try await second.channel.close()
        running.cancel()
        _ = try? await running.value
    }
}
