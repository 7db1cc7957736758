/// The 23 operations of the Amazon SQS API (2012-11-05), and ``other``: any other action a request
/// names, which the proxy forwards as it came (SQS may have added it since).
public enum SQSAction: String, CaseIterable, Sendable {
    case addPermission = "AddPermission"
    case cancelMessageMoveTask = "CancelMessageMoveTask"
    case changeMessageVisibility = "ChangeMessageVisibility"
    case changeMessageVisibilityBatch = "ChangeMessageVisibilityBatch"
    case createQueue = "CreateQueue"
    case deleteMessage = "DeleteMessage"
    case deleteMessageBatch = "DeleteMessageBatch"
    case deleteQueue = "DeleteQueue"
    case getQueueAttributes = "GetQueueAttributes"
    case getQueueUrl = "GetQueueUrl"
    case listDeadLetterSourceQueues = "ListDeadLetterSourceQueues"
    case listMessageMoveTasks = "ListMessageMoveTasks"
    case listQueueTags = "ListQueueTags"
    case listQueues = "ListQueues"
    case purgeQueue = "PurgeQueue"
    case receiveMessage = "ReceiveMessage"
    case removePermission = "RemovePermission"
    case sendMessage = "SendMessage"
    case sendMessageBatch = "SendMessageBatch"
    case setQueueAttributes = "SetQueueAttributes"
    case startMessageMoveTask = "StartMessageMoveTask"
    case tagQueue = "TagQueue"
    case untagQueue = "UntagQueue"
    /// An action the proxy does not know: forwarded, its top-level `QueueUrl` pointed at SQS.
    case other

    /// The action `name` names: one of the 23, or ``other`` for any other name an action could
    /// have (a letter, then letters and digits, at most 128); nil for anything else.
    public static func named(_ name: String) -> SQSAction? {
        if let action = SQSAction(rawValue: name), action != .other { return action }
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= 128, Self.isLetter(first),
            bytes.allSatisfy({ Self.isLetter($0) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) })
        else { return nil }
        return .other
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    /// Whether the operation addresses one queue through `QueueUrl`.
    public var takesQueueURL: Bool {
        switch self {
        case .cancelMessageMoveTask, .createQueue, .getQueueUrl, .listMessageMoveTasks, .listQueues,
            .startMessageMoveTask:
            return false
        default:
            return true
        }
    }

    /// Whether the operation only reads: abandoned when its client goes away, since nobody would
    /// see its answer (a receive's messages come back after their visibility timeout).
    public var changesNothing: Bool {
        switch self {
        case .getQueueAttributes, .getQueueUrl, .listDeadLetterSourceQueues, .listMessageMoveTasks, .listQueueTags,
            .listQueues, .receiveMessage:
            return true
        default:
            return false
        }
    }

    /// Whether a call that may have reached SQS may be sent again: not a send (the message would
    /// be sent twice), nor an action the proxy does not know.
    public var isRepeatable: Bool {
        self != .sendMessage && self != .sendMessageBatch && self != .other
    }

    /// Whether the extended client rewrites this operation's request or response.
    public var isRewritten: Bool {
        RequestSchema.forAction(self) != nil
    }
}
