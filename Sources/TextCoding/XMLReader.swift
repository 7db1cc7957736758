/// A strict reader of the XML documents the proxy receives (SQS's Query answers, S3's and STS's):
/// UTF-8, an optional declaration, comments and processing instructions, one root element with
/// attributes (read and dropped), text with the five named and numeric references, CDATA, and line
/// ends normalized as XML says. A document type declaration is refused (no entity is ever
/// expanded), as is anything malformed, nesting deeper than ``maxDepth`` and characters XML does
/// not allow. It reads iteratively: no input can exhaust the stack.
///
/// It replaces Foundation's `XMLParser`, which on Linux trapped on an element name that is not
/// UTF-8, crashed on a processing instruction without data, and took some malformed documents as
/// whole (all three found by Fuzz/FuzzXMLReader).
struct XMLReader {
    struct Malformed: Error {}

    /// The deepest nesting of elements read; the documents the proxy reads nest a few levels.
    static let maxDepth = 64

    private let bytes: [UInt8]
    private var index = 0

    private init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// The root element of `bytes`, or nil if they are not a well-formed document.
    static func parse(_ bytes: [UInt8]) -> XMLElementNode? {
        guard String(validating: bytes, as: UTF8.self) != nil else { return nil }
        var reader = XMLReader(bytes)
        return try? reader.document()
    }

