#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A message attribute value: a data type and a string or binary value.
public struct MessageAttribute: Sendable, Hashable {
    /// The value: strings for `String` and `Number` types, bytes for `Binary` types.
    public enum Value: Sendable, Hashable {
        case string(String)
        case binary([UInt8])
    }

    /// `String`, `Number` or `Binary`, optionally with a custom suffix (`Number.int`).
    public var dataType: String
    public var value: Value

    public init(dataType: String, value: Value) {
        self.dataType = dataType
        self.value = value
    }

    /// Reads `{"DataType": …, "StringValue": …}` or `{"DataType": …, "BinaryValue": base64}`.
    public init(tree: JSONValue) throws(SQSError) {
        guard let dataType = tree["DataType"]?.stringValue, !dataType.isEmpty else {
            throw .invalidParameterValue("A message attribute has no DataType.")
        }
        if let base64 = tree["BinaryValue"]?.stringValue {
            guard let bytes = Data(base64Encoded: base64) else {
                throw .invalidParameterValue("A BinaryValue is not valid base64.")
            }
            self.init(dataType: dataType, value: .binary(Array(bytes)))
        } else if let string = tree["StringValue"]?.stringValue {
            self.init(dataType: dataType, value: .string(string))
        } else {
            throw .invalidParameterValue("A message attribute of type \(dataType) has no value.")
        }
    }

    /// The tree form, binary values in base64.
    public var tree: JSONValue {
        switch value {
        case .string(let string):
            return .object(["DataType": .string(dataType), "StringValue": .string(string)])
        case .binary(let bytes):
            return .object(["DataType": .string(dataType), "BinaryValue": .string(Data(bytes).base64EncodedString())])
        }
    }

    /// The bytes SQS counts towards the message size: type and value (the name is counted by the caller).
    public var size: Int {
        switch value {
        case .string(let string): return dataType.utf8.count + string.utf8.count
        case .binary(let bytes): return dataType.utf8.count + bytes.count
        }
    }

    /// Reads a `MessageAttributes` map.
    public static func map(from tree: JSONValue?) throws(SQSError) -> [String: MessageAttribute] {
        guard let tree else { return [:] }
        guard let members = tree.objectValue else {
            throw .invalidParameterValue("MessageAttributes must be a map.")
        }
        var attributes: [String: MessageAttribute] = [:]
        for (name, value) in members { attributes[name] = try MessageAttribute(tree: value) }
        return attributes
    }
}
