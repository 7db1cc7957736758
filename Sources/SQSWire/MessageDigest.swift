import Crypto
import TextCoding

/// The MD5 digests SQS puts in its responses and SDKs verify.
public enum MessageDigest {
    /// The hex MD5 of a body's UTF-8 bytes.
    public static func body(_ body: String) -> String {
        Hex.lowercase(Insecure.MD5.hash(data: Array(body.utf8)))
    }

    /// The hex MD5 of message attributes as SQS computes it, or nil when there are none: names in
    /// byte order, each as length-prefixed name, length-prefixed type, a transport byte (1 string,
    /// 2 binary) and the length-prefixed value.
    public static func attributes(_ attributes: [String: MessageAttribute]) -> String? {
        guard !attributes.isEmpty else { return nil }
        var hasher = Insecure.MD5()
        var buffer: [UInt8] = []
        func appendLengthPrefixed<C: Collection<UInt8>>(_ bytes: C) {
            let count = UInt32(bytes.count)
            buffer.append(contentsOf: [
                UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF),
            ])
            buffer.append(contentsOf: bytes)
        }
        for name in attributes.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            let attribute = attributes[name]!
            buffer.removeAll(keepingCapacity: true)
            appendLengthPrefixed(name.utf8)
            appendLengthPrefixed(attribute.dataType.utf8)
            switch attribute.value {
            case .string(let string):
                buffer.append(1)
                appendLengthPrefixed(string.utf8)
            case .binary(let bytes):
                buffer.append(2)
                appendLengthPrefixed(bytes)
            }
            hasher.update(data: buffer)
        }
        return Hex.lowercase(hasher.finalize())
    }

    /// The hex SHA-256 of a body's UTF-8 bytes (what SQS hashes for content-based deduplication).
    public static func sha256(_ body: String) -> String {
        Hex.lowercase(SHA256.hash(data: Array(body.utf8)))
    }
}
