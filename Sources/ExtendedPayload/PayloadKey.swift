import TextCoding

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// S3 object keys for payloads: an optional prefix and a random lowercase UUID.
public struct PayloadKeyGenerator: Sendable {
    public let prefix: String

    /// A generator with `prefix`, validated by the Java library's rules: at most 988 characters,
    /// not starting with `.` or `/`, no `..`, only `A-Z a-z 0-9 . / _ -`.
    public init(prefix: String = "") throws(PayloadKeyError) {
        guard prefix.utf8.count <= 988 else {
            throw PayloadKeyError("The S3 key prefix is longer than 988 characters.")
        }
        guard !prefix.hasPrefix("."), !prefix.hasPrefix("/") else {
            throw PayloadKeyError("The S3 key prefix must not start with '.' or '/'.")
        }
        guard !prefix.containsBytes(of: "..") else { throw PayloadKeyError("The S3 key prefix must not contain '..'.") }
        let allowed = prefix.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: "_"),
                UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
        guard allowed else {
            throw PayloadKeyError("The S3 key prefix may hold only A-Z, a-z, 0-9, '.', '/', '_' and '-'.")
        }
        self.prefix = prefix
    }

    /// A new key.
    public func next() -> String {
        prefix + UUID().uuidString.lowercased()
    }
}

/// A key prefix the Java library would refuse.
public struct PayloadKeyError: Error, CustomStringConvertible, Sendable {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
