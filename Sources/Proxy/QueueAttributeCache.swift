import SQSWire

/// Remembers, per FIFO queue, whether it has content-based deduplication (asked once with
/// GetQueueAttributes; a queue's FIFO-ness never changes and the setting rarely does).
actor QueueAttributeCache {
    private var contentBasedDeduplication: [String: Bool] = [:]

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
}
