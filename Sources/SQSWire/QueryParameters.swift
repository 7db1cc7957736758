/// The parameters of a Query-protocol request: `application/x-www-form-urlencoded` pairs, in order.
public struct QueryParameters: Sendable, Hashable {
    /// The decoded name/value pairs, in the order they were sent.
    public var pairs: [(name: String, value: String)]

    public init(_ pairs: [(name: String, value: String)] = []) {
        self.pairs = pairs
    }

    public static func == (lhs: QueryParameters, rhs: QueryParameters) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.name == $1.name && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for pair in pairs {
            hasher.combine(pair.name)
            hasher.combine(pair.value)
        }
    }

    /// The first value of `name`, or nil.
    public subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// Parses a form-encoded string (`a=1&b=x+y&c=%E2%82%AC`).
    public static func parse(_ bytes: some Collection<UInt8>) throws(SQSError) -> QueryParameters {
        try withContiguousBytes(bytes) { buffer throws(SQSError) in try parse(buffer) }
    }

    /// Parses a form-encoded string (`a=1&b=x+y&c=%E2%82%AC`) held in contiguous memory.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(SQSError) -> QueryParameters {
        var pairs: [(name: String, value: String)] = []
        var start = 0
        while start < bytes.count {
            var end = start
            var separator: Int?
            while end < bytes.count && bytes[end] != UInt8(ascii: "&") {
                if separator == nil && bytes[end] == UInt8(ascii: "=") { separator = end }
                end += 1
            }
            if end > start {
                let nameEnd = separator ?? end
                let valueStart = separator.map { $0 + 1 } ?? end
                guard let name = FormEncoding.decode(UnsafeRawBufferPointer(rebasing: bytes[start..<nameEnd])),
                    let value = FormEncoding.decode(UnsafeRawBufferPointer(rebasing: bytes[valueStart..<end]))
                else {
                    throw .malformedRequest("The request is not valid form encoding.")
                }
                pairs.append((name, value))
            }
            start = end + 1
        }
        return QueryParameters(pairs)
    }

    /// The form encoding of the pairs, in order.
    public func encoded() -> [UInt8] {
        var output: [UInt8] = []
        for (index, pair) in pairs.enumerated() {
            if index > 0 { output.append(UInt8(ascii: "&")) }
            FormEncoding.encode(pair.name, into: &output)
            output.append(UInt8(ascii: "="))
            FormEncoding.encode(pair.value, into: &output)
        }
        return output
    }
}

/// Percent-encoding as `application/x-www-form-urlencoded` uses it.
enum FormEncoding {
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// Decodes `+` to space and `%XX` escapes; nil for a broken escape or invalid UTF-8.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> String? {
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

    /// Appends `value` with every byte outside the RFC 3986 unreserved set percent-encoded.
    static func encode(_ value: String, into output: inout [UInt8]) {
        for byte in value.utf8 {
            if isUnreserved(byte) {
                output.append(byte)
            } else {
                output.append(UInt8(ascii: "%"))
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0xF)])
            }
        }
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
