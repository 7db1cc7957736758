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
        guard body.utf8.first(where: { !JSONMemberRange.isWhitespace($0) }) == UInt8(ascii: "{"),
            Self.contains(body, "S3Pointer"), Self.contains(body, "Notification")
        else { return nil }
        let bytes = Array(body.utf8)
        guard let document = try? JSONValue.parse(bytes), document["Type"] == .string("Notification"),
            let message = document["Message"]?.stringValue, let pointer = PayloadPointer(body: message),
            let attributes = document["MessageAttributes"]?.objectValue,
            let reserved = OffloadPolicy.reservedAttributeNames.lazy.compactMap({ attributes[$0] }).first,
            let range = bytes.withUnsafeBytes({ JSONMemberRange.of("Message", in: $0) })
        else { return nil }
        prefix = String(decoding: bytes[..<(range.lowerBound + 1)], as: UTF8.self)
        suffix = String(decoding: bytes[(range.upperBound - 1)...], as: UTF8.self)
        self.pointer = pointer
        payloadSize = reserved["Value"]?.stringValue.flatMap { Int($0) }
    }

    /// Whether `text` holds `word`, compared as UTF-8 bytes (Foundation's `contains` took about
    /// 15 µs on 1 KiB, for every message received).
    static func contains(_ text: String, _ word: StaticString) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            word.withUTF8Buffer { needle in
                guard let first = needle.first, bytes.count >= needle.count else { return false }
                var index = 0
                while index <= bytes.count - needle.count {
                    if bytes[index] == first
                        && UnsafeBufferPointer(rebasing: bytes[index..<index + needle.count]).elementsEqual(needle)
                    {
                        return true
                    }
                    index += 1
                }
                return false
            }
        }
    }

    /// The envelope with `payload` as its `Message`.
    public func wrapping(_ payload: String) -> String {
        var bytes = Array(prefix.utf8)
        TextEscaping.json(payload.utf8, into: &bytes)
        bytes.append(contentsOf: suffix.utf8)
        return String(decoding: bytes, as: UTF8.self)
    }
}
