import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

@testable import SQSTransport

/// A scripted HTTP/1.1 server on loopback: the request's path says how to answer.
///   /ok            200 with the request body echoed, kept alive
///   /close         200, then the server closes the connection
///   /later/MS      200 after MS milliseconds
///   /drop          closes the connection without an answer
///   /big/N         200 with N bytes
///   /idle-close/MS 200, and the connection is closed by the server MS milliseconds later
final class ScriptedServer: Sendable {
    let channel: any Channel
    let connections = Atomic(0)
    let requests = Atomic(0)

    var port: Int { channel.localAddress!.port! }

    init(group: any EventLoopGroup) async throws {
        let box = Box()
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                box.server?.connections.add(1, ordering: .relaxed)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Answer(server: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        box.server = self
    }

    func close() async throws { try await channel.close() }

    final class Box: @unchecked Sendable {
        var server: ScriptedServer?
    }

    final class Answer: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let server: Box
        var head: HTTPRequestHead?
        var body = ByteBuffer()

        init(server: Box) { self.server = server }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body.clear()
            case .body(var part):
                body.writeBuffer(&part)
            case .end:
                server.server?.requests.add(1, ordering: .relaxed)
                let parts = head!.uri.split(separator: "/").map(String.init)
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                switch parts.first ?? "" {
                case "drop":
                    context.close(promise: nil)
                case "later":
                    context.eventLoop.scheduleTask(in: .milliseconds(Int64(parts[1])!)) {
                        let (handler, context) = loopBound.value
                        handler.respond(context, body: handler.body)
                    }
                case "big":
                    respond(context, body: ByteBuffer(repeating: 0x61, count: Int(parts[1])!))
                case "close":
                    respond(context, body: body, close: true)
                case "idle-close":
                    respond(context, body: body)
                    context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(parts[1])!)) {
                        loopBound.value.1.close(promise: nil)
                    }
                default:
                    respond(context, body: body)
                }
            }
        }

        func respond(_ context: ChannelHandlerContext, body: ByteBuffer, close: Bool = false) {
            var headers: HTTPHeaders = [
                "content-length": "\(body.readableBytes)", "x-seen-host": head?.headers.first(name: "host") ?? "",
            ]
            if close { headers.add(name: "connection", value: "close") }
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil
            )
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                if close { context.close(promise: nil) }
            }
        }
    }
}

@Suite struct SQSTransportTests {
    static let group = MultiThreadedEventLoopGroup.singleton

    static func transport(
        _ server: ScriptedServer, maxConnections: Int = 4, idleTimeout: TimeAmount = .seconds(30),
        maxResponseSize: Int = 1 << 20
    ) throws -> SQSTransport {
        try SQSTransport(
            settings: .init(
                host: "127.0.0.1", port: server.port, tls: nil, connectTimeout: .seconds(2),
                idleTimeout: idleTimeout, maxConnectionsPerLoop: maxConnections, maxResponseSize: maxResponseSize),
            group: group)
    }

    static func request(_ path: String, body: String = "", longPoll: Bool = false) -> UpstreamRequest {
        UpstreamRequest(
            head: HTTPRequestHead(
                version: .http1_1, method: .POST, uri: path,
                headers: ["Host": "upstream.test", "Content-Length": "\(body.utf8.count)"]),
            body: ByteBuffer(string: body), mayLongPoll: longPoll)
    }

    /// Runs `body` with a scripted server, a transport to it and an event loop to send from;
    /// shuts both down after.
    static func withTransport(
        maxConnections: Int = 4, idleTimeout: TimeAmount = .seconds(30), maxResponseSize: Int = 1 << 20,
        _ body: (ScriptedServer, SQSTransport, any EventLoop) async throws -> Void
    ) async throws {
        let server = try await ScriptedServer(group: group)
        let transport = try transport(
            server, maxConnections: maxConnections, idleTimeout: idleTimeout, maxResponseSize: maxResponseSize)
        do {
            try await body(server, transport, group.next())
        } catch {
            await transport.shutdown()
            try? await server.close()
            throw error
        }
        await transport.shutdown()
        try? await server.close()
    }

    /// Sends `request` from `loop`, as the request path does from its client connection's loop.
    static func send(
        _ transport: SQSTransport, _ request: UpstreamRequest, on loop: any EventLoop, timeout: TimeAmount = .seconds(5)
    ) async throws -> UpstreamResponse {
        try await loop.flatSubmit { transport.submit(request, deadline: .now() + timeout) }.get()
    }