    private mutating func document() throws(Malformed) -> XMLElementNode {
        if starts(with: [0xEF, 0xBB, 0xBF]) { index += 3 }
        if starts(with: Self.declarationStart), index + 5 < bytes.count, Self.isSpace(bytes[index + 5]) {
            try declaration()
        }
        try skipMisc()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "<") else { throw Malformed() }
        let root = try rootElement()
        try skipMisc()
        guard index == bytes.count else { throw Malformed() }
        return root
    }

    /// `<?xml version="1.0" encoding="UTF-8"?>`: any encoding but UTF-8 is refused.
    private mutating func declaration() throws(Malformed) {
        index += Self.declarationStart.count
        let (attributes, _) = try self.attributes(closedBy: [UInt8(ascii: "?"), UInt8(ascii: ">")])
        if let encoding = attributes.first(where: { $0.name == Array("encoding".utf8) })?.value {
            guard String(decoding: encoding, as: UTF8.self).lowercased() == "utf-8" else { throw Malformed() }
        }
    }

    /// Skips white space, comments and processing instructions between the top-level parts.
    private mutating func skipMisc() throws(Malformed) {
        while index < bytes.count {
            if Self.isSpace(bytes[index]) {
                index += 1
            } else if starts(with: Self.commentStart) {
                try skipComment()
            } else if starts(with: [UInt8(ascii: "<"), UInt8(ascii: "?")]) {
                try skipProcessingInstruction()
            } else {
                return
            }
        }
    }

    /// The element whose start tag is at `index`, its descendants read with a stack of open elements.
    private mutating func rootElement() throws(Malformed) -> XMLElementNode {
        var open: [(node: XMLElementNode, text: [UInt8])] = []
        if let root = try startTag(&open) { return root }
        while !open.isEmpty {
            guard index < bytes.count else { throw Malformed() }
            let byte = bytes[index]
            if byte == UInt8(ascii: "<") {
                if starts(with: [UInt8(ascii: "<"), UInt8(ascii: "/")]) {
                    index += 2
                    let name = try self.name()
                    skipSpaces()
                    try expect(UInt8(ascii: ">"))
                    var (node, text) = open.removeLast()
                    guard node.name == name else { throw Malformed() }
                    node.text = String(decoding: text, as: UTF8.self)
                    guard !open.isEmpty else { return node }
                    open[open.count - 1].node.children.append(node)
                } else if starts(with: Self.commentStart) {
                    try skipComment()
                } else if starts(with: Self.cdataStart) {
                    index += Self.cdataStart.count
                    guard let end = find(Self.cdataEnd) else { throw Malformed() }
                    try appendCharacters(upTo: end, to: &open[open.count - 1].text)
                    index = end + Self.cdataEnd.count
                } else if starts(with: [UInt8(ascii: "<"), UInt8(ascii: "?")]) {
                    try skipProcessingInstruction()
                } else if starts(with: [UInt8(ascii: "<"), UInt8(ascii: "!")]) {
                    throw Malformed()
                } else if let root = try startTag(&open) {
                    return root
                }
            } else if byte == UInt8(ascii: "&") {
                try reference(into: &open[open.count - 1].text)
            } else {
                var end = index
                while end < bytes.count, bytes[end] != UInt8(ascii: "<"), bytes[end] != UInt8(ascii: "&") { end += 1 }
                try appendCharacters(upTo: end, to: &open[open.count - 1].text)
                index = end
            }
        }
        throw Malformed()
    }

    /// Reads the start tag at `index`: an open element goes on `open`; an empty one (`<a/>`) is
    /// added to its parent, or returned when it is the root.
    private mutating func startTag(_ open: inout [(node: XMLElementNode, text: [UInt8])]) throws(Malformed)
        -> XMLElementNode?
    {
        index += 1
        let node = XMLElementNode(name: try name())
        let (_, empty) = try attributes(closedBy: [UInt8(ascii: "/"), UInt8(ascii: ">")], orBy: UInt8(ascii: ">"))
        if empty {
            guard !open.isEmpty else { return node }
            open[open.count - 1].node.children.append(node)
            return nil
        }
        guard open.count < Self.maxDepth else { throw Malformed() }
        open.append((node, []))
        return nil
    }

    /// Reads `name="value"` pairs, each after white space, up to `close` (or `orClose`, one byte),
    /// which is consumed; the values with their references resolved, and whether `close` ended them.
    private mutating func attributes(closedBy close: [UInt8], orBy orClose: UInt8? = nil) throws(Malformed)
        -> (attributes: [(name: [UInt8], value: [UInt8])], closed: Bool)
    {
        var attributes: [(name: [UInt8], value: [UInt8])] = []
        while true {
            let spaced = skipSpaces()
            if starts(with: close) {
                index += close.count
                return (attributes, true)
            }
            if let orClose, index < bytes.count, bytes[index] == orClose {
                index += 1
                return (attributes, false)
            }
            guard spaced else { throw Malformed() }
            let name = Array(try self.name().utf8)
            skipSpaces()
            try expect(UInt8(ascii: "="))
            skipSpaces()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") else {
                throw Malformed()
            }
            let quote = bytes[index]
            index += 1
            var value: [UInt8] = []
            while index < bytes.count, bytes[index] != quote {
                if bytes[index] == UInt8(ascii: "&") {
                    try reference(into: &value)
                } else {
                    guard bytes[index] != UInt8(ascii: "<") else { throw Malformed() }
                    value.append(bytes[index])
                    index += 1
                }
            }
            try expect(quote)
            attributes.append((name, value))
        }
    }

    /// An element or attribute name (a qualified one as it is written).
    private mutating func name() throws(Malformed) -> String {
        let start = index
        while index < bytes.count, Self.isNameByte(bytes[index]) { index += 1 }
        guard index > start, !Self.isNameStartExcluded(bytes[start]) else { throw Malformed() }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// `&lt;` and the other named references, `&#N;` and `&#xH;`, appended as UTF-8.
    private mutating func reference(into output: inout [UInt8]) throws(Malformed) {
        guard let end = bytes[index...].firstIndex(of: UInt8(ascii: ";")), end - index <= 10 else { throw Malformed() }
        let body = Array(bytes[(index + 1)..<end])
        index = end + 1
        switch String(decoding: body, as: UTF8.self) {
        case "lt": output.append(UInt8(ascii: "<"))
        case "gt": output.append(UInt8(ascii: ">"))
        case "amp": output.append(UInt8(ascii: "&"))
        case "quot": output.append(UInt8(ascii: "\""))
        case "apos": output.append(UInt8(ascii: "'"))
        case let numeric where numeric.hasPrefix("#"):
            let digits = numeric.dropFirst()
            let value =
                digits.hasPrefix("x") ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
            guard let value, !digits.isEmpty, !digits.hasPrefix("+"), !digits.hasPrefix("x+"),
                Self.isCharacter(value), let scalar = Unicode.Scalar(value)
            else { throw Malformed() }
            output.append(contentsOf: String(Character(scalar)).utf8)
        default:
            throw Malformed()
        }
    }

    /// Appends the text from `index` to `end`, its line ends normalized (`\r\n` and `\r` are `\n`);
    /// a control character XML does not allow is refused.
    private func appendCharacters(upTo end: Int, to output: inout [UInt8]) throws(Malformed) {
        var position = index
        while position < end {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\r") {
                output.append(UInt8(ascii: "\n"))
                if position + 1 < end, bytes[position + 1] == UInt8(ascii: "\n") { position += 1 }
            } else {
                guard byte >= 0x20 || byte == 0x09 || byte == 0x0A else { throw Malformed() }
                output.append(byte)
            }
            position += 1
        }
    }

    private mutating func skipComment() throws(Malformed) {
        index += Self.commentStart.count
        guard let end = find(Array("-->".utf8)) else { throw Malformed() }
        index = end + 3
    }

    private mutating func skipProcessingInstruction() throws(Malformed) {
        index += 2
        _ = try name()
        guard let end = find([UInt8(ascii: "?"), UInt8(ascii: ">")]) else { throw Malformed() }
        index = end + 2
    }

    @discardableResult
    private mutating func skipSpaces() -> Bool {
        let start = index
        while index < bytes.count, Self.isSpace(bytes[index]) { index += 1 }
        return index > start
    }

    private mutating func expect(_ byte: UInt8) throws(Malformed) {
        guard index < bytes.count, bytes[index] == byte else { throw Malformed() }
        index += 1
    }

    private func starts(with prefix: [UInt8]) -> Bool {
        guard bytes.count - index >= prefix.count else { return false }
        for offset in prefix.indices where bytes[index + offset] != prefix[offset] { return false }
        return true
    }

    /// Where `needle` next occurs from `index`.
    private func find(_ needle: [UInt8]) -> Int? {
        var position = index
        while position + needle.count <= bytes.count {
            if bytes[position] == needle[0] {
                var matched = true
                for offset in 1..<needle.count where bytes[position + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return position }
            }
            position += 1
        }
        return nil
    }

    private static let declarationStart = Array("<?xml".utf8)
    private static let commentStart = Array("<!--".utf8)
    private static let cdataStart = Array("<![CDATA[".utf8)
    private static let cdataEnd = Array("]]>".utf8)

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// Bytes of a name: anything but white space, controls and the markup characters.
    private static func isNameByte(_ byte: UInt8) -> Bool {
        guard byte > 0x20, byte != 0x7F else { return false }
        return !"/>=<&\"'?!;[]()".utf8.contains(byte)
    }

    private static func isNameStartExcluded(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    /// A code point XML allows in a document.
    private static func isCharacter(_ value: UInt32) -> Bool {
        switch value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return true
        default: return false
        }
    }
}
