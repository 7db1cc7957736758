import SQSWire

/// A message body stored in S3 while its request was read: its key, size and digests.
public struct StoredPayload: Sendable, Hashable {
    public var key: String
    public var length: Int
    public var md5Hex: String
    /// Empty unless the queue may be FIFO (the body's SHA-256 is then its deduplication id).
    public var sha256Hex: String

    public init(key: String, length: Int, md5Hex: String, sha256Hex: String) {
        self.key = key
        self.length = length
        self.md5Hex = md5Hex
        self.sha256Hex = sha256Hex
    }
}

/// The extended client's decisions for one SendMessage or SendMessageBatch, made before anything
/// is written: every message validated, which bodies go to S3 under which keys, the input SQS
/// gets, and how its result is rewritten for the client. Pure: the executor does the I/O.
public struct SendPlan: Sendable {
    /// One message of the request.
    public struct Entry: Sendable {
        /// The batch entry's id; `""` for SendMessage.
        public var id: String
        /// The entry as the client sent it (SendMessage's input, or a batch entry).
        public var tree: JSONValue
        public var attributes: [String: MessageAttribute]
        /// The body, unless it was stored while the request was read.
        public var body: String
        /// The body's place in S3 when it was stored while the request was read.
        public var stored: StoredPayload?
        /// Where the body goes in S3; nil when it stays in the message.
        public var key: String?

        /// The body's UTF-8 length.
        public var bodyBytes: Int { stored?.length ?? body.utf8.count }
        /// The MD5 of what the client sent as body.
        public var bodyMD5: String { stored?.md5Hex ?? MessageDigest.body(body) }
    }

    public let action: SQSAction
    /// The bucket offloaded bodies go to.
    public let bucket: String
    public let reservedAttributeName: String
    public private(set) var entries: [Entry]

    /// Decides a send request.
    /// - Parameters:
    ///   - tree: the protocol-neutral input of SendMessage or SendMessageBatch.
    ///   - stored: the bodies stored while the request was read, by entry position (0 for
    ///     SendMessage); their entries' `MessageBody` already holds their pointers.
    ///   - bucket: the bucket offloaded bodies go to; nil: nothing is offloaded.
    ///   - newKey: a new payload key.
    /// - Throws: the error the client gets for an invalid message; nothing may be written then.
    public init(
        action: SQSAction, tree: JSONValue, stored: [Int: StoredPayload], policy: OffloadPolicy, bucket: String?,
        newKey: () -> String
    ) throws(SQSError) {
        self.action = action
        self.bucket = bucket ?? ""
        reservedAttributeName = policy.reservedAttributeName
        let isBatch = action == .sendMessageBatch
        var entries: [Entry] = []
        var offload: [Bool] = []
        for (position, entryTree) in (isBatch ? (tree["Entries"]?.arrayValue ?? []) : [tree]).enumerated() {
            let id = isBatch ? entryTree["Id"]?.stringValue ?? "" : ""
            let stored = stored[position]
            let entry = Entry(
                id: id, tree: entryTree, attributes: try MessageAttribute.map(from: entryTree["MessageAttributes"]),
                body: stored == nil ? entryTree["MessageBody"]?.stringValue ?? "" : "", stored: stored)
            offload.append(try policy.mustOffload(bodyBytes: entry.bodyBytes, attributes: entry.attributes))
            // The receive path would restore such a body as a payload: nothing a client sends may be.
            guard SNSEnvelope(body: entry.body) == nil else {
                throw .invalidParameterValue(
                    "The message body is an SNS notification of an extended-client payload pointer, which only SNS may deliver."
                )
            }
            entries.append(entry)
        }
        guard stored.keys.allSatisfy(entries.indices.contains) else {
            throw .internalFailure("A stored body belongs to no entry of the request.")
        }
        // SQS refuses such a batch too; refused here, nothing is stored for it.
        guard Set(entries.map(\.id)).count == entries.count else {
            throw SQSError(
                shape: "BatchEntryIdsNotDistinct", queryCode: "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
                message: "Two or more batch entries in the request have the same Id.")
        }
        if isBatch && bucket != nil {
            let pointerLength = PayloadPointer(bucket: self.bucket, key: newKey()).encoded.utf8.count
            offload = OffloadPolicy.planBatch(
                sizes: entries.map { OffloadPolicy.messageSize(bodyBytes: $0.bodyBytes, attributes: $0.attributes) },
                offloadedSizes: entries.map {
                    MessageRewriting.offloadedSize(
                        pointerLength: pointerLength, attributesSize: OffloadPolicy.attributesSize($0.attributes),
                        bodyBytes: $0.bodyBytes, reservedName: policy.reservedAttributeName)
                },
                decided: offload, limit: policy.batchLimit)
        }
        for index in entries.indices where entries[index].stored != nil || (offload[index] && bucket != nil) {
            entries[index].key = entries[index].stored?.key ?? newKey()
        }
        self.entries = entries
    }

