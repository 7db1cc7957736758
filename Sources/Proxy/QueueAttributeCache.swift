import ExtendedPayload
import SQSWire

/// Remembers what the extended client asks of a queue with GetQueueAttributes: per FIFO queue,
/// whether it has content-based deduplication (asked once: a queue's FIFO-ness never changes and
/// the setting rarely does), and per queue its `MaximumMessageSize` (for `--threshold auto`,
/// asked again after ``sizeLifetime``, or at once when SQS said a message was too long).
actor QueueAttributeCache {
    /// How long a queue's `MaximumMessageSize` is taken as known.
    static let sizeLifetime = Duration.seconds(300)

    private var contentBasedDeduplication: [String: Bool] = [:]
    private var maximumMessageSizes: [String: (size: Int, asked: ContinuousClock.Instant)] = [:]

    /// Whether the FIFO queue at `queueURL` deduplicates by content.
    func contentBasedDeduplication(queueURL: String, upstream: any SQSCalls) async throws(SQSError) -> Bool {
        if let known = contentBasedDeduplication[queueURL] { return known }
        let result = try await upstream.call(
            .getQueueAttributes,
            input: .object([
                "QueueUrl": .string(queueURL), "AttributeNames": .array([.string("ContentBasedDeduplication")]),
            ]))
        let enabled = result?["Attributes"]?["ContentBasedDeduplication"]?.stringValue == "true"
        if result != nil { contentBasedDeduplication[queueURL] = enabled }
        return enabled
    }

    /// The largest message the queue at `queueURL` takes, in bytes (SQS's largest when it does not say).
    func maximumMessageSize(queueURL: String, upstream: any SQSCalls) async throws(SQSError) -> Int {
        if let known = maximumMessageSizes[queueURL], ContinuousClock.now - known.asked < Self.sizeLifetime {
            return known.size
        }
        let result = try await upstream.call(
            .getQueueAttributes,
            input: .object([
                "QueueUrl": .string(queueURL), "AttributeNames": .array([.string("MaximumMessageSize")]),
            ]))
        guard let text = result?["Attributes"]?["MaximumMessageSize"]?.stringValue, let size = Int(text), size > 0
        else { return OffloadPolicy.sqsMessageLimit }
        let bounded = min(size, OffloadPolicy.sqsMessageLimit)
        maximumMessageSizes[queueURL] = (bounded, ContinuousClock.now)
        return bounded
    }

    /// Forgets the queue's `MaximumMessageSize`: SQS said a message was too long for it.
    func forgetMaximumMessageSize(queueURL: String) {
        maximumMessageSizes[queueURL] = nil
    }
}
