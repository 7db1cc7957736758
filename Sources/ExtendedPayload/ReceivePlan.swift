import SQSWire

/// The extended client's decisions for one ReceiveMessage: the input SQS gets (also asking for
/// both reserved attributes), and, for its result, which messages carry payloads to fetch, how,
/// and which pointers are refused. Pure: the executor does the I/O.
public struct ReceivePlan: Sendable {
    /// A payload to fetch for a message of the result.
    public struct Fetch: Sendable, Hashable {
        /// The message's place in the result.
        public var index: Int
        public var pointer: PayloadPointer
        /// Whether it streams into the response (over the held limit, or of unknown size) instead
        /// of being read whole.
        public var streams: Bool
        /// The SNS envelope the payload goes into, for a message SNS delivered without raw delivery.
        public var envelope: SNSEnvelope?
    }

    /// The input SQS gets.
    public let input: JSONValue
    /// The attributes the client asked for.
    public let filter: AttributeNameFilter
    /// Whether `input` is what the client sent.
    public let inputUnchanged: Bool

    public init(_ tree: JSONValue) {
        (input, filter) = MessageRewriting.receiveRequest(tree)
        inputUnchanged = input == tree
    }

    /// The payloads of the offloaded messages among `messages` whose pointers name an allowed
    /// object, and the pointers that do not (those messages are delivered as SQS holds them).
    /// A message is offloaded when it carries a reserved attribute and its body is a pointer, or
    /// when its body is an SNS envelope of a pointer (``SNSEnvelope``).
    /// - Parameter heldPayloadLimit: payloads up to this size (as their reserved attribute says)
    ///   are read whole; larger ones, or of unknown size, stream.
    public func fetches(in messages: [JSONValue], buckets: PayloadBuckets, heldPayloadLimit: Int)
        -> (fetches: [Fetch], refused: [PayloadPointer])
    {
        var fetches: [Fetch] = []
        var refused: [PayloadPointer] = []
        for (index, message) in messages.enumerated() {
            let body = message["Body"]?.stringValue ?? ""
            let pointer: PayloadPointer
            let size: Int?
            var envelope: SNSEnvelope?
            if MessageRewriting.isOffloaded(message) {
                guard let offloaded = PayloadPointer(body: body) else { continue }
                pointer = offloaded
                size =
                    OffloadPolicy.reservedAttributeNames.lazy.compactMap {
                        message["MessageAttributes"]?[$0]?["StringValue"]?.stringValue.flatMap { Int($0) }
                    }.first
            } else if let delivered = SNSEnvelope(body: body) {
                (pointer, size, envelope) = (delivered.pointer, delivered.payloadSize, delivered)
            } else {
                continue
            }
            guard buckets.allows(pointer) else {
                refused.append(pointer)
                continue
            }
            fetches.append(
                Fetch(
                    index: index, pointer: pointer, streams: size.map { $0 > heldPayloadLimit } ?? true,
                    envelope: envelope))
        }
        return (fetches, refused)
    }
}

/// The receipt handles of a DeleteMessage(Batch) or ChangeMessageVisibility(Batch) with the
/// extended client's markers removed: the input SQS gets, and the payloads the marked handles
/// name, split into those the proxy may delete and those it must leave alone. Pure.
public struct MarkedHandles: Sendable {
    /// The input with every marked handle restored to the one SQS issued.
    public let input: JSONValue
    /// The payloads of marked handles in the payload buckets, by entry id (`""` for a single handle).
    public let payloads: [String: PayloadPointer]
    /// The payloads named by markers outside the payload buckets.
    public let refused: [PayloadPointer]
    /// Whether any handle was marked; if not, SQS gets the input as the client sent it.
    public let anyMarked: Bool

    public init(_ tree: JSONValue, batch: Bool, buckets: PayloadBuckets) {
        var payloads: [String: PayloadPointer] = [:]
        var refused: [PayloadPointer] = []
        var anyMarked = false
        func restore(_ entry: JSONValue, id: String) -> JSONValue {
            guard let handle = MarkedReceiptHandle(entry["ReceiptHandle"]?.stringValue ?? "") else { return entry }
            anyMarked = true
            if buckets.allows(handle.pointer) {
                payloads[id] = handle.pointer
            } else {
                refused.append(handle.pointer)
            }
            var entry = entry
            entry["ReceiptHandle"] = .string(handle.original)
            return entry
        }
        if batch {
            var rewritten = tree
            rewritten["Entries"] = tree["Entries"].map { entries in
                .array((entries.arrayValue ?? []).map { restore($0, id: $0["Id"]?.stringValue ?? "") })
            }
            input = rewritten
        } else {
            input = restore(tree, id: "")
        }
        self.payloads = payloads
        self.refused = refused
        self.anyMarked = anyMarked
    }

    /// The payloads to delete once SQS answered a DeleteMessageBatch: those of the entries it lists
    /// as deleted.
    public func deleted(byBatchResult result: JSONValue) -> [PayloadPointer] {
        (result["Successful"]?.arrayValue ?? []).compactMap { payloads[$0["Id"]?.stringValue ?? ""] }
    }
}
