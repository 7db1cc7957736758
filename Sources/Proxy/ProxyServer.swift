import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SQSWire

/// The SQS listener: HTTP/1.1 with keep-alive, one structured task per connection, requests on a
/// connection answered in order.
public struct ProxyServer: Sendable {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    let configuration: ProxyConfiguration
    let handler: SQSRequestHandler
    let group: any EventLoopGroup
    let logger: Logger

    public init(
        configuration: ProxyConfiguration, handler: SQSRequestHandler, group: any EventLoopGroup, logger: Logger
    ) {
        self.configuration = configuration
        self.handler = handler
        self.group = group
        self.logger = logger
    }

    /// Binds the listener, calls `onBound` with the bound address, then serves until cancelled.
    public func run(onBound: @Sendable (SocketAddress) -> Void = { _ in }) async throws {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .bind(host: configuration.listenHost, port: configuration.listenPort) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        if let address = server.channel.localAddress { onBound(address) }
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask { await serve(connection) }
                }
            }
        }
    }

    private func serve(_ connection: Connection) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                var parts = inbound.makeAsyncIterator()
                while let part = try await parts.next() {
                    guard case .head(let head) = part else { continue }
                    let keepAlive = head.isKeepAlive
                    let limit = handler.requestBodyLimit(head)
                    let expectsContinue = head.headers.first(name: "expect")?.lowercased() == "100-continue"
                    func refusal() -> ProxyResponse {
                        SQSRequestHandler.errorResponse(
                            .requestTooLarge(limit: limit),
                            wireProtocol: SQSRequestDecoder.wireProtocol(
                                target: head.headers.first(name: "x-amz-target"),
                                contentType: head.headers.first(name: "content-type")))
                    }
                    if let declaredLength = head.headers.first(name: "content-length").flatMap(Int.init),
                        declaredLength > limit
                    {
                        // Refused before anything is read. A client waiting for 100-continue sends
                        // nothing; any other is still sending, so its body is read and dropped first.
                        guard !expectsContinue else {
                            try await write(refusal(), keepAlive: false, version: head.version, to: outbound)
                            return
                        }
                        let body = RequestBody(parts: parts, limit: declaredLength)
                        try await body.drain()
                        parts = body.parts
                        try await write(refusal(), keepAlive: keepAlive, version: head.version, to: outbound)
                        if !keepAlive { return }
                        continue
                    }
                    if expectsContinue {
                        try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .continue)))
                    }
                    let body = RequestBody(parts: parts, limit: limit)
                    var response: ProxyResponse? = try await handler.handle(head: head, body: body)
                    // A request answered before its body was read (refused half-way) is drained, so
                    // that the client, still sending, gets to read the answer.
                    do {
                        try await body.drain()
                    } catch is RequestBody.TooLarge {
                        response = nil
                    }
                    parts = body.parts
                    guard let response else {
                        // A body without a declared length went past the limit: it cannot be drained.
                        try await write(refusal(), keepAlive: false, version: head.version, to: outbound)
                        return
                    }
                    try await write(response, keepAlive: keepAlive, version: head.version, to: outbound)
                    if !keepAlive { return }
                }
            }
        } catch {
            logger.debug("connection closed", metadata: ["error": "\(error)"])
        }
    }

    private func write(
        _ response: ProxyResponse, keepAlive: Bool, version: HTTPVersion,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var headers = response.headers
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        guard let streamedBody = response.streamedBody else {
            headers.replaceOrAdd(name: "Content-Length", value: String(response.body.readableBytes))
            let head = HTTPResponseHead(version: version, status: response.status, headers: headers)
            try await outbound.write(contentsOf: [.head(head), .body(.byteBuffer(response.body)), .end(nil)])
            return
        }
        headers.replaceOrAdd(name: "Transfer-Encoding", value: "chunked")
        try await outbound.write(.head(HTTPResponseHead(version: version, status: response.status, headers: headers)))
        try await streamedBody(ResponseBodyWriter(outbound: outbound))
        try await outbound.write(.end(nil))
    }
}
