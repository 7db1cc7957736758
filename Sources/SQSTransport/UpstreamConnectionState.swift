import NIOCore
import NIOHTTP1

/// The life of one keep-alive HTTP/1.1 connection to the upstream, one request at a time: events
/// in, actions out, no I/O. ``UpstreamConnectionHandler`` feeds it what the channel does and carries
/// out what it returns.
///
/// idle → (request) → awaiting the head → (head) → receiving the body → (end) → idle, or closing
/// when either side did not keep the connection alive; any failure on the way closes it.
struct UpstreamConnectionState {
    enum State: Equatable {
        case idle
        /// The request is being written, or was: `written` once the write completed.
        case awaitingHead(written: Bool)
        case receivingBody(status: HTTPResponseStatus, keepAlive: Bool)
        /// Closing after a failure or a response that ended the connection.
        case closing
        case closed
    }

    enum Action: Equatable {
        case none
        /// Write the request's head, body and end, then flush once.
        case writeRequest
        /// The response is complete; `reuse` tells whether the connection carries another request
        /// (else it is closed as well).
        case succeedRequest(UpstreamResponse, reuse: Bool)
        /// The request failed; the connection is closed when `close`.
        case failRequest(SQSTransportError, close: Bool)
        /// The connection closed with no request on it: the pool forgets it.
        case forgetConnection
        case closeConnection
    }

    private(set) var state = State.idle
    /// The largest response body collected.
    let maxResponseSize: Int
    /// Whether the request asked for the connection to close after it.
    private var requestCloses = false
    private var responseHeaders = HTTPHeaders()
    private var responseBody = ByteBuffer()

    init(maxResponseSize: Int) {
        self.maxResponseSize = maxResponseSize
    }

    /// A request is to go out on this connection.
    /// - Parameters:
    ///   - isActive: whether the channel is still open; a closed one has written nothing.
    ///   - closes: the request says `Connection: close`.
    mutating func startRequest(isActive: Bool, closes: Bool = false) -> Action {
        guard case .idle = state, isActive else {
            return .failRequest(.connectionClosed(written: false), close: false)
        }
        state = .awaitingHead(written: false)
        requestCloses = closes
        return .writeRequest
    }

    /// The request's bytes went to the socket.
    mutating func requestWritten() -> Action {
        if case .awaitingHead(written: false) = state { state = .awaitingHead(written: true) }
        return .none
    }

    mutating func responseHead(_ head: HTTPResponseHead) -> Action {
        guard case .awaitingHead = state else { return unexpectedResponse() }
        // An informational answer (100 Continue) is not the response.
        if head.status.code < 200 && head.status != .switchingProtocols { return .none }
        state = .receivingBody(status: head.status, keepAlive: head.isKeepAlive && !requestCloses)
        responseHeaders = head.headers
        responseBody.clear()
        return .none
    }

    mutating func responseBodyPart(_ part: ByteBuffer) -> Action {
        guard case .receivingBody = state else { return unexpectedResponse() }
        guard responseBody.readableBytes + part.readableBytes <= maxResponseSize else {
            state = .closing
            return .failRequest(.responseTooLarge(limit: maxResponseSize), close: true)
        }
        if responseBody.readableBytes == 0 {
            responseBody = part
        } else {
            var part = part
            responseBody.writeBuffer(&part)
        }
        return .none
    }

    mutating func responseEnd() -> Action {
        guard case .receivingBody(let status, let keepAlive) = state else { return unexpectedResponse() }
        let response = UpstreamResponse(status: status, headers: responseHeaders, body: responseBody)
        responseHeaders = HTTPHeaders()
        responseBody = ByteBuffer()
        state = keepAlive ? .idle : .closing
        return .succeedRequest(response, reuse: keepAlive)
    }

    /// The attempt's deadline passed while the request was on this connection (`timedOut`), or
    /// its caller gave up (`cancelled`): the connection cannot carry another request.
    mutating func abandon(with error: SQSTransportError) -> Action {
        switch state {
        case .awaitingHead, .receivingBody:
            state = .closing
            return .failRequest(error, close: true)
        case .idle, .closing, .closed:
            return .none
        }
    }

    /// The connection stayed idle for the pool's idle timeout, or the pool shuts down.
    mutating func closeIfIdle() -> Action {
        guard case .idle = state else { return .none }
        state = .closing
        return .closeConnection
    }

    mutating func errorCaught(_ error: any Error) -> Action {
        switch state {
        case .awaitingHead(let written):
            state = .closing
            return .failRequest(.connectionFailed(written: written, "\(error)"), close: true)
        case .receivingBody:
            state = .closing
            return .failRequest(.connectionFailed(written: true, "\(error)"), close: true)
        case .idle:
            state = .closing
            return .closeConnection
        case .closing, .closed:
            return .none
        }
    }

    mutating func channelInactive() -> Action {
        let previous = state
        state = .closed
        switch previous {
        case .idle, .closing:
            return .forgetConnection
        case .awaitingHead(let written):
            return .failRequest(.connectionClosed(written: written), close: false)
        case .receivingBody:
            return .failRequest(.connectionClosed(written: true), close: false)
        case .closed:
            return .none
        }
    }

    /// A response part that no request asked for: the connection cannot be trusted any more.
    private mutating func unexpectedResponse() -> Action {
        switch state {
        case .idle:
            state = .closing
            return .closeConnection
        case .awaitingHead, .receivingBody:
            state = .closing
            return .failRequest(.connectionFailed(written: true, "an unexpected response part"), close: true)
        case .closing, .closed:
            return .none
        }
    }
}
