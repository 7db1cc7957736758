import TextCoding

/// Reads and writes the results of the actions the proxy rewrites, in both protocols. The
/// protocol-neutral form is the JSON protocol's result shape (``JSONValue``); Query results are
/// mapped onto it from XML and written back as XML.
public enum ResponseCodec {
    /// A decoded result: the tree and, for Query, the request id to write back.
    public struct Result: Sendable {
        public var tree: JSONValue
        public var requestID: String?

        public init(tree: JSONValue, requestID: String?) {
            self.tree = tree
            self.requestID = requestID
        }
    }

    /// Decodes a successful response body of `action`; nil if it is not one.
    public static func decode(_ body: some Collection<UInt8>, action: SQSAction, wireProtocol: SQSProtocol) -> Result? {
        switch wireProtocol {
        case .json:
            guard let tree = try? JSONValue.parse(body), tree.objectValue != nil else { return nil }
            return Result(tree: tree, requestID: nil)
        case .query:
            guard let root = XMLElementNode.parse(body), root.name == action.rawValue + "Response",
                let result = root.child(action.rawValue + "Result") ?? emptyResult(root, action: action)
            else { return nil }
            let requestID = root.child("ResponseMetadata")?.child("RequestId")?.text
            return Result(tree: tree(fromXML: result, action: action), requestID: requestID)
        }
    }

