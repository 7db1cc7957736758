import NIOCore
import NIOHTTP1

/// A request for the upstream: its head (the `Host` header included) and its whole body.
public struct UpstreamRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: ByteBuffer
    /// Whether the request may wait long for its answer (a receive may long-poll for 20 s): it runs
    /// on a connection of its own outside the pool's bound, so that it never holds up other calls.
    public var mayLongPoll: Bool

    public init(head: HTTPRequestHead, body: ByteBuffer, mayLongPoll: Bool = false) {
        self.head = head
        self.body = body
        self.mayLongPoll = mayLongPoll
    }
}

/// A complete upstream response.
public struct UpstreamResponse: Sendable, Equatable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Why an upstream request got no response.
public enum SQSTransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No connection could be made: the request never left.
    case connectFailed(String)
    /// The connection closed before the response was complete; `written` when the request may
    /// have reached the server.
    case connectionClosed(written: Bool)
    /// The connection failed (a reset, a TLS or HTTP error); `written` as above.
    case connectionFailed(written: Bool, String)
    /// The deadline passed; `written` when the request had gone out.
    case timedOut
    /// The deadline passed while the request waited for a connection: it never left.
    case timedOutWaiting
    case responseTooLarge(limit: Int)
    /// The caller gave up (its task was cancelled).
    case cancelled
    /// The transport was shut down.
    case shutDown

    /// Whether the server may have received (and acted on) the request.
    public var mayHaveArrived: Bool {
        switch self {
        case .connectFailed, .timedOutWaiting, .shutDown: return false
        case .connectionClosed(let written), .connectionFailed(let written, _): return written
        case .timedOut, .responseTooLarge, .cancelled: return true
        }
    }

    public var description: String {
        switch self {
        case .connectFailed(let reason): return "could not connect: \(reason)"
        case .connectionClosed(let written):
            return written ? "the connection closed before the response" : "the connection was closed"
        case .connectionFailed(_, let reason): return "the connection failed: \(reason)"
        case .timedOut: return "no response in time"
        case .timedOutWaiting: return "no connection free in time"
        case .responseTooLarge(let limit): return "the response is larger than \(limit) bytes"
        case .cancelled: return "cancelled"
        case .shutDown: return "the transport is shut down"
        }
    }
}
