/// A recursive-descent JSON parser straight into ``JSONValue`` (RFC 8259): strings unescaped and
/// checked as UTF-8 by ``JSONStringUnescaper``, whole numbers that fit 64 bits as `.integer`,
/// other numbers as `.double`, nesting at most ``maxDepth`` deep, nothing but whitespace after the value.
/// A request's values are counted as they are built, in a ``ParseTally``.
struct JSONParser {
    /// The deepest nesting accepted (SQS requests are at most a few levels deep).
    static let maxDepth = 64

    private let bytes: UnsafeRawBufferPointer
    /// Objects and arrays below the top level are checked but not built: they stand as empty ones.
    private let shallow: Bool
    private var index = 0
    private var scratch: [UInt8] = []
    /// The values counted so far; nil: not counted (documents from SQS and S3, whose size the
    /// memory budget counted).
    private(set) var tally: ParseTally?

    private static let invalid = SQSError.malformedRequest("The request body is not valid JSON.")

    /// The error for an object that names a member twice.
    static func repeated(_ name: String) -> SQSError {
        .invalidParameterValue("The request names the member \(name.prefix(256)) more than once.")
    }

    /// - Parameter shallow: build the top-level value alone; nested objects and arrays are
    ///   checked and become empty ones (a request forwarded as it came needs no more).
    /// - Parameter tally: counts the values, from what an earlier parse of the same request counted.
    init(_ bytes: UnsafeRawBufferPointer, shallow: Bool = false, tally: ParseTally? = nil) {
        self.bytes = bytes
        self.shallow = shallow
        self.tally = tally
    }

    /// The one value the document holds.
    mutating func parseDocument() throws(SQSError) -> JSONValue {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        guard index == bytes.count else { throw Self.invalid }
        return value
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue(depth: Int) throws(SQSError) -> JSONValue {
        skipWhitespace()
        guard index < bytes.count, depth <= Self.maxDepth else { throw Self.invalid }
        let built = !(shallow && depth > 1)
        if bytes[index] == UInt8(ascii: "\"") {
            let string = try parseString()
            try tally?.addJSONValue(built: built, stringLength: string.utf8.count)
            return .string(string)
        }
        try tally?.addJSONValue(built: built)
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "t"):
            try expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expect("null")
            return .null
        default: return try parseNumber()
        }
    }

    private mutating func expect(_ literal: StaticString) throws(SQSError) {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw Self.invalid }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] { throw Self.invalid }
        index += count
    }

    private mutating func parseObject(depth: Int) throws(SQSError) -> JSONValue {
        index += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw Self.invalid }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw Self.invalid }
            index += 1
            let value = try parseValue(depth: depth + 1)
            if !(shallow && depth > 0) {
                // Parsers read a member named twice differently: what the proxy read must be what
                // is forwarded.
                guard members.updateValue(value, forKey: key) == nil else { throw Self.repeated(key) }
                tally?.addMemberName(key)
            }
            skipWhitespace()
            guard index < bytes.count else { throw Self.invalid }
            index += 1
            switch bytes[index - 1] {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): return .object(members)
            default: throw Self.invalid
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(SQSError) -> JSONValue {
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            let element = try parseValue(depth: depth + 1)
            if !(shallow && depth > 0) { elements.append(element) }
            skipWhitespace()
            guard index < bytes.count else { throw Self.invalid }
            index += 1
            switch bytes[index - 1] {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "]"): return .array(elements)
            default: throw Self.invalid
            }
        }
    }

    /// A string, the opening quote at `index`.
    private mutating func parseString() throws(SQSError) -> String {
        let start = index + 1
        // Fast path: no escapes and nothing but printable ASCII up to the closing quote.
        var end = start
        while end < bytes.count {
            let byte = bytes[end]
            if byte == UInt8(ascii: "\"") {
                index = end + 1
                return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 { break }
            end += 1
        }
        var unescaper = JSONStringUnescaper()
        scratch.removeAll(keepingCapacity: true)
        switch try unescaper.consume(UnsafeRawBufferPointer(rebasing: bytes[start...]), into: &scratch) {
        case .finished(let consumed):
            index = start + consumed
            return String(decoding: scratch, as: UTF8.self)
        case .needMore:
            throw Self.invalid
        }
    }

    private mutating func parseNumber() throws(SQSError) -> JSONValue {
        let start = index
        var integral = true
        if index < bytes.count && bytes[index] == UInt8(ascii: "-") { index += 1 }
        // Integer part: 0, or a digit 1-9 followed by digits.
        guard index < bytes.count, Self.isDigit(bytes[index]) else { throw Self.invalid }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while index < bytes.count && Self.isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            integral = false
            index += 1
            try digits()
        }
        if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            integral = false
            index += 1
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                index += 1
            }
            try digits()
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if integral, let value = Int64(text) { return .integer(value) }
        guard let value = Double(text), value.isFinite else { throw Self.invalid }
        // As Foundation reads it: a whole number written with a fraction or an exponent (`1e3`) is an integer.
        if value == value.rounded(), let whole = Int64(exactly: value) { return .integer(whole) }
        return .double(value)
    }

    private mutating func digits() throws(SQSError) {
        guard index < bytes.count, Self.isDigit(bytes[index]) else { throw Self.invalid }
        while index < bytes.count && Self.isDigit(bytes[index]) { index += 1 }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
