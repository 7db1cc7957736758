import SQSWire

/// Which message attributes a ReceiveMessage asked for: `All`, `.*`, `prefix.*` or exact names.
public struct AttributeNameFilter: Sendable {
    private let all: Bool
    private let exact: Set<String>
    private let prefixes: [String]

    public init(requested: [String]) {
        all = requested.contains("All") || requested.contains(".*")
        exact = Set(requested.filter { !$0.hasSuffix(".*") })
        prefixes = requested.filter { $0.hasSuffix(".*") }.map { String($0.dropLast()) }
    }

    /// Whether `name` was asked for.
    public func includes(_ name: String) -> Bool {
        all || exact.contains(name) || prefixes.contains { name.hasPrefix($0) }
    }

    /// Whether every attribute was asked for.
    public var includesAll: Bool { all }
}

/// The tree rewrites of the extended client: pure functions on the JSON-shaped trees of
/// requests and results.
public enum MessageRewriting {
    /// A send entry (SendMessage input or batch entry) with its body replaced by `pointer` and the
    /// reserved attribute added.
    public static func offload(_ entry: JSONValue, pointer: PayloadPointer, bodyBytes: Int, reservedName: String)
        -> JSONValue
    {
        var entry = entry
        entry["MessageBody"] = .string(pointer.encoded)
        return markOffloaded(entry, bodyBytes: bodyBytes, reservedName: reservedName)
    }

    /// A send entry whose body already is its pointer, with the reserved attribute added.
    public static func markOffloaded(_ entry: JSONValue, bodyBytes: Int, reservedName: String) -> JSONValue {
        var entry = entry
        var attributes = entry["MessageAttributes"]?.objectValue ?? [:]
        attributes[reservedName] = MessageAttribute(dataType: "Number", value: .string(String(bodyBytes))).tree
        entry["MessageAttributes"] = .object(attributes)
        return entry
    }

    /// The message size SQS will see for an offloaded entry: pointer, the client's attributes and
    /// the reserved attribute.
    public static func offloadedSize(
        pointerLength: Int, attributesSize: Int, bodyBytes: Int, reservedName: String
    ) -> Int {
        pointerLength + attributesSize + reservedName.utf8.count + "Number".utf8.count + String(bodyBytes).utf8.count
    }

    /// A ReceiveMessage input that also asks for both reserved attributes, and the filter of what
    /// the client itself asked for.
    public static func receiveRequest(_ tree: JSONValue) -> (tree: JSONValue, filter: AttributeNameFilter) {
        let requested = tree["MessageAttributeNames"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let filter = AttributeNameFilter(requested: requested)
        guard !filter.includesAll else { return (tree, filter) }
        var tree = tree
        let added = OffloadPolicy.reservedAttributeNames.filter { !requested.contains($0) }
        tree["MessageAttributeNames"] = .array((requested + added).map { .string($0) })
        return (tree, filter)
    }

    /// Whether a received message carries either reserved attribute.
    public static func isOffloaded(_ message: JSONValue) -> Bool {
        guard let attributes = message["MessageAttributes"]?.objectValue else { return false }
        return OffloadPolicy.reservedAttributeNames.contains { attributes[$0] != nil }
    }

    /// A received offloaded message as the client must see it: the payload as body with its MD5,
    /// the reserved attributes and those not asked for removed, the attribute digest recomputed,
    /// the receipt handle marked.
    public static func restore(
        _ message: JSONValue, payload: String, pointer: PayloadPointer, filter: AttributeNameFilter
    ) throws(SQSError) -> JSONValue {
        var message = message
        message["Body"] = .string(payload)
        message["MD5OfBody"] = .string(MessageDigest.body(payload))
        var kept: [String: MessageAttribute] = [:]
        for (name, value) in message["MessageAttributes"]?.objectValue ?? [:]
        where !OffloadPolicy.reservedAttributeNames.contains(name) && filter.includes(name) {
            kept[name] = try MessageAttribute(tree: value)
        }
        if kept.isEmpty {
            message = removing(["MessageAttributes", "MD5OfMessageAttributes"], from: message)
        } else {
            message["MessageAttributes"] = .object(kept.mapValues(\.tree))
            message["MD5OfMessageAttributes"] = MessageDigest.attributes(kept).map(JSONValue.string)
        }
        if let handle = message["ReceiptHandle"]?.stringValue {
            message["ReceiptHandle"] = .string(MarkedReceiptHandle(pointer: pointer, original: handle).marked)
        }
        return message
    }

    /// A send result (SendMessage result or successful batch entry) with the digests of what the
    /// client sent.
    public static func sendResult(_ result: JSONValue, bodyMD5: String, attributes: [String: MessageAttribute])
        -> JSONValue
    {
        var result = result
        result["MD5OfMessageBody"] = .string(bodyMD5)
        if let digest = MessageDigest.attributes(attributes) {
            result["MD5OfMessageAttributes"] = .string(digest)
        } else {
            result = removing(["MD5OfMessageAttributes"], from: result)
        }
        return result
    }

    static func removing(_ names: [String], from object: JSONValue) -> JSONValue {
        guard var members = object.objectValue else { return object }
        for name in names { members[name] = nil }
        return .object(members)
    }
}
