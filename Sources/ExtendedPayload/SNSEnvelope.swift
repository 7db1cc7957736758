import SQSWire
import TextCoding

/// An SNS notification envelope whose `Message` is a payload pointer: what SNS delivers to an SQS
/// subscription without raw message delivery, for a message the SNS Extended Client offloaded.
/// Restoring it puts the payload in `Message` and keeps every other byte of the envelope.
public struct SNSEnvelope: Sendable, Hashable {
    /// The envelope up to and including the opening quote of `Message`'s value.
    public let prefix: String
    /// The envelope from the closing quote of `Message`'s value on.
    public let suffix: String
    /// The pointer `Message` holds.
    public let pointer: PayloadPointer
    /// The payload's size as the envelope's reserved attribute says, if it is a number.
    public let payloadSize: Int?

    /// Recognises an envelope strictly: a JSON object with `Type` `Notification`, one `Message`
    /// member that is a string holding a pointer, and `MessageAttributes` carrying
    /// `ExtendedPayloadSize` or `SQSLargePayloadSize`. Nil for anything else.
    public init?(body: String) {
        // Most bodies are not envelopes of a pointer: they are told apart without parsing.
        guard body.utf8.first(where: { !Self.isWhitespace($0) }) == UInt8(ascii: "{"),
            body.contains("S3Pointer"), body.contains("Notification")
        else { return nil }
        let bytes = Array(body.utf8)
        guard let document = try? JSONValue.parse(bytes), document["Type"] == .string("Notification"),
            let message = document["Message"]?.stringValue, let pointer = PayloadPointer(body: message),
            let attributes = document["MessageAttributes"]?.objectValue,
            let reserved = OffloadPolicy.reservedAttributeNames.lazy.compactMap({ attributes[$0] }).first,
            let range = Self.valueRange(ofMember: "Message", in: bytes)
        else { return nil }
        prefix = String(decoding: bytes[..<(range.lowerBound + 1)], as: UTF8.self)
        suffix = String(decoding: bytes[(range.upperBound - 1)...], as: UTF8.self)
        self.pointer = pointer
        payloadSize = reserved["Value"]?.stringValue.flatMap { Int($0) }
    }

    /// The envelope with `payload` as its `Message`.
    public func wrapping(_ payload: String) -> String {
        var bytes = Array(prefix.utf8)
        TextEscaping.json(payload.utf8, into: &bytes)
        bytes.append(contentsOf: suffix.utf8)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes of the value of the top-level member `name` in a well-formed JSON object (its
    /// quotes included for a string); nil unless exactly one member has that name.
    static func valueRange(ofMember name: String, in bytes: [UInt8]) -> Range<Int>? {
        var index = 0
        skipWhitespace(bytes, &index)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        var found: Range<Int>?
        var count = 0
        while true {
            skipWhitespace(bytes, &index)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "}") { break }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            let keyStart = index
            guard let keyEnd = endOfValue(bytes, from: index) else { return nil }
            let key = try? JSONValue.parse(bytes[keyStart..<keyEnd])
            index = keyEnd
            skipWhitespace(bytes, &index)
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            skipWhitespace(bytes, &index)
            guard let valueEnd = endOfValue(bytes, from: index) else { return nil }
            if key == .string(name) {
                found = index..<valueEnd
                count += 1
            }
            index = valueEnd
        }
        return count == 1 ? found : nil
    }

    /// The end of the value that starts at `start`: a string, an object or an array (the strings
    /// inside skipped), or a literal or number.
    private static func endOfValue(_ bytes: [UInt8], from start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return endOfString(bytes, from: start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var index = start
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard let end = endOfString(bytes, from: index) else { return nil }
                    index = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index + 1 }
                default:
                    break
                }
                index += 1
            }
            return nil
        default:
            var index = start
            while index < bytes.count && isScalarByte(bytes[index]) { index += 1 }
            return index > start ? index : nil
        }
    }

    /// The end of the string whose opening quote is at `start`, after its closing quote.
    private static func endOfString(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start + 1
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if bytes[index] == UInt8(ascii: "\"") { return index + 1 }
            index += 1
        }
        return nil
    }

    private static func isScalarByte(_ byte: UInt8) -> Bool {
        byte != UInt8(ascii: ",") && byte != UInt8(ascii: "}") && byte != UInt8(ascii: "]") && !isWhitespace(byte)
    }

    private static func skipWhitespace(_ bytes: [UInt8], _ index: inout Int) {
        while index < bytes.count && isWhitespace(bytes[index]) { index += 1 }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
