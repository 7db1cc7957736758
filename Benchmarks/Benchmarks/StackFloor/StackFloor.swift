// The floor under the proxy: the same server and client stack with none of the proxy's work, so
// that a benchmark can tell what the stack costs a request from what the proxy adds.
//
//   StackFloor answer PORT            an HTTP/1.1 server (NIOAsyncChannel, one task per connection,
//                                     as the proxy's) answering every request with a fixed
//                                     SendMessage result
//   StackFloor forward PORT UPSTREAM  the same server sending every request on to UPSTREAM with
//                                     AsyncHTTPClient (one pooled client, as the proxy's S3 calls)
//                                     and answering with what came back
//   StackFloor transport PORT UPSTREAM  the same, sending with the proxy's SQS transport
//                                     (SQSTransport: the connection's event loop, one write)
//
// It prints "listening" once bound and runs until killed.
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import SQSTransport

@main
enum StackFloor {
    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    static let fixedAnswer = ByteBuffer(
        string:
            #"{"MD5OfMessageBody":"7265f4d211b56873a381d321f586e4a9","MessageId":"5fea7756-0ea4-451a-a703-a558b933e274"}"#
    )

    static func main() async throws {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let arguments = CommandLine.arguments
        guard arguments.count >= 3, let port = Int(arguments[2]),
            ["answer", "forward", "transport"].contains(arguments[1])
        else {
            print("usage: StackFloor answer PORT | StackFloor forward|transport PORT UPSTREAM-URL")
            return
        }
        let upstream: Upstream?
        switch arguments[1] {
        case "forward" where arguments.count > 3:
            upstream = .client(HTTPClient(eventLoopGroupProvider: .singleton), arguments[3])
        case "transport" where arguments.count > 3:
            let url = arguments[3].split(separator: ":")
            let host = String(url[1].dropFirst(2))
            let transport = try SQSTransport(
                settings: .init(host: host, port: Int(url[2].prefix { $0.isNumber })!, tls: nil),
                group: MultiThreadedEventLoopGroup.singleton)
            upstream = .transport(transport, host + ":" + url[2].prefix { $0.isNumber })
        default:
            upstream = nil
        }
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .bind(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        print("listening")
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask { try? await serve(connection, upstream: upstream) }
                }
            }
        }
    }

    /// Where requests are sent on: a URL for AsyncHTTPClient, or the transport and the `Host` header.
    enum Upstream: Sendable {
        case client(HTTPClient, String)
        case transport(SQSTransport, String)
    }

    static func serve(_ connection: Connection, upstream: Upstream?) async throws {
        try await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let requestHead):
                    head = requestHead
                    body.clear()
                case .body(var chunk):
                    body.writeBuffer(&chunk)
                case .end:
                    guard let head else { return }
                    let (status, headers, answer) = try await respond(head, body: body, to: upstream)
                    var responseHeaders = headers
                    responseHeaders.replaceOrAdd(name: "Content-Length", value: String(answer.readableBytes))
                    try await outbound.write(contentsOf: [
                        .head(HTTPResponseHead(version: head.version, status: status, headers: responseHeaders)),
                        .body(.byteBuffer(answer)), .end(nil),
                    ])
                }
            }
        }
    }

    static func respond(_ head: HTTPRequestHead, body: ByteBuffer, to upstream: Upstream?)
        async throws -> (HTTPResponseStatus, HTTPHeaders, ByteBuffer)
    {
        let forwarded = ["content-type", "x-amz-target", "authorization"]
        let returned = ["content-type", "x-amzn-requestid"]
        switch upstream {
        case nil:
            return (.ok, ["Content-Type": "application/x-amz-json-1.0"], fixedAnswer)
        case .client(let client, let url):
            var request = HTTPClientRequest(url: url + head.uri)
            request.method = head.method
            for name in forwarded {
                for value in head.headers[name] { request.headers.add(name: name, value: value) }
            }
            request.body = .bytes(body)
            let response = try await client.execute(request, deadline: .now() + .seconds(30))
            let answer = try await response.body.collect(upTo: 1 << 20)
            var headers = HTTPHeaders()
            for name in returned {
                for value in response.headers[name] { headers.add(name: name, value: value) }
            }
            return (response.status, headers, answer)
        case .transport(let transport, let host):
            var headers: HTTPHeaders = ["Host": host, "Content-Length": String(body.readableBytes)]
            for name in forwarded {
                for value in head.headers[name] { headers.add(name: name, value: value) }
            }
            let request = UpstreamRequest(
                head: HTTPRequestHead(version: .http1_1, method: head.method, uri: head.uri, headers: headers),
                body: body)
            let response = try await transport.execute(request, deadline: .now() + .seconds(30))
            var answerHeaders = HTTPHeaders()
            for name in returned {
                for value in response.headers[name] { answerHeaders.add(name: name, value: value) }
            }
            return (response.status, answerHeaders, response.body)
        }
    }
}
