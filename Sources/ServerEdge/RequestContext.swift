import NIOHTTP1
import RequestLimits
import SQSWire

/// What the head of a client request says, worked out once when it arrives and passed down: the
/// protocol, the action a JSON request names, the declared length, and the limits of its body.
public struct RequestContext: Sendable {
    public let head: HTTPRequestHead
    public let wireProtocol: SQSProtocol
    /// `X-Amz-Target` (JSON protocol).
    public let target: String?
    public let contentType: String?
    /// The declared `Content-Length`; nil for a chunked body.
    public let declaredLength: Int?
    /// The action a JSON request names, nil for a Query request (it names its action in the body)
    /// or an unknown one: whether the body streams, and the request log of a request refused before
    /// it was decoded.
    public let namedAction: SQSAction?
    /// Whether the body is read as a stream, its largest size and the most of it held at once.
    public let body: RequestLimits.Body

    public init(head: HTTPRequestHead, limits: RequestLimits) {
        self.head = head
        target = head.headers.first(name: "x-amz-target")
        contentType = head.headers.first(name: "content-type")
        wireProtocol = SQSRequestDecoder.wireProtocol(target: target, contentType: contentType)
        declaredLength = head.headers.first(name: "content-length").flatMap(Int.init)
        namedAction = try? SQSRequestDecoder.jsonAction(target: target)
        body = limits.body(
            wireProtocol: wireProtocol, namedAction: namedAction, contentType: contentType,
            declaredLength: declaredLength)
    }

    /// Whether the body is read as a stream: a send that may carry a body over the threshold.
    public var streams: Bool { body.streams }
}