    /// Encodes a result tree of `action` as a response body.
    public static func encode(_ result: Result, action: SQSAction, wireProtocol: SQSProtocol) -> [UInt8] {
        switch wireProtocol {
        case .json:
            return result.tree.serialized()
        case .query:
            var xml = XMLWriter()
            xml.raw(#"<?xml version="1.0"?>"#)
            xml.raw(#"<\#(action.rawValue)Response xmlns="\#(SQSErrorEncoder.xmlNamespace)">"#)
            xml.open(action.rawValue + "Result")
            writeResult(result.tree, action: action, to: &xml)
            xml.close(action.rawValue + "Result")
            // An answer without a request id is passed on without one, not with an empty one.
            if let requestID = result.requestID {
                xml.open("ResponseMetadata")
                xml.element("RequestId", requestID)
                xml.close("ResponseMetadata")
            }
            xml.close(action.rawValue + "Response")
            return xml.bytes
        }
    }

    /// The XML name of the successful entries of a batch action's result.
    static func batchEntryName(_ action: SQSAction) -> String? {
        switch action {
        case .sendMessageBatch: return "SendMessageBatchResultEntry"
        case .deleteMessageBatch: return "DeleteMessageBatchResultEntry"
        case .changeMessageVisibilityBatch: return "ChangeMessageVisibilityBatchResultEntry"
        default: return nil
        }
    }

    /// The JSON member of an action's result that lists queue URLs (`<QueueUrl>` elements in XML).
    public static func queueURLList(_ action: SQSAction) -> String? {
        switch action {
        case .listQueues: return "QueueUrls"
        case .listDeadLetterSourceQueues: return "queueUrls"
        default: return nil
        }
    }

    /// A result element that SQS omits when it would be empty (a receive with no messages).
    private static func emptyResult(_ root: XMLElementNode, action: SQSAction) -> XMLElementNode? {
        action == .receiveMessage ? XMLElementNode(name: "ReceiveMessageResult") : nil
    }

    // MARK: XML to tree

    private static func tree(fromXML result: XMLElementNode, action: SQSAction) -> JSONValue {
        if let entryName = batchEntryName(action) {
            var tree: [String: JSONValue] = [:]
            let successful = result.children(entryName).map(scalars)
            let failed = result.children("BatchResultErrorEntry").map { entry -> JSONValue in
                var fields = scalars(entry)
                if let fault = fields["SenderFault"]?.stringValue { fields["SenderFault"] = .bool(fault == "true") }
                return fields
            }
            tree["Successful"] = .array(successful)
            if !failed.isEmpty { tree["Failed"] = .array(failed) }
            return .object(tree)
        }
        if action == .receiveMessage {
            let messages = result.children("Message").map(message)
            return messages.isEmpty ? .object([:]) : .object(["Messages": .array(messages)])
        }
        if let list = queueURLList(action) {
            var tree = scalars(result)
            tree["QueueUrl"] = nil
            let urls = result.children("QueueUrl").map { JSONValue.string($0.text) }
            tree[list] = urls.isEmpty ? nil : .array(urls)
            return tree
        }
        return scalars(result)
    }

    /// The text children of an element as a string map.
    private static func scalars(_ element: XMLElementNode) -> JSONValue {
        var fields: [String: JSONValue] = [:]
        for child in element.children where child.children.isEmpty {
            fields[child.name] = .string(child.text)
        }
        return .object(fields)
    }

    private static func message(_ element: XMLElementNode) -> JSONValue {
        var fields: [String: JSONValue] = [:]
        var attributes: [String: JSONValue] = [:]
        var messageAttributes: [String: JSONValue] = [:]
        for child in element.children {
            switch child.name {
            case "Attribute":
                if let name = child.child("Name")?.text { attributes[name] = .string(child.child("Value")?.text ?? "") }
            case "MessageAttribute":
                guard let name = child.child("Name")?.text, let value = child.child("Value") else { continue }
                messageAttributes[name] = scalars(value)
            default:
                if child.children.isEmpty { fields[child.name] = .string(child.text) }
            }
        }
        if !attributes.isEmpty { fields["Attributes"] = .object(attributes) }
        if !messageAttributes.isEmpty { fields["MessageAttributes"] = .object(messageAttributes) }
        return .object(fields)
    }

    // MARK: tree to XML

    /// Body before its digest: a body streamed into a response is digested on the way.
    private static let messageOrder = ["MessageId", "ReceiptHandle", "Body", "MD5OfBody"]
    private static let valueOrder = ["StringValue", "BinaryValue", "DataType"]

    private static func writeResult(_ tree: JSONValue, action: SQSAction, to xml: inout XMLWriter) {
        if let entryName = batchEntryName(action) {
            for entry in tree["Successful"]?.arrayValue ?? [] { xml.scalars(entry, in: entryName) }
            for entry in tree["Failed"]?.arrayValue ?? [] { xml.scalars(entry, in: "BatchResultErrorEntry") }
        } else if action == .receiveMessage {
            for message in tree["Messages"]?.arrayValue ?? [] { writeMessage(message, to: &xml) }
        } else if let list = queueURLList(action) {
            for url in tree[list]?.arrayValue ?? [] { xml.element("QueueUrl", url.stringValue ?? "") }
            var rest = tree
            rest[list] = nil
            xml.scalarFields(rest)
        } else {
            xml.scalarFields(tree)
        }
    }

    private static func writeMessage(_ message: JSONValue, to xml: inout XMLWriter) {
        xml.open("Message")
        let fields = message.objectValue ?? [:]
        for name in messageOrder { if let value = fields[name]?.stringValue { xml.element(name, value) } }
        for (name, value) in (fields["Attributes"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            xml.open("Attribute")
            xml.element("Name", name)
            xml.element("Value", value.stringValue ?? "")
            xml.close("Attribute")
        }
        for (name, value) in fields where !messageOrder.contains(name) {
            if let string = value.stringValue { xml.element(name, string) }
        }
        for (name, value) in (fields["MessageAttributes"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            xml.open("MessageAttribute")
            xml.element("Name", name)
            xml.open("Value")
            for field in valueOrder { if let string = value[field]?.stringValue { xml.element(field, string) } }
            xml.close("Value")
            xml.close("MessageAttribute")
        }
        xml.close("Message")
    }
}

/// Builds an XML document as bytes.
struct XMLWriter {
    private(set) var bytes: [UInt8] = []

    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }
    mutating func open(_ name: String) { raw("<\(name)>") }
    mutating func close(_ name: String) { raw("</\(name)>") }

    /// `<name>text</name>`, the text escaped.
    mutating func element(_ name: String, _ text: String) {
        open(name)
        TextEscaping.xml(text.utf8, into: &bytes)
        close(name)
    }

    /// An element holding the string and boolean fields of `object`, sorted by name.
    mutating func scalars(_ object: JSONValue, in name: String) {
        open(name)
        scalarFields(object)
        close(name)
    }

    mutating func scalarFields(_ object: JSONValue) {
        for (field, value) in (object.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            switch value {
            case .string(let string): element(field, string)
            case .bool(let flag): element(field, flag ? "true" : "false")
            case .integer(let number): element(field, String(number))
            default: continue
            }
        }
    }
}
