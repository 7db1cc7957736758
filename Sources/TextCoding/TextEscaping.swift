/// Escaping of text inside a JSON string or an XML element, byte by byte: a multi-byte UTF-8
/// character passes through unchanged, so text may be escaped in pieces cut anywhere.
public enum TextEscaping {
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Escapes quotes, backslashes and control characters for a JSON string.
    public static func json(_ bytes: some Sequence<UInt8>, into output: inout [UInt8]) {
        let escaped: Void? = bytes.withContiguousStorageIfAvailable { stored in
            escape(UnsafeRawBufferPointer(stored), xml: false, into: &output)
        }
        guard escaped == nil else { return }
        for byte in bytes { appendJSON(byte, to: &output) }
    }

    /// `text` escaped for XML text.
    public static func xml(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x0D }) else { return text }
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count + 16)
        xml(text.utf8, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Escapes `&`, `<` and `>` for XML text, and carriage returns as `&#xD;` so that parsers keep them.
    public static func xml(_ bytes: some Sequence<UInt8>, into output: inout [UInt8]) {
        let escaped: Void? = bytes.withContiguousStorageIfAvailable { stored in
            escape(UnsafeRawBufferPointer(stored), xml: true, into: &output)
        }
        guard escaped == nil else { return }
        for byte in bytes { appendXML(byte, to: &output) }
    }

    /// Escapes `bytes` for a JSON string (or XML text when `xml`), copying runs that need no
    /// escape in one go.
    public static func escape(_ bytes: UnsafeRawBufferPointer, xml: Bool, into output: inout [UInt8]) {
        var index = 0
        while index < bytes.count {
            let end = firstNeedingEscape(bytes, from: index, xml: xml) ?? bytes.count
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<end]))
            guard end < bytes.count else { return }
            if xml { appendXML(bytes[end], to: &output) } else { appendJSON(bytes[end], to: &output) }
            index = end + 1
        }
    }

    /// The index of the first byte at or after `start` that needs an escape, or nil.
    public static func firstNeedingEscape(_ bytes: UnsafeRawBufferPointer, from start: Int = 0, xml: Bool) -> Int? {
        var index = start
        // Eight bytes at a time while none of them needs an escape.
        while bytes.count - index >= 8 {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let hit =
                xml
                ? hasByte(word, UInt8(ascii: "&")) | hasByte(word, UInt8(ascii: "<")) | hasByte(word, UInt8(ascii: ">"))
                    | hasByte(word, UInt8(ascii: "\r"))
                : hasByteBelow(word, 0x20) | hasByte(word, UInt8(ascii: "\"")) | hasByte(word, UInt8(ascii: "\\"))
            if hit != 0 { break }
            index += 8
        }
        while index < bytes.count {
            let byte = bytes[index]
            if xml {
                if byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
                    || byte == UInt8(ascii: "\r")
                {
                    return index
                }
            } else if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                return index
            }
            index += 1
        }
        return nil
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Nonzero when a byte of `word` is below `limit` (at most 0x80).
    private static func hasByteBelow(_ word: UInt64, _ limit: UInt8) -> UInt64 {
        (word &- ones &* UInt64(limit)) & ~word & highBits
    }

    /// Nonzero when a byte of `word` equals `byte`.
    private static func hasByte(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        hasByteBelow(word ^ (ones &* UInt64(byte)), 1)
    }

    private static func appendJSON(_ byte: UInt8, to output: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\""): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case UInt8(ascii: "\n"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case UInt8(ascii: "\r"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case UInt8(ascii: "\t"): output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0..<0x20:
            output.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            output.append(hexDigits[Int(byte >> 4)])
            output.append(hexDigits[Int(byte & 0xF)])
        default: output.append(byte)
        }
    }

    private static func appendXML(_ byte: UInt8, to output: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "&"): output.append(contentsOf: "&amp;".utf8)
        case UInt8(ascii: "<"): output.append(contentsOf: "&lt;".utf8)
        case UInt8(ascii: ">"): output.append(contentsOf: "&gt;".utf8)
        case UInt8(ascii: "\r"): output.append(contentsOf: "&#xD;".utf8)
        default: output.append(byte)
        }
    }
}
