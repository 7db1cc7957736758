import NIOCore
import NIOHTTP1
import SQSWire
import ServerEdge

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

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
    /// The request as a form POST to its path, `parameters` (its query string's included) in the
    /// body, which is counted in the request's memory lease.
    func formPost(_ parameters: QueryParameters) throws(SQSError) -> ClientRequest {
        var head = head
        head.method = .POST
        head.uri = path
        head.headers.replaceOrAdd(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")
        var request = ClientRequest(head: head, body: try Self.heldBody(parameters.encoded()))
        request.streamed = streamed
        return request
    }

    /// A body written for SQS, counted in the request's memory lease.
    static func heldBody(_ bytes: [UInt8]) throws(SQSError) -> ByteBuffer {
        try MemoryLease.reserveInCurrent(bytes.count)
        return ByteBuffer(bytes: bytes)
    }
}
