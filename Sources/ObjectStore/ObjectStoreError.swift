import AWSCredentialChain
import AWSSigning
import NIOCore
import TextCoding

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Why an S3 call failed.
public struct ObjectStoreError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Kind: Sendable, Hashable {
        /// The object does not exist (`NoSuchKey`).
        case objectNotFound
        /// The bucket does not exist (`NoSuchBucket`).
        case bucketNotFound
        /// S3 refused the proxy's identity (`AccessDenied`, or a 403).
        case accessDenied
        /// The object is larger than the caller reads.
        case tooLarge
        /// S3 answered with another error.
        case rejected
        /// S3 could not be reached or did not answer in time.
        case transport
    }

    public let kind: Kind
    public let bucket: String
    public let key: String
    /// S3's error code and message, or the transport error.
    public let detail: String

    public init(_ kind: Kind, bucket: String, key: String, detail: String) {
        self.kind = kind
        self.bucket = bucket
        self.key = key
        self.detail = detail
    }

    public var description: String { "S3 \(kind) for s3://\(bucket)/\(key): \(detail)" }

    /// The error an S3 error response describes.
    static func from(status: Int, body: ByteBuffer, bucket: String, key: String) -> ObjectStoreError {
        let text = String(buffer: body)
        let document = XMLElementNode.parse(Array(text.utf8))
        let code = document?.first("Code")?.text ?? "HTTP \(status)"
        let message = document?.first("Message").map { "\(code): \($0.text)" } ?? code
        switch code {
        case "NoSuchKey": return ObjectStoreError(.objectNotFound, bucket: bucket, key: key, detail: message)
        case "NoSuchBucket": return ObjectStoreError(.bucketNotFound, bucket: bucket, key: key, detail: message)
        case "AccessDenied": return ObjectStoreError(.accessDenied, bucket: bucket, key: key, detail: message)
        default:
            if status == 403 { return ObjectStoreError(.accessDenied, bucket: bucket, key: key, detail: message) }
            if status == 404 { return ObjectStoreError(.objectNotFound, bucket: bucket, key: key, detail: message) }
            return ObjectStoreError(.rejected, bucket: bucket, key: key, detail: message)
        }
    }
}
