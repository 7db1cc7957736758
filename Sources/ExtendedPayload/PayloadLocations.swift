#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Where the proxy may read and delete payloads for its clients: buckets, each whole or under key
/// prefixes. A pointer in a message body and the markers of a receipt handle are written by whoever
/// can send to the queue or call the proxy: what they name is used only when it passes
/// ``allows(_:)``.
public struct PayloadLocations: Sendable, Hashable, CustomStringConvertible {
    /// A bucket, or the keys of a bucket that begin with `prefix` (a plain string prefix, as the
    /// Java library prepends it: `app1` also matches `app10/…`).
    public struct Location: Sendable, Hashable, CustomStringConvertible {
        public let bucket: String
        /// Empty for the whole bucket.
        public let prefix: String

        public init(bucket: String, prefix: String = "") {
            self.bucket = bucket
            self.prefix = prefix
        }

        public var description: String { prefix.isEmpty ? bucket : bucket + "/" + prefix }
    }

    /// Any bucket (`*`): for consumers of producers that write to buckets of their own.
    public static let any = PayloadLocations(locations: nil)

    /// The allowed locations; nil for any bucket.
    public let locations: Set<Location>?

    private init(locations: Set<Location>?) {
        self.locations = locations
    }

    /// Exactly these locations.
    public init(_ locations: some Sequence<Location>) {
        self.locations = Set(locations)
    }

    /// These buckets, whole.
    public init(buckets: some Sequence<String>) {
        self.init(buckets.map { Location(bucket: $0) })
    }

    /// Parses the setting: `*`, or entries separated by commas, each a bucket name or
    /// `bucket/prefix`.
    public init(parsing text: String) throws(PayloadLocationsError) {
        let entries = text.split(separator: ",").map { $0.trimmed() }.filter { !$0.isEmpty }
        if entries == ["*"] {
            self = .any
            return
        }
        guard !entries.isEmpty else { throw PayloadLocationsError("name at least one bucket, or *") }
        var locations: [Location] = []
        for entry in entries {
            let bucket = String(entry.prefix { $0 != "/" })
            let prefix = String(entry.dropFirst(bucket.count + 1))
            guard Self.isBucketName(bucket) else {
                throw PayloadLocationsError(
                    "\(entry) is not an S3 bucket name, or one followed by /prefix (or * alone for any bucket)")
            }
            guard prefix.isEmpty || Self.isObjectKey(prefix) else {
                throw PayloadLocationsError("\(entry): \(prefix) is not a key prefix")
            }
            locations.append(Location(bucket: bucket, prefix: prefix))
        }
        self.init(locations)
    }

    /// Whether the proxy may read or delete the object a pointer names: its bucket is a real bucket
    /// name, its key one that addresses a single object, and both lie in one of these locations.
    public func allows(_ pointer: PayloadPointer) -> Bool {
        guard Self.isBucketName(pointer.bucket), Self.isObjectKey(pointer.key) else { return false }
        return locations?.contains { $0.bucket == pointer.bucket && pointer.key.hasPrefix($0.prefix) } ?? true
    }

    /// Whether every key of `bucket` that begins with `prefix` lies in one of these locations.
    public func covers(bucket: String, prefix: String) -> Bool {
        guard Self.isBucketName(bucket) else { return false }
        return locations?.contains { $0.bucket == bucket && prefix.hasPrefix($0.prefix) } ?? true
    }

    /// The locations whose prefix does not end in `/`, and so also matches keys of longer names.
    public var unterminatedPrefixes: [Location] {
        (locations ?? []).filter { !$0.prefix.isEmpty && !$0.prefix.hasSuffix("/") }.sorted {
            $0.description < $1.description
        }
    }

    public var description: String {
        locations.map { $0.map(\.description).sorted().joined(separator: ",") } ?? "*"
    }

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

/// A payload-buckets setting that names no location, or something that is not one.
public struct PayloadLocationsError: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