    @Test func requestsShareOneKeptAliveConnection() async throws {
        try await Self.withTransport { server, transport, loop in
            for index in 0..<5 {
                let response = try await loop.flatSubmit {
                    transport.submit(Self.request("/ok", body: "hello \(index)"), deadline: .now() + .seconds(5))
                }.get()
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "hello \(index)")
                #expect(response.headers.first(name: "x-seen-host") == "upstream.test")
            }
            #expect(server.connections.load(ordering: .relaxed) == 1)
        }
    }

    @Test func aConnectionTheServerClosesIsReplaced() async throws {
        try await Self.withTransport { server, transport, loop in
            let first = try await Self.send(transport, Self.request("/close"), on: loop)
            #expect(first.status == .ok)
            let idle = try await Self.send(transport, Self.request("/idle-close/20"), on: loop)
            #expect(idle.status == .ok)
            try await Task.sleep(for: .milliseconds(100))
            let third = try await Self.send(transport, Self.request("/ok", body: "x"), on: loop)
            #expect(String(buffer: third.body) == "x")
            #expect(server.connections.load(ordering: .relaxed) == 3)
        }
    }

    @Test func pastTheBoundRequestsWaitForAConnection() async throws {
        try await Self.withTransport(maxConnections: 2) { server, transport, loop in
            let started = ContinuousClock.now
            let responses = try await loop.flatSubmit {
                EventLoopFuture.whenAllSucceed(
                    (0..<6).map { _ in transport.submit(Self.request("/later/100"), deadline: .now() + .seconds(5)) },
                    on: loop)
            }.get()
            #expect(responses.count == 6)
            #expect(server.connections.load(ordering: .relaxed) == 2)
            #expect(ContinuousClock.now - started >= .milliseconds(300))
        }
    }

    @Test func longPollsDoNotHoldUpOtherRequests() async throws {
        try await Self.withTransport(maxConnections: 1) { server, transport, loop in
            let answeredPolls = Tally()
            let polls = try await loop.submit {
                (0..<3).map { _ in
                    let poll = transport.submit(
                        Self.request("/later/3000", longPoll: true), deadline: .now() + .seconds(10))
                    poll.whenComplete { _ in answeredPolls.count.add(1, ordering: .relaxed) }
                    return poll
                }
            }.get()
            let quick = try await Self.send(transport, Self.request("/ok", body: "q"), on: loop)
            #expect(String(buffer: quick.body) == "q")
            // Answered while every long poll still waits: it did not queue behind them.
            #expect(answeredPolls.count.load(ordering: .relaxed) == 0)
            for poll in polls { #expect(try await poll.get().status == .ok) }
            #expect(server.connections.load(ordering: .relaxed) == 4)
        }
    }

    @Test func aSlowAnswerTimesOutAndTheConnectionIsNotReused() async throws {
        try await Self.withTransport { server, transport, loop in
            await #expect(throws: SQSTransportError.timedOut) {
                try await Self.send(transport, Self.request("/later/2000"), on: loop, timeout: .milliseconds(100))
            }
            let next = try await Self.send(transport, Self.request("/ok", body: "after"), on: loop)
            #expect(String(buffer: next.body) == "after")
            #expect(server.connections.load(ordering: .relaxed) == 2)
        }
    }

    @Test func aDroppedConnectionSaysTheRequestMayHaveArrived() async throws {
        try await Self.withTransport { server, transport, loop in
            await #expect(throws: SQSTransportError.connectionClosed(written: true)) {
                try await Self.send(transport, Self.request("/drop"), on: loop)
            }
        }
    }

    @Test func aResponseOverTheLimitFails() async throws {
        try await Self.withTransport(maxResponseSize: 1000) { server, transport, loop in
            await #expect(throws: SQSTransportError.responseTooLarge(limit: 1000)) {
                try await transport.execute(Self.request("/big/1001"), deadline: .now() + .seconds(5))
            }
            let fits = try await transport.execute(Self.request("/big/1000"), deadline: .now() + .seconds(5))
            #expect(fits.body.readableBytes == 1000)
        }
    }

    @Test func noServerMeansNotSent() async throws {
        // A port bound and not listening refuses connections, and no other test's server can take
        // it meanwhile (a closed server's port could be).
        let reserved = try ServerSocket.boundNotListening()
        defer { reserved.close() }
        let transport = try SQSTransport(
            settings: .init(
                host: "127.0.0.1", port: reserved.port, tls: nil, connectTimeout: .seconds(2),
                idleTimeout: .seconds(30),
                maxConnectionsPerLoop: 4, maxResponseSize: 1 << 20),
            group: Self.group)
        do {
            _ = try await transport.execute(Self.request("/ok"), deadline: .now() + .seconds(5))
            Issue.record("answered")
        } catch let error as SQSTransportError {
            if case .connectFailed = error {
                #expect(!error.mayHaveArrived)
            } else {
                Issue.record("\(error)")
            }
        }
        await transport.shutdown()
    }

    @Test func idleConnectionsCloseAfterTheIdleTimeout() async throws {
        try await Self.withTransport(idleTimeout: .milliseconds(100)) { server, transport, loop in
            _ = try await Self.send(transport, Self.request("/ok"), on: loop)
            try await Task.sleep(for: .milliseconds(400))
            _ = try await Self.send(transport, Self.request("/ok"), on: loop)
            #expect(server.connections.load(ordering: .relaxed) == 2)
        }
    }

    @Test func shutdownWaitsForTheRequestInProgressThenRefuses() async throws {
        let server = try await ScriptedServer(group: Self.group)
        let transport = try Self.transport(server)
        let loop = Self.group.next()
        let slow = try await loop.submit {
            transport.submit(Self.request("/later/300"), deadline: .now() + .seconds(5))
        }.get()
        try await Task.sleep(for: .milliseconds(50))
        await transport.shutdown()
        #expect(try await slow.get().status == .ok)
        await #expect(throws: SQSTransportError.shutDown) {
            try await Self.send(transport, Self.request("/ok"), on: loop)
        }
        try await server.close()
    }

    @Test func aCancelledCallerFailsItsRequestAndFreesTheConnection() async throws {
        let server = try await ScriptedServer(group: Self.group)
        let transport = try Self.transport(server)
        let started = ContinuousClock.now
        let call = Task { try await transport.execute(Self.request("/later/3000"), deadline: .now() + .seconds(10)) }
        try await Task.sleep(for: .milliseconds(100))
        call.cancel()
        await #expect(throws: SQSTransportError.cancelled) { try await call.value }
        await transport.shutdown()
        #expect(ContinuousClock.now - started < .seconds(2))
        try await server.close()
    }

    @Test func aConnectionThatIsNotAcceptedInTimeMeansNotSent() async throws {
        // A listener that never accepts: once its backlog is full, the kernel drops new SYNs.
        let listener = try await ServerBootstrap(group: Self.group)
            .serverChannelOption(.backlog, value: 1)
            .serverChannelOption(.autoRead, value: false)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = listener.localAddress!.port!
        var fillers: [any Channel] = []
        for _ in 0..<4 {
            let filler = try? await ClientBootstrap(group: Self.group).connectTimeout(.milliseconds(200))
                .connect(host: "127.0.0.1", port: port).get()
            if let filler { fillers.append(filler) }
        }
        let transport = try SQSTransport(
            settings: .init(host: "127.0.0.1", port: port, tls: nil, connectTimeout: .milliseconds(200)),
            group: Self.group)
        let started = ContinuousClock.now
        do {
            _ = try await transport.execute(Self.request("/ok"), deadline: .now() + .seconds(5))
            Issue.record("answered")
        } catch let error as SQSTransportError {
            guard case .connectFailed(let reason) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(reason.contains("Connect timeout"))
            #expect(!error.mayHaveArrived)
        }
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        #expect(ContinuousClock.now - started < .seconds(2))
        await transport.shutdown()
        for filler in fillers { try? await filler.close() }
        try await listener.close()
    }
}

/// A TCP socket bound to a free loopback port and not listening: connections to it are refused.
struct ServerSocket {
    let descriptor: Int32
    let port: Int

    static func boundNotListening() throws -> ServerSocket {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
            }
        }
        guard descriptor >= 0, bound else { throw CancellationError() }
        return ServerSocket(descriptor: descriptor, port: Int(UInt16(bigEndian: address.sin_port)))
    }

    func close() {
        _ = Glibc.close(descriptor)
    }
}

/// A count shared with callbacks.
final class Tally: Sendable {
    let count = Atomic(0)
}
