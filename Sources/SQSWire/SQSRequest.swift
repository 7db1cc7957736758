/// An SQS request decoded far enough to know its action, its protocol and its fields.
public struct SQSRequest: Sendable {
    /// The parameters as they arrived, in the request's own protocol.
    public enum Input: Sendable, Hashable {
        case json(JSONValue)
        case query(QueryParameters)
    }

    public var action: SQSAction
    public var wireProtocol: SQSProtocol
    public var input: Input
    /// The protocol-neutral input of a rewritten action (the JSON protocol's body shape, whichever
    /// protocol it came in); nil for actions the proxy passes through.
    public var tree: JSONValue?
    /// What parsing the request built holds, as ``ParseCost`` counts it.
    public var heldBytes = 0

    public init(action: SQSAction, wireProtocol: SQSProtocol, input: Input, tree: JSONValue?) {
        self.action = action
        self.wireProtocol = wireProtocol
        self.input = input
        self.tree = tree
    }

    /// The queue URL named by the request, if any.
    public var queueURL: String? {
        switch input {
        case .json(let body): return body["QueueUrl"]?.stringValue
        case .query(let parameters): return parameters["QueueUrl"]
        }
    }

    /// Names `url` as the request's queue URL, in the input and the tree (where the request has one).
    public mutating func setQueueURL(_ url: String) {
        switch input {
        case .json(var body):
            body["QueueUrl"] = .string(url)
            input = .json(body)
        case .query(var parameters):
            for index in parameters.pairs.indices where parameters.pairs[index].name == "QueueUrl" {
                parameters.pairs[index].value = url
            }
            input = .query(parameters)
        }
        if tree?["QueueUrl"] != nil { tree?["QueueUrl"] = .string(url) }
    }
}

/// Decodes incoming HTTP requests into ``SQSRequest`` values.
public enum SQSRequestDecoder {
    /// The target prefix of JSON-protocol requests.
    public static let targetPrefix = "AmazonSQS."

    /// Which protocol a request speaks, judged from its headers alone (used to answer errors in kind).
    public static func wireProtocol(target: String?, contentType: String?) -> SQSProtocol {
        if target != nil { return .json }
        if let contentType, contentType.lowercased().hasPrefix("application/x-amz-json") { return .json }
        return .query
    }

    /// Decodes a request, counting what its parse builds in ``SQSRequest/heldBytes``: at most
    /// ``ParseCost/limit(forLength:)`` of the body's length.
    /// - Parameters:
    ///   - target: the `X-Amz-Target` header.
    ///   - contentType: the `Content-Type` header.
    ///   - path: the request path without its query string.
    ///   - queryString: the URL's query string, without `?`.
    ///   - body: the request body.
    public static func decode(
        target: String?, contentType: String?, path: String, queryString: String?, body: some Collection<UInt8>
    ) throws(SQSError) -> SQSRequest {
        switch wireProtocol(target: target, contentType: contentType) {
        case .json:
            return try decodeJSON(target: target, body: body)
        case .query:
            return try decodeQuery(path: path, queryString: queryString, body: body)
        }
    }

    /// A request the proxy rewrites is parsed whole; one it forwards as it came is checked whole
    /// but only its top level is built (for the required members and the queue URL).
    private static func decodeJSON(target: String?, body: some Collection<UInt8>) throws(SQSError) -> SQSRequest {
        let action = try jsonAction(target: target)
        let shallow = RequestSchema.forAction(action) == nil
        var tally = ParseTally(.json)
        let document =
            body.isEmpty
            ? JSONValue.object([:])
            : try withContiguousBytes(body) { bytes throws(SQSError) in
                try JSONValue.parse(bytes, shallow: shallow, tally: &tally)
            }
        var request = try decodeJSON(action: action, document: document)
        request.heldBytes = tally.bytes
        return request
    }

    /// The action a JSON-protocol request's `X-Amz-Target` names.
    public static func jsonAction(target: String?) throws(SQSError) -> SQSAction {
        guard let target, target.hasPrefix(targetPrefix) else {
            throw .invalidAction(target ?? "")
        }
        let name = String(target.dropFirst(targetPrefix.count))
        guard let action = SQSAction.named(name) else { throw .invalidAction(name) }
        return action
    }

    /// Decodes a JSON-protocol request whose body was parsed (or assembled while it streamed).
    public static func decodeJSON(action: SQSAction, document: JSONValue) throws(SQSError) -> SQSRequest {
        guard case .object = document else {
            throw .malformedRequest("The request body must be a JSON object.")
        }
        for member in action.requiredMembers where document[member] == nil || document[member] == .null {
            throw .missingParameter(member, action: action)
        }
        let tree = RequestSchema.forAction(action) != nil ? document : nil
        try checkLimits(tree)
        return SQSRequest(action: action, wireProtocol: .json, input: .json(document), tree: tree)
    }

