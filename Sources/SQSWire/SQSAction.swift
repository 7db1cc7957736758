/// The 23 operations of the Amazon SQS API (2012-11-05).
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

    /// Whether the extended client rewrites this operation's request or response.
    public var isRewritten: Bool {
        RequestSchema.forAction(self) != nil
    }
}
