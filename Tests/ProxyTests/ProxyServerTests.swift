import AWSCredentialChain
import AWSSigning
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOTestUtils
import RequestLimits
import SQSTransport
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing
import Upstream

@testable import Proxy
@testable import ServerEdge

/// The SQS listener: one connection's requests driven through NIO's testing streams, and graceful
/// shutdown driven by swift-service-lifecycle's test kit against a real socket.
@Suite(.serialized)
struct ProxyServerTests {
    static func server(upstreamPort: Int, maxHeld: Int = 1024, readTimeout: TimeAmount = .seconds(10)) -> ProxyServer<
        SQSRequestHandler
    > {
        let upstream = SQSUpstream(
            caller: UpstreamCaller(client: .shared, retrier: UpstreamRetrier(policy: RetryPolicy(maxAttempts: 1))),
            transport: try! SQSTransport(
                settings: .init(host: "127.0.0.1", port: upstreamPort, tls: nil),
                group: MultiThreadedEventLoopGroup.singleton),
            endpoint: UpstreamEndpoint("http://127.0.0.1:\(upstreamPort)")!, region: "us-east-1",
            credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: "AKIA", secretAccessKey: "s")),
            readTimeout: readTimeout)
        let limits = RequestLimits.held(maxHeld)
        return ProxyServer(
            host: "127.0.0.1", port: 0, clientIdleTimeout: .seconds(60), limits: limits,
            handler: SQSRequestHandler(upstream: upstream, limits: limits, logger: Logger(label: "test")),
            group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test"))
    }

    static func head(_ length: Int, close: Bool = false, expectContinue: Bool = false) -> HTTPRequestHead {
        var headers: HTTPHeaders = [
            "Host": "localhost:9324", "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AmazonSQS.ListQueues", "Content-Length": String(length),
        ]
        if close { headers.add(name: "Connection", value: "close") }
        if expectContinue { headers.add(name: "Expect", value: "100-continue") }
        return HTTPRequestHead(version: .http1_1, method: .POST, uri: "/", headers: headers)
    }

    /// The heads of the responses written.
    static func serve(_ server: ProxyServer<SQSRequestHandler>, _ parts: [HTTPServerRequestPart]) async throws
        -> [HTTPResponseHead]
    {
        try await serveAnswers(server, parts).map(\.head)
    }

    /// The responses written, head and body.
    static func serveAnswers(_ server: ProxyServer<SQSRequestHandler>, _ parts: [HTTPServerRequestPart]) async throws
        -> [(head: HTTPResponseHead, body: String)]
    {
        let (inbound, source) = NIOAsyncChannelInboundStream<HTTPServerRequestPart>.makeTestingStream()
        let (outbound, sink) = NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>.makeTestingWriter()
        for part in parts { source.yield(part) }
        source.finish()
        try await server.serveRequests(inbound: inbound, outbound: outbound)
        outbound.finish()
        var answers: [(head: HTTPResponseHead, body: String)] = []
        for try await part in sink {
            switch part {
            case .head(let head): answers.append((head, ""))
            case .body(.byteBuffer(let buffer)): answers[answers.count - 1].body += String(buffer: buffer)
            default: break
            }
        }
        return answers
    }

    @Test func aBodyOverTheLimitIsRefusedAndItsConnectionServesOn() async throws {
        let server = Self.server(upstreamPort: 1)
        let heads = try await Self.serve(
            server,
            [
                .head(Self.head(2000)), .body(ByteBuffer(repeating: 0x20, count: 2000)), .end(nil),
                .head(Self.head(2000, close: true)), .body(ByteBuffer(repeating: 0x20, count: 2000)), .end(nil),
                .head(Self.head(2)),
            ])
        // Both refused before anything was read upstream; the second asked to close, so the third is never read.
        #expect(heads.map(\.status) == [.badRequest, .badRequest])
        #expect(heads[0].headers["connection"].isEmpty)
        #expect(heads[1].headers["connection"] == ["close"])
        #expect(heads.allSatisfy { $0.headers["x-amzn-query-error"] == ["InvalidParameterValue;Sender"] })
    }

    @Test func aClientWaitingToContinueIsRefusedWithoutASecondRequest() async throws {
        let heads = try await Self.serve(
            Self.server(upstreamPort: 1), [.head(Self.head(5000, expectContinue: true)), .head(Self.head(2))])
        #expect(heads.map(\.status) == [.badRequest])
        #expect(heads[0].headers["connection"] == ["close"])
    }

    @Test func anUpstreamThatCannotBeReachedIsAnSQSErrorAndTheConnectionStays() async throws {
        let heads = try await Self.serve(
            Self.server(upstreamPort: 1, readTimeout: .milliseconds(300)),
            [
                .head(Self.head(2)), .body(ByteBuffer(string: "{}")), .end(nil), .head(Self.head(2, close: true)),
                .body(ByteBuffer(string: "{}")), .end(nil),
            ])
        #expect(heads.map(\.status) == [.serviceUnavailable, .serviceUnavailable])
        #expect(heads[0].headers["x-amzn-query-error"] == ["ServiceUnavailable;Receiver"])
    }

    @Test func gracefulShutdownFinishesTheRequestInProgressThenStops() async throws {
        let upstream = NIOHTTP1TestServer(group: MultiThreadedEventLoopGroup.singleton, aggregateBody: true)
        defer { try? upstream.stop() }
        let server = Self.server(upstreamPort: upstream.serverPort)
        let bound = AsyncStream.makeStream(of: Int.self)
        let client = HTTPClient.shared
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                let running = ProxyServer(
                    host: server.host, port: server.port, clientIdleTimeout: server.clientIdleTimeout,
                    limits: server.limits, handler: server.handler, group: server.group,
                    logger: server.logger, onBound: { bound.continuation.yield($0.port ?? 0) })
                group.addTask { try await running.run() }
                var ports = bound.stream.makeAsyncIterator()
                let port = try #require(await ports.next())
                async let answer = client.execute(Self.listQueues(port: port), deadline: .now() + .seconds(10))
                // The request is upstream when the shutdown begins.
                try await Self.onThread {
                    _ = try upstream.receiveHead()
                    _ = try upstream.receiveBody()
                    _ = try upstream.receiveEnd()
                }
                trigger.triggerGracefulShutdown()
                try await Task.sleep(for: .milliseconds(200))
                // A new connection is not accepted any more.
                await #expect(throws: (any Error).self) {
                    _ = try await client.execute(Self.listQueues(port: port), deadline: .now() + .seconds(2))
                }
                try await Self.onThread {
                    try ForwardingTests.respond(
                        upstream, status: .ok, contentType: "application/x-amz-json-1.0", body: #"{"QueueUrls":[]}"#)
                }
                let response = try await answer
                #expect(response.status == .ok)
                #expect(response.headers["connection"] == ["close"])
                // The listener returns once its last connection closed.
                try await group.next()
            }
        }
    }

    static func listQueues(port: Int) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/")
        request.method = .POST
        request.headers = ["Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ListQueues"]
        request.body = .bytes(ByteBuffer(string: "{}"))
        return request
    }

    /// Runs the test server's blocking calls on a thread of their own.
    static func onThread(_ work: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }
}
