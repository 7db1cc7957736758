import TextCoding

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A JSON document: the decoded form of a JSON-protocol request and the protocol-neutral tree
/// that Query-protocol requests of rewritten actions are mapped onto.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The member `key` of an object, or nil.
    public subscript(key: String) -> JSONValue? {
        get {
            guard case .object(let members) = self else { return nil }
            return members[key]
        }
        set {
            guard case .object(var members) = self else { return }
            members[key] = newValue
            self = .object(members)
        }
    }

    /// The string, if this is one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The members, if this is an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The integer, if this is an integral number.
    public var integerValue: Int64? {
        switch self {
        case .integer(let value): return value
        case .double(let value) where value.rounded() == value && abs(value) < 9e15: return Int64(value)
        default: return nil
        }
    }
}

extension JSONValue {
    /// Parses a JSON document.
    /// - Parameter shallow: check the whole document but build its top level alone: nested objects
    ///   and arrays become empty ones.
    public static func parse(_ bytes: some Collection<UInt8>, shallow: Bool = false) throws(SQSError) -> JSONValue {
        try withContiguousBytes(bytes) { buffer throws(SQSError) in try parse(buffer, shallow: shallow) }
    }

    /// Parses a JSON document.
    /// - Parameter shallow: as above.
    public static func parse(_ bytes: UnsafeRawBufferPointer, shallow: Bool = false) throws(SQSError) -> JSONValue {
        var parser = JSONParser(bytes, shallow: shallow)
        return try parser.parseDocument()
    }

    /// Parses a request's JSON document, counting its values in `tally`.
    /// - Parameter shallow: as above.
    public static func parse(_ bytes: UnsafeRawBufferPointer, shallow: Bool = false, tally: inout ParseTally)
        throws(SQSError) -> JSONValue
    {
        var parser = JSONParser(bytes, shallow: shallow, tally: tally)
        let value = try parser.parseDocument()
        tally = parser.tally ?? tally
        return value
    }

    /// The compact UTF-8 serialization, object members sorted by key.
    public func serialized() -> [UInt8] {
        var output: [UInt8] = []
        write(to: &output)
        return output
    }

    private func write(to output: inout [UInt8]) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let value): output.append(contentsOf: (value ? "true" : "false").utf8)
        case .integer(let value): output.append(contentsOf: String(value).utf8)
        case .double(let value): output.append(contentsOf: "\(value)".utf8)
        case .string(let value): Self.writeString(value, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.write(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                Self.writeString(key, to: &output)
                output.append(UInt8(ascii: ":"))
                members[key]!.write(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `value` as a JSON string literal: quotes, backslashes and control characters escaped,
    /// everything else as raw UTF-8.
    public static func writeString(_ value: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        TextEscaping.json(value.utf8, into: &output)
        output.append(UInt8(ascii: "\""))
    }
}
