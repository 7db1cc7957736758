import SQSWire

/// Every size limit of the proxy, built once from the settings: what a request may be and hold,
/// decided from its head before a body byte is read, the parts payloads are stored and streamed
/// in, and the payloads read whole on receive. Below both the server edge and the request path;
/// adding a limit is one edit here. Pure.
public struct RequestLimits: Sendable, Hashable {
    /// Bodies over this many bytes go to S3; a send whose declared body is larger streams.
    public let threshold: Int
    /// The largest message body, stored or not.
    public let maxPayloadSize: Int
    /// The largest request body held in memory: every request but a send that streams.
    public let maxHeldRequestSize: Int
    /// The part size multipart uploads use; nil when no bucket is configured, so that nothing is
    /// offloaded and no request streams.
    public let partSize: Int?
    /// How many parts of one upload are in flight at once.
    public let partsInFlight: Int
    /// The ranges a streamed payload is read from S3 in; nil: in one GET.
    public let rangeSize: Int?
    /// How many ranges of one payload are read at once, as the memory budget allows.
    public let rangesInFlight: Int

    /// Room for the piece that completes a part being read.
    public static let pieceAllowance = 256 * 1024
    /// The pieces a streamed part is sent in: large enough to be unmapped when freed.
    public static let streamedPieceSize = 1024 * 1024
    /// The largest member of a streamed send besides its bodies (an attribute, a queue URL).
    public static let maxStreamedMemberSize = 1024 * 1024
    /// The largest payload read whole on receive; larger ones, or of unknown size, stream into
    /// the response, so that ten messages in one response hold at most a few MiB.
    public static let maxHeldPayloadSize = 1024 * 1024
    /// Added to a streamed send's largest body, escaped, for the rest of its request.
    static let streamedRequestAllowance = 1024 * 1024

    public init(
        threshold: Int, maxPayloadSize: Int, maxHeldRequestSize: Int, partSize: Int?, partsInFlight: Int,
        rangeSize: Int? = nil, rangesInFlight: Int = 1
    ) {
        self.threshold = threshold
        self.maxPayloadSize = maxPayloadSize
        self.maxHeldRequestSize = maxHeldRequestSize
        self.partSize = partSize
        self.partsInFlight = partsInFlight
        self.rangeSize = rangeSize
        self.rangesInFlight = max(rangesInFlight, 1)
    }

    /// What a request's head says of its body.
    public struct Body: Sendable, Hashable {
        /// Whether the body is read as a stream: a send that may carry a body over the threshold.
        public let streams: Bool
        /// The largest body accepted, as sent.
        public let limit: Int
        /// The most of the body held in memory at once.
        public let hold: Int
    }

    /// The limits of a request's body, from its head.
    /// - Parameters:
    ///   - namedAction: the action `X-Amz-Target` names (JSON protocol); nil for Query, which names
    ///     its action in the body.
    ///   - declaredLength: the `Content-Length`; nil for a chunked body.
    public func body(
        wireProtocol: SQSProtocol, namedAction: SQSAction?, contentType: String?, declaredLength: Int?
    ) -> Body {
        guard
            streams(
                wireProtocol: wireProtocol, namedAction: namedAction, contentType: contentType,
                declaredLength: declaredLength)
        else { return Body(streams: false, limit: maxHeldRequestSize, hold: maxHeldRequestSize) }
        return Body(streams: true, limit: streamedRequestLimit(wireProtocol), hold: largestHold)
    }

    private func streams(wireProtocol: SQSProtocol, namedAction: SQSAction?, contentType: String?, declaredLength: Int?)
        -> Bool
    {
        guard partSize != nil else { return false }
        switch wireProtocol {
        case .json:
            guard namedAction == .sendMessage || namedAction == .sendMessageBatch else { return false }
        case .query:
            guard contentType?.lowercased().hasPrefix("application/x-www-form-urlencoded") ?? false else {
                return false
            }
        }
        guard let declaredLength else { return true }
        return declaredLength > threshold
    }

    /// The largest request that streams, as sent: a body of the largest payload escaped the worst
    /// way its protocol allows, plus an allowance for the rest. JSON writes a byte as `\u00XX` at
    /// worst (six bytes), a form as `%XX` (three). The body's own size, unescaped, is checked
    /// while it is read.
    func streamedRequestLimit(_ wireProtocol: SQSProtocol) -> Int {
        let factor = wireProtocol == .json ? 6 : 3
        let allowance = Self.streamedRequestAllowance
        return min(maxPayloadSize, (Int.max - allowance) / factor) * factor + allowance
    }

    /// The most one request may hold of the memory budget: a request held whole, or a send that
    /// streams (a part being read and each part in flight, plus the rest of the request held).
    public var largestHold: Int {
        guard let partSize else { return maxHeldRequestSize }
        return (partsInFlight + 1) * (partSize + Self.pieceAllowance) + maxHeldRequestSize
    }
}
