import SQSWire

/// The extended client's rules for one message: which messages go through S3, and which the
/// proxy refuses before anything is written.
public struct OffloadPolicy: Sendable {
    /// The reserved attribute names: current (Python, the proxy's default) and legacy (Java's default).
    public static let reservedAttributeNames = ["ExtendedPayloadSize", "SQSLargePayloadSize"]
    /// The largest message, and the largest batch, SQS accepts.
    public static let sqsMessageLimit = 1_048_576
    /// SQS allows 10 message attributes; an offloaded message needs one for the reserved attribute.
    public static let maxAttributesWhenOffloaded = 9

    /// Messages larger than this (body plus attributes) go through S3; 0…1048576.
    public var threshold: Int
    /// Every message goes through S3.
    public var alwaysThroughS3: Bool
    /// The reserved attribute written on offloaded messages.
    public var reservedAttributeName: String
    /// The largest body accepted.
    public var maxPayloadSize: Int
    /// Whether a bucket is configured; without one nothing is offloaded.
    public var canOffload: Bool
    /// The largest batch, its entries' sizes added up: SQS's limit, or the queue's.
    public var batchLimit = sqsMessageLimit

    public init(
        threshold: Int = 262_144, alwaysThroughS3: Bool = false, reservedAttributeName: String = "ExtendedPayloadSize",
        maxPayloadSize: Int, canOffload: Bool
    ) {
        self.threshold = threshold
        self.alwaysThroughS3 = alwaysThroughS3
        self.reservedAttributeName = reservedAttributeName
        self.maxPayloadSize = maxPayloadSize
        self.canOffload = canOffload
    }

    /// The libraries' size: the body's UTF-8 bytes plus, per attribute, name, type and value.
    public static func messageSize(bodyBytes: Int, attributes: [String: MessageAttribute]) -> Int {
        bodyBytes + attributesSize(attributes)
    }

    /// The attributes' share of the message size.
    public static func attributesSize(_ attributes: [String: MessageAttribute]) -> Int {
        attributes.reduce(0) { $0 + $1.key.utf8.count + $1.value.size }
    }

    /// Whether a message goes through S3, after validating it. Throws the SQS error the client gets.
    public func mustOffload(bodyBytes: Int, attributes: [String: MessageAttribute]) throws(SQSError) -> Bool {
        for name in Self.reservedAttributeNames where attributes[name] != nil {
            throw SQSError(
                shape: "InvalidAttributeName",
                message: "Message attribute name \(name) is reserved for use by SQS extended client.")
        }
        guard bodyBytes > 0 else {
            throw .invalidParameterValue("The message body must not be empty.")
        }
        guard bodyBytes <= maxPayloadSize else {
            throw .invalidParameterValue(
                "The message body is \(bodyBytes) bytes, larger than the maximum payload size of \(maxPayloadSize) bytes."
            )
        }
        guard canOffload else { return false }
        let attributesSize = Self.attributesSize(attributes)
        guard alwaysThroughS3 || bodyBytes + attributesSize > threshold else { return false }
        guard attributesSize <= threshold else {
            throw .invalidParameterValue(
                "Total size of message attributes is \(attributesSize) bytes, larger than the threshold of \(threshold) bytes. Put the payload in the message body instead."
            )
        }
        guard attributes.count <= Self.maxAttributesWhenOffloaded else {
            throw .invalidParameterValue(
                "Number of message attributes [\(attributes.count)] exceeds the maximum allowed for large-payload messages [\(Self.maxAttributesWhenOffloaded)]."
            )
        }
        return true
    }

    /// Which entries of a batch go through S3: each entry's own decision, then, while the batch
    /// would exceed SQS's limit, the largest remaining inline entry.
    /// - Parameters:
    ///   - sizes: each entry's message size inline.
    ///   - offloadedSizes: each entry's message size as a pointer.
    ///   - decided: each entry's own decision.
    public static func planBatch(sizes: [Int], offloadedSizes: [Int], decided: [Bool], limit: Int = sqsMessageLimit)
        -> [Bool]
    {
        var plan = decided
        var total = zip(sizes.indices, plan).reduce(0) { $0 + ($1.1 ? offloadedSizes[$1.0] : sizes[$1.0]) }
        while total > limit {
            let inline = plan.indices.filter { !plan[$0] && sizes[$0] > offloadedSizes[$0] }
            guard let largest = inline.max(by: { sizes[$0] < sizes[$1] }) else { break }
            plan[largest] = true
            total += offloadedSizes[largest] - sizes[largest]
        }
        return plan
    }
}
