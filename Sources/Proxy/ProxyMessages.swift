import Foundation
import NIOCore
import NIOHTTP1
import SQSWire

/// An HTTP request as the proxy received it from a client.
public struct ClientRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: ByteBuffer
    /// The body was read as a stream: `body` is empty, and the request decoded on the way stands for it.
    var streamed = false
    /// The hex SHA-256 of `body`, when it was computed to check the client's signature.
    var bodySHA256: String?

    public init(head: HTTPRequestHead, body: ByteBuffer) {
        self.head = head
        self.body = body
    }

    /// The request path without the query string.
    public var path: String { head.path }

    /// The query string without `?`, empty if there is none.
    public var queryString: String { head.queryString }
}

extension ClientRequest {
    /// The request as a form POST to its path, `parameters` (its query string's included) in the body.
    func formPost(_ parameters: QueryParameters) -> ClientRequest {
        var head = head
        head.method = .POST
        head.uri = path
        head.headers.replaceOrAdd(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")
        var request = ClientRequest(head: head, body: ByteBuffer(bytes: parameters.encoded()))
        request.streamed = streamed
        return request
    }
}

extension HTTPRequestHead {
    /// The path of the URI, without the query string.
    var path: String { String(uri.prefix { $0 != "?" }) }

    /// The query string of the URI without `?`, empty if there is none.
    var queryString: String {
        guard let mark = uri.firstIndex(of: "?") else { return "" }
        return String(uri[uri.index(after: mark)...])
    }
}

/// A response for a client.
public struct ProxyResponse: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer
    /// When set, the body is not `body` but what this writes, sent with chunked transfer encoding.
    /// A writer that throws leaves the response unfinished and the connection is closed, so that the
    /// client sees a failure rather than a short body.
    public var streamedBody: (@Sendable (ResponseBodyWriter) async throws -> Void)?
    /// The action answered, for the request log and metrics (nil when the request named none).
    var action: SQSAction?
    /// The queue addressed, for the request log.
    var queueURL: String?

    public init(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

extension ProxyResponse {
    /// The response carrying an error the proxy answers itself, in the client's protocol; counted
    /// in `sqs_proxy_errors_total`.
    public static func error(_ error: SQSError, wireProtocol: SQSProtocol) -> ProxyResponse {
        ProxyMetrics.errorAnswered(kind: error.shape)
        let encoded = SQSErrorEncoder.encode(
            error, wireProtocol: wireProtocol, requestID: UUID().uuidString.lowercased())
        var headers = HTTPHeaders()
        for header in encoded.headers { headers.add(name: header.name, value: header.value) }
        return ProxyResponse(
            status: HTTPResponseStatus(statusCode: encoded.status), headers: headers,
            body: ByteBuffer(bytes: encoded.body))
    }
}

/// Writes the pieces of a streamed response body to the client, waiting while the client is slow.
public struct ResponseBodyWriter: Sendable {
    let outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>

    /// Sends one piece.
    public func write(_ buffer: ByteBuffer) async throws {
        guard buffer.readableBytes > 0 else { return }
        try await outbound.write(.body(.byteBuffer(buffer)))
    }
}
