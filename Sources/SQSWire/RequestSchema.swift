/// The input members of an action the proxy rewrites, and how each maps between the JSON tree
/// (the JSON protocol's body) and the Query protocol's flattened names.
public struct RequestSchema: Sendable {
    /// The wire shape of one member.
    indirect enum Shape: Sendable {
        /// `Name=value` / `"Name": "value"`.
        case string
        /// `Name=10` / `"Name": 10`.
        case integer
        /// `Prefix.1=a&Prefix.2=b` / `"Name": ["a", "b"]`.
        case stringList(queryPrefix: String)
        /// `Prefix.1.Name=n&Prefix.1.Value.DataType=String&Prefix.1.Value.StringValue=v` /
        /// `"Name": {"n": {"DataType": "String", "StringValue": "v"}}`.
        case attributeMap(queryPrefix: String)
        /// `Prefix.1.Member=...` / `"Name": [{"Member": ...}]`.
        case structureList(queryPrefix: String, members: [Member])
    }

    /// One input member.
    struct Member: Sendable {
        var name: String
        var shape: Shape
    }

    let members: [Member]

    /// The schema of `action`, if the proxy rewrites it.
    public static func forAction(_ action: SQSAction) -> RequestSchema? {
        switch action {
        case .sendMessage: return sendMessage
        case .sendMessageBatch: return sendMessageBatch
        case .receiveMessage: return receiveMessage
        case .deleteMessage: return deleteMessage
        case .deleteMessageBatch: return deleteMessageBatch
        case .changeMessageVisibility: return changeMessageVisibility
        case .changeMessageVisibilityBatch: return changeMessageVisibilityBatch
        default: return nil
        }
    }

    private static let queueURL = Member(name: "QueueUrl", shape: .string)
    private static let messageMembers: [Member] = [
        Member(name: "MessageBody", shape: .string),
        Member(name: "DelaySeconds", shape: .integer),
        Member(name: "MessageAttributes", shape: .attributeMap(queryPrefix: "MessageAttribute")),
        Member(name: "MessageSystemAttributes", shape: .attributeMap(queryPrefix: "MessageSystemAttribute")),
        Member(name: "MessageDeduplicationId", shape: .string),
        Member(name: "MessageGroupId", shape: .string),
    ]
    private static let id = Member(name: "Id", shape: .string)
    private static let receiptHandle = Member(name: "ReceiptHandle", shape: .string)
    private static let visibilityTimeout = Member(name: "VisibilityTimeout", shape: .integer)

    static let sendMessage = RequestSchema(members: [queueURL] + messageMembers)
    static let sendMessageBatch = RequestSchema(members: [
        queueURL,
        Member(
            name: "Entries",
            shape: .structureList(queryPrefix: "SendMessageBatchRequestEntry", members: [id] + messageMembers)),
    ])
    static let receiveMessage = RequestSchema(members: [
        queueURL,
        Member(name: "AttributeNames", shape: .stringList(queryPrefix: "AttributeName")),
        Member(name: "MessageSystemAttributeNames", shape: .stringList(queryPrefix: "MessageSystemAttributeName")),
        Member(name: "MessageAttributeNames", shape: .stringList(queryPrefix: "MessageAttributeName")),
        Member(name: "MaxNumberOfMessages", shape: .integer),
        visibilityTimeout,
        Member(name: "WaitTimeSeconds", shape: .integer),
        Member(name: "ReceiveRequestAttemptId", shape: .string),
    ])
    static let deleteMessage = RequestSchema(members: [queueURL, receiptHandle])
    static let deleteMessageBatch = RequestSchema(members: [
        queueURL,
        Member(
            name: "Entries",
            shape: .structureList(queryPrefix: "DeleteMessageBatchRequestEntry", members: [id, receiptHandle])),
    ])
    static let changeMessageVisibility = RequestSchema(members: [queueURL, receiptHandle, visibilityTimeout])
    static let changeMessageVisibilityBatch = RequestSchema(members: [
        queueURL,
        Member(
            name: "Entries",
            shape: .structureList(
                queryPrefix: "ChangeMessageVisibilityBatchRequestEntry",
                members: [id, receiptHandle, visibilityTimeout])),
    ])
}

// MARK: - Query to tree

extension RequestSchema {
    /// Maps flattened Query parameters onto the JSON tree of this action's input.
    public func tree(from parameters: QueryParameters) throws(SQSError) -> JSONValue {
        try Self.decode(members, from: parameters.pairs)
    }

    private static func decode(_ members: [Member], from pairs: [(name: String, value: String)])
        throws(SQSError) -> JSONValue
    {
        var object: [String: JSONValue] = [:]
        for member in members {
            switch member.shape {
            case .string:
                if let value = pairs.first(where: { $0.name == member.name })?.value {
                    object[member.name] = .string(value)
                }
            case .integer:
                if let value = pairs.first(where: { $0.name == member.name })?.value {
                    guard let number = Int64(value) else {
                        throw .invalidParameterValue("Value \(value) for parameter \(member.name) is invalid.")
                    }
                    object[member.name] = .integer(number)
                }
            case .stringList(let prefix):
                let items = try indexedValues(prefix: prefix, in: pairs)
                if !items.isEmpty { object[member.name] = .array(items.map { .string($0) }) }
            case .attributeMap(let prefix):
                let groups = try indexedGroups(prefix: prefix, in: pairs)
                if !groups.isEmpty { object[member.name] = try attributeMap(groups, member: member.name) }
            case .structureList(let prefix, let entryMembers):
                let groups = try indexedGroups(prefix: prefix, in: pairs)
                if !groups.isEmpty {
                    var entries: [JSONValue] = []
                    for group in groups {
                        // A member the entry does not have would be lost when the request is encoded again.
                        if let unknown = group.first(where: { !Self.describes($0.name, in: entryMembers) }) {
                            throw .invalidParameterValue("The parameter \(prefix).N.\(unknown.name) is not valid.")
                        }
                        entries.append(try decode(entryMembers, from: group))
                    }
                    object[member.name] = .array(entries)
                }
            }
        }
        return .object(object)
    }

