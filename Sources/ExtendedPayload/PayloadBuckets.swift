import Foundation

/// The buckets whose objects the proxy may read and delete for its clients. A pointer in a message
/// body and the markers of a receipt handle are written by whoever can send to the queue or call
/// the proxy: what they name is used only when it passes ``allows(_:)``.
public struct PayloadBuckets: Sendable, Hashable, CustomStringConvertible {
    /// Any bucket (`*`): for consumers of producers that write to buckets of their own.
    public static let any = PayloadBuckets(names: nil)

    /// The allowed names; nil for any bucket.
    public let names: Set<String>?

    private init(names: Set<String>?) {
        self.names = names
    }

    /// Exactly these buckets.
    public init(_ names: some Sequence<String>) {
        self.names = Set(names)
    }

    /// Parses the setting: `*`, or bucket names separated by commas.
    public init(parsing text: String) throws(PayloadBucketsError) {
        let entries = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if entries == ["*"] {
            self = .any
            return
        }
        guard !entries.isEmpty else { throw PayloadBucketsError("name at least one bucket, or *") }
        for entry in entries where !Self.isBucketName(entry) {
            throw PayloadBucketsError("\(entry) is not an S3 bucket name (or * alone for any bucket)")
        }
        self.init(entries)
    }

    /// Whether the proxy may read or delete the object a pointer names: its bucket is one of these
    /// (and a real bucket name), its key one that addresses a single object.
    public func allows(_ pointer: PayloadPointer) -> Bool {
        allowsBucket(pointer.bucket) && Self.isObjectKey(pointer.key)
    }

    /// Whether objects of `bucket` may be read and deleted.
    public func allowsBucket(_ bucket: String) -> Bool {
        Self.isBucketName(bucket) && names?.contains(bucket) ?? true
    }

    public var description: String { names.map { $0.sorted().joined(separator: ",") } ?? "*" }

    /// A bucket name as S3 has ever allowed them (the legacy rules of us-east-1 included): 3 to 255
    /// letters, digits, dots, hyphens and underscores, beginning and ending with a letter or digit.
    /// Nothing in it can leave its place in a path or a host name.
    public static func isBucketName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func isLetterOrDigit(_ byte: UInt8) -> Bool {
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
        }
        guard (3...255).contains(bytes.count), isLetterOrDigit(bytes.first!), isLetterOrDigit(bytes.last!) else {
            return false
        }
        return bytes.allSatisfy { isLetterOrDigit($0) || $0 == 0x2E || $0 == 0x2D || $0 == 0x5F }
    }

    /// A key of at most 1024 bytes with no control characters and no `.` or `..` segment, which a
    /// server that normalizes paths could resolve into another bucket.
    static func isObjectKey(_ key: String) -> Bool {
        guard !key.isEmpty, key.utf8.count <= 1024,
            !key.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
        else { return false }
        return !key.split(separator: "/", omittingEmptySubsequences: false).contains { $0 == "." || $0 == ".." }
    }
}

/// A payload-buckets setting that names no bucket, or something that is not a bucket name.
public struct PayloadBucketsError: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
