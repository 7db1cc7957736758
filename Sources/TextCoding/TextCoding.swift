/// RFC 3986 percent-encoding, as SigV4's canonical requests, S3 object paths and form bodies use it.
public enum PercentEncoding {
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// Whether `byte` is one of RFC 3986's unreserved characters: `A-Z a-z 0-9 - . _ ~`.
    public static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// `value` with every byte outside the unreserved set (and `/`, unless `keepSlash`) as `%XX`.
    public static func encode(_ value: some StringProtocol, keepSlash: Bool) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(value.utf8.count)
        encode(value, keepSlash: keepSlash, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends `value` encoded as ``encode(_:keepSlash:)`` does.
    public static func encode(_ value: some StringProtocol, keepSlash: Bool = false, into output: inout [UInt8]) {
        for byte in value.utf8 {
            if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0xF)])
            }
        }
    }

    /// A form body (`application/x-www-form-urlencoded`) of `pairs`, in order, names and values
    /// encoded as ``encode(_:keepSlash:)`` does: what SQS's and STS's Query protocol posts.
    public static func form(_ pairs: some Sequence<(name: String, value: String)>) -> [UInt8] {
        var output: [UInt8] = []
        for (index, pair) in pairs.enumerated() {
            if index > 0 { output.append(UInt8(ascii: "&")) }
            encode(pair.name, into: &output)
            output.append(UInt8(ascii: "="))
            encode(pair.value, into: &output)
        }
        return output
    }

    /// Decodes `%XX` escapes and `+` (a space) strictly, as a form body needs: nil for a broken
    /// escape or bytes that are not UTF-8.
    public static func decodeForm(_ bytes: UnsafeRawBufferPointer) -> String? {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "+"):
                output.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]),
                    let low = hexValue(bytes[index + 2])
                else { return nil }
                output.append(high << 4 | low)
                index += 2
            default:
                output.append(byte)
            }
            index += 1
        }
        return String(validating: output, as: UTF8.self)
    }

    /// Decodes `%XX` escapes and `+` (a space, unless `plusIsSpace` is false, as in a URL's user
    /// and password) leniently, as SigV4 reads a query string: a broken escape stays as it is.
    public static func decodeLeniently(_ value: some StringProtocol, plusIsSpace: Bool = true) -> String {
        let bytes = Array(value.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The value of a hexadecimal digit, either case; nil for any other byte.
    public static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Lowercase hexadecimal, as digests and signatures are written.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// `bytes` as lowercase hexadecimal.
    public static func lowercase(_ bytes: some Sequence<UInt8>) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}

extension String {
    /// The string with ASCII capitals lowered (HTTP header names): the string itself, not a copy,
    /// when it has none, as most header names on the wire do.
    public var asciiLowercased: String {
        utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) ? lowercased() : self
    }
}

extension Collection<UInt8> {
    /// Where `needle` first occurs, byte for byte; an empty needle occurs at the start.
    public func firstRange(ofBytes needle: some Collection<UInt8>) -> Range<Index>? {
        guard let first = needle.first else { return startIndex..<startIndex }
        var rest = self[...]
        while let found = rest.firstIndex(of: first) {
            if self[found...].starts(with: needle) { return found..<index(found, offsetBy: needle.count) }
            rest = self[index(after: found)...]
        }
        return nil
    }
}

extension StringProtocol {
    /// Whether the text holds `other` byte for byte (UTF-8), as S3 keys, URLs and SQS's answers
    /// compare. The standard library's `contains(_:)` for strings compares characters, in the
    /// string-processing library, whose code the proxy then touches at start and per request.
    public func containsBytes(of other: some StringProtocol) -> Bool {
        utf8.firstRange(ofBytes: other.utf8) != nil
    }

    /// The text without the leading and trailing characters `drop` matches (whitespace and
    /// newlines unless told), as Foundation's `trimmingCharacters(in:)`, which FoundationEssentials
    /// does not have.
    public func trimmed(while drop: (Character) -> Bool = \.isWhitespace) -> String {
        guard let first = firstIndex(where: { !drop($0) }), let last = lastIndex(where: { !drop($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
