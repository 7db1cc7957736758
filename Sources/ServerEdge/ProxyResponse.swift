import NIOCore
import NIOHTTP1
import SQSWire

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

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
    public var action: SQSAction?
    /// The queue addressed, for the request log.
    public var queueURL: String?

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
        ServerMetrics.errorAnswered(kind: error.shape)
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

extension HTTPRequestHead {
    /// The path of the URI, without the query string.
    public var path: String { String(uri.prefix { $0 != "?" }) }

    /// The query string of the URI without `?`, empty if there is none.
    public var queryString: String {
        guard let mark = uri.firstIndex(of: "?") else { return "" }
        return String(uri[uri.index(after: mark)...])
    }
}