    private static func decodeQuery(path: String, queryString: String?, body: some Collection<UInt8>)
        throws(SQSError) -> SQSRequest
    {
        var tally = ParseTally(.query)
        let parameters = try withContiguousBytes(body) { bytes throws(SQSError) in
            try QueryParameters.parse(bytes, tally: &tally)
        }
        return try decodeQuery(path: path, queryString: queryString, parameters: parameters, tally: &tally)
    }

    /// Decodes a Query-protocol request whose body parameters were parsed (or collected while it
    /// streamed), counted in `tally`; the URL's query string is read here and counted too.
    public static func decodeQuery(
        path: String, queryString: String?, parameters: QueryParameters, tally: inout ParseTally
    ) throws(SQSError) -> SQSRequest {
        var parameters = parameters
        if let queryString, !queryString.isEmpty {
            let fromURL = try withContiguousBytes(queryString.utf8) { bytes throws(SQSError) in
                try QueryParameters.parse(bytes, tally: &tally)
            }
            parameters.pairs.insert(contentsOf: fromURL.pairs, at: 0)
        }
        // The proxy reads a parameter's first value; SQS may read another: what the proxy read must
        // be what is forwarded.
        var names = Set<String>()
        for pair in parameters.pairs where !names.insert(pair.name).inserted {
            throw .invalidParameterValue("The request names the parameter \(pair.name.prefix(256)) more than once.")
        }
        let name = parameters["Action"] ?? ""
        guard let action = SQSAction.named(name) else { throw .invalidAction(name) }
        let queueInPath = path.count > 1
        for member in action.requiredScalarMembers where parameters[member] == nil {
            if member == "QueueUrl" && queueInPath { continue }
            throw .missingParameter(member, action: action)
        }
        let tree = try RequestSchema.forAction(action)?.tree(from: parameters)
        try checkLimits(tree)
        var request = SQSRequest(action: action, wireProtocol: .query, input: .query(parameters), tree: tree)
        request.heldBytes = tally.bytes
        return request
    }

    /// Refuses a rewritten action's input that SQS would refuse for its shape (more batch entries,
    /// or more attributes on a message, than it takes), before anything is stored or sent for it.
    private static func checkLimits(_ tree: JSONValue?) throws(SQSError) {
        guard let tree else { return }
        let entries = tree["Entries"]?.arrayValue ?? []
        guard entries.count <= SQSLimits.maxBatchEntries else { throw .tooManyEntries }
        for message in [tree] + entries {
            let count = message["MessageAttributes"]?.objectValue?.count ?? 0
            guard count <= SQSLimits.maxMessageAttributes else { throw .tooManyMessageAttributes(count) }
        }
    }
}

extension SQSAction {
    /// The members the API model marks as required.
    public var requiredMembers: [String] {
        switch self {
        case .addPermission: return ["QueueUrl", "Label", "AWSAccountIds", "Actions"]
        case .cancelMessageMoveTask: return ["TaskHandle"]
        case .changeMessageVisibility: return ["QueueUrl", "ReceiptHandle", "VisibilityTimeout"]
        case .changeMessageVisibilityBatch, .deleteMessageBatch, .sendMessageBatch: return ["QueueUrl", "Entries"]
        case .createQueue, .getQueueUrl: return ["QueueName"]
        case .deleteMessage: return ["QueueUrl", "ReceiptHandle"]
        case .deleteQueue, .getQueueAttributes, .listDeadLetterSourceQueues, .listQueueTags, .purgeQueue,
            .receiveMessage:
            return ["QueueUrl"]
        case .listMessageMoveTasks, .startMessageMoveTask: return ["SourceArn"]
        case .listQueues, .other: return []
        case .removePermission: return ["QueueUrl", "Label"]
        case .sendMessage: return ["QueueUrl", "MessageBody"]
        case .setQueueAttributes: return ["QueueUrl", "Attributes"]
        case .tagQueue: return ["QueueUrl", "Tags"]
        case .untagQueue: return ["QueueUrl", "TagKeys"]
        }
    }

    /// The required members that the Query protocol sends as a single `Name=value` pair.
    var requiredScalarMembers: [String] {
        let flattened: Set = ["AWSAccountIds", "Actions", "Entries", "Attributes", "Tags", "TagKeys"]
        return requiredMembers.filter { !flattened.contains($0) }
    }
}
