/// Where a top-level member's value lies in the text of a JSON object, found without building the
/// document: for changing one member while every other byte stays (a forwarded request's queue URL,
/// an SNS envelope's `Message`).
public enum JSONMemberRange {
    /// The bytes of the value of the top-level member `name` in a well-formed JSON object (its
    /// quotes included for a string); nil unless exactly one member has that name.
    public static func of(_ name: String, in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        var index = 0
        skipWhitespace(bytes, &index)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        var found: Range<Int>?
        var count = 0
        while true {
            skipWhitespace(bytes, &index)
            guard index < bytes.count else { return nil }
            if bytes[index] == UInt8(ascii: "}") { break }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            let keyStart = index
            guard let keyEnd = endOfValue(bytes, from: index) else { return nil }
            let isName = isKey(UnsafeRawBufferPointer(rebasing: bytes[keyStart..<keyEnd]), name)
            index = keyEnd
            skipWhitespace(bytes, &index)
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            skipWhitespace(bytes, &index)
            guard let valueEnd = endOfValue(bytes, from: index) else { return nil }
            if isName {
                found = index..<valueEnd
                count += 1
            }
            index = valueEnd
        }
        return count == 1 ? found : nil
    }

    /// The object in `bytes` with the value of its member `name` replaced by the string `value`,
    /// every other byte kept; nil unless exactly one top-level member has that name.
    public static func replacing(_ name: String, withString value: String, in bytes: UnsafeRawBufferPointer)
        -> [UInt8]?
    {
        guard let range = of(name, in: bytes) else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + value.utf8.count)
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[..<range.lowerBound]))
        JSONValue.writeString(value, to: &output)
        output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[range.upperBound...]))
        return output
    }

    /// Whether a key's string literal (quotes included) is `name`: compared as bytes when it holds no
    /// escape, decoded otherwise.
    private static func isKey(_ literal: UnsafeRawBufferPointer, _ name: String) -> Bool {
        guard literal.contains(UInt8(ascii: "\\")) else {
            return literal.count == name.utf8.count + 2 && literal.dropFirst().dropLast().elementsEqual(name.utf8)
        }
        return (try? JSONValue.parse(literal)) == .string(name)
    }

    /// The end of the value that starts at `start`: a string, an object or an array (the strings
    /// inside skipped), or a literal or number.
    private static func endOfValue(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return endOfString(bytes, from: start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var index = start
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard let end = endOfString(bytes, from: index) else { return nil }
                    index = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index + 1 }
                default:
                    break
                }
                index += 1
            }
            return nil
        default:
            var index = start
            while index < bytes.count && isScalarByte(bytes[index]) { index += 1 }
            return index > start ? index : nil
        }
    }

    /// The end of the string whose opening quote is at `start`, after its closing quote.
    private static func endOfString(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start + 1
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if bytes[index] == UInt8(ascii: "\"") { return index + 1 }
            index += 1
        }
        return nil
    }

    private static func isScalarByte(_ byte: UInt8) -> Bool {
        byte != UInt8(ascii: ",") && byte != UInt8(ascii: "}") && byte != UInt8(ascii: "]") && !isWhitespace(byte)
    }

    private static func skipWhitespace(_ bytes: UnsafeRawBufferPointer, _ index: inout Int) {
        while index < bytes.count && isWhitespace(bytes[index]) { index += 1 }
    }

    /// JSON's whitespace.
    public static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