    /// Whether any body goes through S3; when none does, the request goes upstream as it came.
    public var offloads: Bool { entries.contains { $0.key != nil } }

    /// The bodies to store before the request is sent: those not stored while it was read.
    public var uploads: [(key: String, body: String)] {
        entries.compactMap { entry in entry.stored == nil ? entry.key.map { ($0, entry.body) } : nil }
    }

    /// The keys of every body of this request in S3, stored while it was read or to be uploaded.
    public var keys: [String] { entries.compactMap(\.key) }

    /// The input SQS gets: offloaded bodies replaced by pointers, with the reserved attribute and,
    /// when the queue deduplicates by content and the client gave no id, the body's SHA-256 as
    /// deduplication id (what SQS would have used).
    public func input(_ tree: JSONValue, contentDeduplication: Bool) -> JSONValue {
        let rewritten = entries.map { entry -> JSONValue in
            guard let key = entry.key else { return entry.tree }
            var offloaded =
                entry.stored == nil
                ? MessageRewriting.offload(
                    entry.tree, pointer: PayloadPointer(bucket: bucket, key: key), bodyBytes: entry.bodyBytes,
                    reservedName: reservedAttributeName)
                : MessageRewriting.markOffloaded(
                    entry.tree, bodyBytes: entry.bodyBytes, reservedName: reservedAttributeName)
            if contentDeduplication && offloaded["MessageDeduplicationId"] == nil {
                offloaded["MessageDeduplicationId"] = .string(
                    entry.stored?.sha256Hex ?? MessageDigest.sha256(entry.body))
            }
            return offloaded
        }
        guard action == .sendMessageBatch else { return rewritten[0] }
        var batch = tree
        batch["Entries"] = .array(rewritten)
        return batch
    }

    /// A successful result with the digests of what the client sent for every offloaded message,
    /// and the keys of the offloaded entries SQS refused (their payloads are to be deleted).
    public func result(_ tree: JSONValue) -> (tree: JSONValue, refusedKeys: [String]) {
        guard action == .sendMessageBatch else {
            guard entries[0].key != nil else { return (tree, []) }
            return (
                MessageRewriting.sendResult(tree, bodyMD5: entries[0].bodyMD5, attributes: entries[0].attributes), []
            )
        }
        let byID = Dictionary(entries.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var result = tree
        result["Successful"] = tree["Successful"].map { successful in
            .array(
                (successful.arrayValue ?? []).map { entry in
                    guard let sent = byID[entry["Id"]?.stringValue ?? ""], sent.key != nil else { return entry }
                    return MessageRewriting.sendResult(entry, bodyMD5: sent.bodyMD5, attributes: sent.attributes)
                })
        }
        let refused = (tree["Failed"]?.arrayValue ?? []).compactMap { byID[$0["Id"]?.stringValue ?? ""]?.key }
        return (result, refused)
    }
}