    private static func attributeMap(_ groups: [[(name: String, value: String)]], member: String)
        throws(SQSError) -> JSONValue
    {
        var map: [String: JSONValue] = [:]
        for group in groups {
            guard let name = group.first(where: { $0.name == "Name" })?.value else {
                throw .invalidParameterValue("An entry of \(member) has no Name.")
            }
            var value: [String: JSONValue] = [:]
            for pair in group {
                switch pair.name {
                case "Value.DataType": value["DataType"] = .string(pair.value)
                case "Value.StringValue": value["StringValue"] = .string(pair.value)
                case "Value.BinaryValue": value["BinaryValue"] = .string(pair.value)
                default: break
                }
            }
            guard map.updateValue(.object(value), forKey: name) == nil else {
                throw .invalidParameterValue("The \(member) entry \(name.prefix(256)) is given more than once.")
            }
        }
        return .object(map)
    }

    /// The values of `Prefix.N`, ordered by N.
    private static func indexedValues(prefix: String, in pairs: [(name: String, value: String)])
        throws(SQSError) -> [String]
    {
        var indexed: [Int: String] = [:]
        for pair in pairs where pair.name.hasPrefix(prefix + ".") {
            let rest = pair.name.dropFirst(prefix.count + 1)
            guard let index = QueryIndex.parse(rest), indexed.updateValue(pair.value, forKey: index) == nil else {
                throw .invalidParameterValue("The parameter \(pair.name.prefix(256)) is not valid.")
            }
        }
        return indexed.keys.sorted().map { indexed[$0]! }
    }

    /// The pairs under `Prefix.N.`, with that prefix removed, grouped and ordered by N.
    private static func indexedGroups(prefix: String, in pairs: [(name: String, value: String)])
        throws(SQSError) -> [[(name: String, value: String)]]
    {
        var groups: [Int: [(name: String, value: String)]] = [:]
        for pair in pairs where pair.name.hasPrefix(prefix + ".") {
            let rest = pair.name.dropFirst(prefix.count + 1)
            guard let dot = rest.firstIndex(of: "."), let index = QueryIndex.parse(rest[..<dot]) else {
                throw .invalidParameterValue("The parameter \(pair.name.prefix(256)) is not valid.")
            }
            groups[index, default: []].append((String(rest[rest.index(after: dot)...]), pair.value))
        }
        return groups.keys.sorted().map { groups[$0]! }
    }
}

// MARK: - Tree to Query

extension RequestSchema {
    /// Flattens the JSON tree of this action's input into Query parameters, after `Action` and
    /// `Version`. Parameters of `original` that the schema does not describe are kept.
    public func parameters(
        from tree: JSONValue, action: SQSAction, original: QueryParameters = QueryParameters()
    ) -> QueryParameters {
        var pairs: [(name: String, value: String)] = [
            ("Action", action.rawValue), ("Version", original["Version"] ?? "2012-11-05"),
        ]
        Self.encode(members, tree: tree, prefix: "", into: &pairs)
        for pair in original.pairs where pair.name != "Action" && pair.name != "Version" && !describes(pair.name) {
            pairs.append(pair)
        }
        return QueryParameters(pairs)
    }

    /// Whether a flattened parameter name belongs to a member of this schema.
    private func describes(_ name: String) -> Bool {
        Self.describes(name, in: members)
    }

    /// Whether `name` is one of `members`' Query parameters.
    private static func describes(_ name: String, in members: [Member]) -> Bool {
        members.contains { member in
            switch member.shape {
            case .string, .integer: return name == member.name
            case .stringList(let prefix), .attributeMap(let prefix), .structureList(let prefix, _):
                return name.hasPrefix(prefix + ".")
            }
        }
    }

    private static func encode(
        _ members: [Member], tree: JSONValue, prefix: String, into pairs: inout [(name: String, value: String)]
    ) {
        for member in members {
            guard let value = tree[member.name] else { continue }
            switch member.shape {
            case .string:
                if let string = value.stringValue { pairs.append((prefix + member.name, string)) }
            case .integer:
                if let number = value.integerValue { pairs.append((prefix + member.name, String(number))) }
            case .stringList(let listPrefix):
                for (index, item) in (value.arrayValue ?? []).enumerated() {
                    if let string = item.stringValue { pairs.append(("\(prefix)\(listPrefix).\(index + 1)", string)) }
                }
            case .attributeMap(let mapPrefix):
                let map = value.objectValue ?? [:]
                for (index, name) in map.keys.sorted().enumerated() {
                    let base = "\(prefix)\(mapPrefix).\(index + 1)."
                    pairs.append((base + "Name", name))
                    for field in ["DataType", "StringValue", "BinaryValue"] {
                        if let string = map[name]?[field]?.stringValue {
                            pairs.append((base + "Value." + field, string))
                        }
                    }
                }
            case .structureList(let listPrefix, let entryMembers):
                for (index, entry) in (value.arrayValue ?? []).enumerated() {
                    encode(entryMembers, tree: entry, prefix: "\(prefix)\(listPrefix).\(index + 1).", into: &pairs)
                }
            }
        }
    }
}
