import AWSCredentialChain
import AWSSigning
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOTestUtils
import SQSTransport
import Testing
import Upstream

@testable import Proxy

/// The request path against a scripted fake upstream (NIOHTTP1TestServer): what goes up, what comes back.
@Suite(.serialized)
struct ForwardingTests {
    static let proxyCredentials = AWSCredentials(
        accessKeyID: "AKIAPROXY", secretAccessKey: "proxysecret", sessionToken: "proxytoken")

    /// Runs `script` on its own thread, since the test server's calls block.
    func upstreamScript(_ script: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread { continuation.resume(with: Result { try script() }) }.start()
        }
    }

    func withHandler(
        _ body: (SQSRequestHandler, NIOHTTP1TestServer) async throws -> Void
    ) async throws {
        let upstreamServer = NIOHTTP1TestServer(group: MultiThreadedEventLoopGroup.singleton, aggregateBody: true)
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let transport = try SQSTransport(
            settings: .init(host: "127.0.0.1", port: upstreamServer.serverPort, tls: nil),
            group: MultiThreadedEventLoopGroup.singleton)
        let upstream = SQSUpstream(
            caller: UpstreamCaller(client: client, retrier: UpstreamRetrier()), transport: transport,
            endpoint: UpstreamEndpoint("http://127.0.0.1:\(upstreamServer.serverPort)")!,
            region: "us-east-1", credentials: StaticCredentialProvider(Self.proxyCredentials),
            readTimeout: .seconds(10))
        let handler = SQSRequestHandler(
            upstream: upstream, limits: .held(1 << 20), logger: Logger(label: "test"))
        let outcome: Result<Void, any Error>
        do {
            try await body(handler, upstreamServer)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        try await client.shutdown()
        await transport.shutdown()
        // The test server reports closing a connection that the client's shutdown already closed.
        try? upstreamServer.stop()
        try outcome.get()
    }

    /// Reads one whole request and answers it.
    static func answer(
        _ upstream: NIOHTTP1TestServer, status: HTTPResponseStatus, contentType: String, body: String,
        extraHeaders: HTTPHeaders = [:]
    ) throws {
        _ = try upstream.receiveHead()
        _ = try upstream.receiveBody()
        _ = try upstream.receiveEnd()
        try respond(upstream, status: status, contentType: contentType, body: body, extraHeaders: extraHeaders)
    }

    static func respond(
        _ upstream: NIOHTTP1TestServer, status: HTTPResponseStatus, contentType: String, body: String,
        extraHeaders: HTTPHeaders = [:]
    ) throws {
        var headers = extraHeaders
        headers.add(name: "Content-Type", value: contentType)
        // Chunked: the response is complete only with `.end`, so the client keeps the connection until then.
        headers.add(name: "Transfer-Encoding", value: "chunked")
        try upstream.writeOutbound(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
        try upstream.writeOutbound(.body(.byteBuffer(ByteBuffer(string: body))))
        try upstream.writeOutbound(.end(nil))
    }

    static func clientRequest(uri: String = "/", headers: HTTPHeaders, body: String) -> ClientRequest {
        ClientRequest(
            head: HTTPRequestHead(version: .http1_1, method: .POST, uri: uri, headers: headers),
            body: ByteBuffer(string: body))
    }

    @Test func jsonRequestIsResignedAndAnswerPassedBack() async throws {
        try await withHandler { handler, upstream in
            let body = #"{"QueueUrl":"http://127.0.0.1:\#(upstream.serverPort)/1/a","MessageBody":"hi"}"#
            let request = Self.clientRequest(
                headers: [
                    "Host": "localhost:9324", "Content-Type": "application/x-amz-json-1.0",
                    "X-Amz-Target": "AmazonSQS.SendMessage", "X-Amz-Security-Token": "clienttoken",
                    "Authorization": "AWS4-HMAC-SHA256 Credential=AKIACLIENT/x", "X-Amz-Date": "20000101T000000Z",
                ], body: body)
            async let response = handler.handle(request)
            try await upstreamScript {
                let head = try upstream.receiveHead()
                #expect(head.uri == "/")
                #expect(head.headers["Host"] == ["127.0.0.1:\(upstream.serverPort)"])
                #expect(head.headers["X-Amz-Security-Token"] == ["proxytoken"])
                #expect(head.headers["X-Amz-Target"] == ["AmazonSQS.SendMessage"])
                let authorization = head.headers.first(name: "authorization") ?? ""
                #expect(authorization.hasPrefix("AWS4-HMAC-SHA256 Credential=AKIAPROXY/"))
                #expect(!head.headers.description.contains("clienttoken"))
                #expect(!head.headers.description.contains("AKIACLIENT"))
                #expect(head.headers.first(name: "x-amz-date") != "20000101T000000Z")
                #expect(try upstream.receiveBody() == ByteBuffer(string: body))
                _ = try upstream.receiveEnd()
                try Self.respond(
                    upstream, status: .ok, contentType: "application/x-amz-json-1.0",
                    body: #"{"MessageId":"m","MD5OfMessageBody":"49f68a5c8493ec2c0bf489821c21fc3b"}"#,
                    extraHeaders: ["x-amzn-RequestId": "req-1", "X-Internal": "secret"])
            }
            let answer = await response
            #expect(answer.status == .ok)
            #expect(answer.headers["x-amzn-RequestId"] == ["req-1"])
            #expect(answer.headers["Content-Type"] == ["application/x-amz-json-1.0"])
            #expect(answer.headers["X-Internal"].isEmpty)
            #expect(String(buffer: answer.body).contains("\"MessageId\":\"m\""))
        }
    }

    @Test func queryRequestKeepsItsQueuePath() async throws {
        try await withHandler { handler, upstream in
            let request = Self.clientRequest(
                uri: "/123456789012/orders",
                headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: "Action=PurgeQueue&Version=2012-11-05")
            async let response = handler.handle(request)
            try await upstreamScript {
                let head = try upstream.receiveHead()
                #expect(head.uri == "/123456789012/orders")
                #expect(head.headers["Content-Type"] == ["application/x-www-form-urlencoded"])
                _ = try upstream.receiveBody()
                _ = try upstream.receiveEnd()
                try Self.respond(upstream, status: .ok, contentType: "text/xml", body: "<PurgeQueueResponse/>")
            }
            let answer = await response
            #expect(answer.status == .ok)
            #expect(String(buffer: answer.body) == "<PurgeQueueResponse/>")
        }
    }

    @Test func aQueueURLNamingAnotherHostIsSentToTheUpstreamWithTheRestOfTheRequest() async throws {
        try await withHandler { handler, upstream in
            let request = Self.jsonRequest(
                "GetQueueAttributes",
                body: #"{ "QueueUrl" : "http://localhost:9324/1/a", "AttributeNames":["All"],"X":{"y":[1,2.50]}}"#)
            async let response = handler.handle(request)
            try await upstreamScript {
                _ = try upstream.receiveHead()
                let sent = String(buffer: try upstream.receiveBody())
                #expect(
                    sent
                        == #"{ "QueueUrl" : "http://127.0.0.1:\#(upstream.serverPort)/1/a", "AttributeNames":["All"],"X":{"y":[1,2.50]}}"#
                )
                _ = try upstream.receiveEnd()
                try Self.respond(upstream, status: .ok, contentType: "application/x-amz-json-1.0", body: "{}")
            }
            #expect(await response.status == .ok)
        }
    }

    @Test func aQueueURLNamedTwiceThatWouldHaveToBeRewrittenIsRefused() async throws {
        try await withHandler { handler, _ in
            let answer = await handler.handle(
                Self.jsonRequest(
                    "GetQueueAttributes",
                    body: #"{"QueueUrl":"http://localhost:9324/1/a","QueueUrl":"http://localhost:9324/1/b"}"#))
            #expect(answer.status == .badRequest)
            #expect(String(buffer: answer.body).contains("more than once"))
        }
    }

    @Test func aQueryQueueURLNamingAnotherHostIsPostedInTheForm() async throws {
        try await withHandler { handler, upstream in
            let request = Self.clientRequest(
                uri: "/?Action=PurgeQueue&QueueUrl=https%3A%2F%2Fsqs.us-east-1.amazonaws.com%2F1%2Fa",
                headers: ["Host": "localhost:9324", "Content-Type": "application/x-www-form-urlencoded"], body: "")
            async let response = handler.handle(request)
            try await upstreamScript {
                let head = try upstream.receiveHead()
                #expect(head.method == .POST && head.uri == "/")
                let form = String(buffer: try upstream.receiveBody())
                #expect(form == "Action=PurgeQueue&QueueUrl=http%3A%2F%2F127.0.0.1%3A\(upstream.serverPort)%2F1%2Fa")
                _ = try upstream.receiveEnd()
                try Self.respond(upstream, status: .ok, contentType: "text/xml", body: "<PurgeQueueResponse/>")
            }
            #expect(await response.status == .ok)
        }
    }

    @Test func queueURLsInAnswersPointAtTheHostTheClientReached() async throws {
        try await withHandler { handler, upstream in
            async let json = handler.handle(Self.jsonRequest("GetQueueUrl", body: #"{"QueueName":"a"}"#))
            try await upstreamScript {
                try Self.answer(
                    upstream, status: .ok, contentType: "application/x-amz-json-1.0",
                    body: #"{"QueueUrl":"http://127.0.0.1:\#(upstream.serverPort)/1/a"}"#)
            }
            #expect(String(buffer: await json.body) == #"{"QueueUrl":"http://localhost:9324/1/a"}"#)
            async let query = handler.handle(
                Self.clientRequest(
                    headers: ["Host": "[::1]:9", "Content-Type": "application/x-www-form-urlencoded"],
                    body: "Action=ListQueues"))
            try await upstreamScript {
                try Self.answer(
                    upstream, status: .ok, contentType: "text/xml",
                    body: "<ListQueuesResponse><ListQueuesResult><QueueUrl>https://sqs.x/1/a</QueueUrl>"
                        + "<QueueUrl>https://sqs.x/1/b</QueueUrl></ListQueuesResult>"
                        + "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ListQueuesResponse>")
            }
            let answer = String(buffer: await query.body)
            #expect(answer.contains("<QueueUrl>http://[::1]:9/1/a</QueueUrl><QueueUrl>http://[::1]:9/1/b</QueueUrl>"))
            #expect(answer.contains("<RequestId>r</RequestId>"))
        }
    }

    @Test func upstreamServerErrorThatIsNotSQSBecomesOne() async throws {
        try await withHandler { handler, upstream in
            async let response = handler.handle(Self.jsonRequest("ListQueues", body: "{}"))
            try await upstreamScript {
                // Three attempts (the default), each answered by a load balancer's page.
                for _ in 0..<3 {
                    try Self.answer(
                        upstream, status: .badGateway, contentType: "text/html", body: "<html>bad gateway</html>")
                }
            }
            let answer = await response
            #expect(answer.status == .badGateway)
            #expect(answer.headers["x-amzn-query-error"] == ["ServiceUnavailable;Receiver"])
            #expect(String(buffer: answer.body).contains("com.amazonaws.sqs#ServiceUnavailable"))
        }
    }

    static func jsonRequest(_ action: String, body: String) -> ClientRequest {
        clientRequest(
            headers: [
                "Host": "localhost:9324", "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Target": "AmazonSQS." + action,
            ], body: body)
    }

    static let sendBody = #"{"QueueUrl":"http://q/1/a","MessageBody":"hi"}"#

    @Test func throttlingIsRetriedThenAnswered() async throws {
        try await withHandler { handler, upstream in
            async let response = handler.handle(Self.jsonRequest("SendMessage", body: Self.sendBody))
            try await upstreamScript {
                try Self.answer(
                    upstream, status: .badRequest, contentType: "application/x-amz-json-1.0",
                    body: #"{"__type":"com.amazonaws.sqs#ThrottlingException","message":"Rate exceeded"}"#)
                try Self.answer(
                    upstream, status: .ok, contentType: "application/x-amz-json-1.0",
                    body: #"{"MessageId":"m","MD5OfMessageBody":"49f68a5c8493ec2c0bf489821c21fc3b"}"#)
            }
            let answer = await response
            #expect(answer.status == .ok)
            #expect(String(buffer: answer.body).contains("\"MessageId\":\"m\""))
        }
    }

    /// A send that failed with a 5xx may have been queued: the client's SDK retries it, the proxy
    /// does not (the upstream script answers once; a second attempt would wait for the read timeout).
    @Test func sendIsNotRetriedAfterAServerError() async throws {
        try await withHandler { handler, upstream in
            async let response = handler.handle(Self.jsonRequest("SendMessage", body: Self.sendBody))
            try await upstreamScript {
                try Self.answer(
                    upstream, status: .internalServerError, contentType: "application/x-amz-json-1.0",
                    body: #"{"__type":"com.amazonaws.sqs#InternalFailure","message":"try again"}"#)
            }
            let answer = await response
            #expect(answer.status == .internalServerError)
            #expect(String(buffer: answer.body).contains("InternalFailure"))
        }
    }

    @Test func readIsRetriedAfterAServerError() async throws {
        try await withHandler { handler, upstream in
            async let response = handler.handle(Self.jsonRequest("ListQueues", body: "{}"))
            try await upstreamScript {
                try Self.answer(
                    upstream, status: .serviceUnavailable, contentType: "application/x-amz-json-1.0",
                    body: #"{"__type":"com.amazonaws.sqs#ServiceUnavailable","message":"busy"}"#)
                try Self.answer(
                    upstream, status: .ok, contentType: "application/x-amz-json-1.0", body: #"{"QueueUrls":[]}"#)
            }
            let answer = await response
            #expect(answer.status == .ok)
        }
    }

    @Test func undecodableRequestNeverReachesUpstream() async throws {
        try await withHandler { handler, _ in
            let answer = await handler.handle(
                Self.clientRequest(headers: ["Content-Type": "application/x-www-form-urlencoded"], body: "Action=No+pe")
            )
            #expect(answer.status == .badRequest)
            #expect(String(buffer: answer.body).contains("<Code>InvalidAction</Code>"))
        }
    }
}
