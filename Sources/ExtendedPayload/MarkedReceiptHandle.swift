/// The receipt handle the client gets for an offloaded message: the original handle with the
/// payload's bucket and key in front, as the extended clients mark it:
/// `-..s3BucketName..-<bucket>-..s3BucketName..--..s3Key..-<key>-..s3Key..-<original>`.
public struct MarkedReceiptHandle: Sendable, Hashable {
    static let bucketMarker = "-..s3BucketName..-"
    static let keyMarker = "-..s3Key..-"

    public var pointer: PayloadPointer
    /// The handle SQS issued.
    public var original: String

    public init(pointer: PayloadPointer, original: String) {
        self.pointer = pointer
        self.original = original
    }

    /// The marked handle.
    public var marked: String {
        Self.bucketMarker + pointer.bucket + Self.bucketMarker + Self.keyMarker + pointer.key + Self.keyMarker
            + original
    }

    /// Parses a marked handle the way the libraries' regular expression does
    /// (`^-..s3BucketName..-(.*)-..s3BucketName..--..s3Key..-(.*)-..s3Key..-(.*)$`, greedy groups);
    /// nil for a handle without the markers. The original handle may itself contain `-`.
    public init?(_ handle: String) {
        let bytes = Array(handle.utf8)
        let bucketMarker = Array(Self.bucketMarker.utf8)
        let keyMarker = Array(Self.keyMarker.utf8)
        let middle = bucketMarker + keyMarker
        guard bytes.starts(with: bucketMarker) else { return nil }
        let start = bucketMarker.count
        // Greedy: the bucket group ends at the last middle marker that still leaves a key marker after it.
        var keyEnd: Int?
        var bucketEnd: Int?
        for candidate in stride(from: bytes.count - middle.count, through: start, by: -1)
        where bytes[candidate..<candidate + middle.count].elementsEqual(middle) {
            let keyStart = candidate + middle.count
            if let end = Self.lastOccurrence(of: keyMarker, in: bytes, from: keyStart) {
                bucketEnd = candidate
                keyEnd = end
                break
            }
        }
        guard let bucketEnd, let keyEnd else { return nil }
        let bucket = String(decoding: bytes[start..<bucketEnd], as: UTF8.self)
        let key = String(decoding: bytes[(bucketEnd + middle.count)..<keyEnd], as: UTF8.self)
        let original = String(decoding: bytes[(keyEnd + keyMarker.count)...], as: UTF8.self)
        self.init(pointer: PayloadPointer(bucket: bucket, key: key), original: original)
    }

    private static func lastOccurrence(of needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count - needle.count >= start else { return nil }
        for index in stride(from: bytes.count - needle.count, through: start, by: -1)
        where bytes[index..<index + needle.count].elementsEqual(needle) {
            return index
        }
        return nil
    }
}
