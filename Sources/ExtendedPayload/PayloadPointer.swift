import SQSWire

/// Where an offloaded body lives: the SQS body of an offloaded message, as the Java and Python
/// extended clients write it: `["<class>",{"s3BucketName":"…","s3Key":"…"}]`.
public struct PayloadPointer: Sendable, Hashable {
    /// The class name written by current libraries (and by the proxy).
    public static let className = "software.amazon.payloadoffloading.PayloadS3Pointer"
    /// The class name written by Java 1.x and some ports.
    public static let legacyClassName = "com.amazon.sqs.javamessaging.MessageS3Pointer"

    public var bucket: String
    public var key: String

    public init(bucket: String, key: String) {
        self.bucket = bucket
        self.key = key
    }

    /// The compact Java form with the current class name.
    public var encoded: String {
        var output: [UInt8] = []
        output.append(contentsOf: "[".utf8)
        JSONValue.writeString(Self.className, to: &output)
        output.append(contentsOf: #",{"s3BucketName":"#.utf8)
        JSONValue.writeString(bucket, to: &output)
        output.append(contentsOf: #","s3Key":"#.utf8)
        JSONValue.writeString(key, to: &output)
        output.append(contentsOf: "}]".utf8)
        return String(decoding: output, as: UTF8.self)
    }

    /// Reads a pointer written by any of the libraries: either class name, any whitespace, either
    /// field order, extra fields ignored. Nil when `body` is not a pointer.
    public init?(body: String) {
        guard body.utf8.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "["),
            let document = try? JSONValue.parse(Array(body.utf8)), let elements = document.arrayValue,
            elements.count == 2, let className = elements[0].stringValue,
            className == Self.className || className == Self.legacyClassName,
            let bucket = elements[1]["s3BucketName"]?.stringValue, let key = elements[1]["s3Key"]?.stringValue,
            !bucket.isEmpty, !key.isEmpty
        else { return nil }
        self.init(bucket: bucket, key: key)
    }
}
