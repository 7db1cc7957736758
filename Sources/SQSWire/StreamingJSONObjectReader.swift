/// Reads a JSON object that arrives in pieces, member by member, handing one chosen string member
/// over byte by byte (a message body of any size) and every other member as its raw JSON text.
/// One array member may hold objects read the same way (the entries of a batch).
public struct StreamingJSONObjectReader: Sendable {
    /// What the reader found in a piece.
    public enum Event: Sendable, Equatable {
        /// A member other than the streamed one: its name and raw JSON value.
        case member(name: String, rawValue: [UInt8])
        /// The streamed member begins.
        case streamedMemberStart
        /// Unescaped bytes of the streamed member's string.
        case streamedBytes([UInt8])
        /// The streamed member's string ended.
        case streamedMemberEnd
        /// The elements member's array begins.
        case elementsStart
        /// An object of the elements member begins; its members and streamed member follow.
        case elementStart
        /// The object of the elements member ended.
        case elementEnd
        /// The object's closing brace.
        case end
    }

    /// Where the reader is in the elements member's array.
    private struct Elements: Sendable {
        enum Expecting: Sendable { case elementOrClose, element, commaOrClose }
        var expecting = Expecting.elementOrClose
        var element: StreamingJSONObjectReader?
    }

    private enum State: Sendable {
        case beforeObject
        case beforeName(first: Bool)
        case name([UInt8], escaped: Bool)
        case beforeColon(String)
        case beforeValue(String)
        case streamedString
        case rawValue(String, RawValueScanner)
        indirect case elements(Elements)
        case afterValue
        case done
        /// Held while a case's buffer is changed, so that the buffer is not shared and copied on
        /// write (AsyncHTTPClient's state machines do the same); left only by a thrown error.
        case modifying
    }

    /// The member streamed byte by byte; it must be a string.
    public let streamedMember: String
    /// The array member whose objects are read like this one, or nil.
    public let elementsMember: String?
    /// The largest raw value of any other member.
    public let maxMemberSize: Int
    private var state = State.beforeObject
    private var unescaper = JSONStringUnescaper()

    public init(streamedMember: String, elementsMember: String? = nil, maxMemberSize: Int) {
        self.streamedMember = streamedMember
        self.elementsMember = elementsMember
        self.maxMemberSize = maxMemberSize
    }

    /// Whether the closing brace was read.
    public var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    private static let invalid = SQSError.malformedRequest("The request body is not valid JSON.")

    /// Reads a piece, reporting what it holds to `handle` in order.
    public mutating func read(_ input: UnsafeRawBufferPointer, _ handle: (Event) throws -> Void) throws {
        _ = try consume(input, stopAtEnd: false, handle)
    }

    /// Reads `input` up to the closing brace if `stopAtEnd`, else all of it; returns the bytes read.
    private mutating func consume(
        _ input: UnsafeRawBufferPointer, stopAtEnd: Bool, _ handle: (Event) throws -> Void
    ) throws -> Int {
        var index = 0
        while index < input.count {
            if stopAtEnd && isComplete { return index }
            let byte = input[index]
            switch state {
            case .beforeObject:
                index += 1
                if Self.isSpace(byte) { continue }
                guard byte == UInt8(ascii: "{") else { throw Self.invalid }
                state = .beforeName(first: true)
            case .beforeName(let first):
                index += 1
                if Self.isSpace(byte) { continue }
                if byte == UInt8(ascii: "}") && first {
                    state = .done
                    try handle(.end)
                } else if byte == UInt8(ascii: "\"") {
                    state = .name([], escaped: false)
                } else {
                    throw Self.invalid
                }
            case .name(var bytes, let escaped):
                state = .modifying
                index += 1
                if !escaped && byte == UInt8(ascii: "\"") {
                    let raw = [UInt8(ascii: "\"")] + bytes + [UInt8(ascii: "\"")]
                    guard case .string(let name) = try JSONValue.parse(raw) else { throw Self.invalid }
                    state = .beforeColon(name)
                } else {
                    bytes.append(byte)
                    guard bytes.count <= 1024 else { throw Self.invalid }
                    state = .name(bytes, escaped: !escaped && byte == UInt8(ascii: "\\"))
                }
            case .beforeColon(let name):
                index += 1
                if Self.isSpace(byte) { continue }
                guard byte == UInt8(ascii: ":") else { throw Self.invalid }
                state = .beforeValue(name)
            case .beforeValue(let name):
                if Self.isSpace(byte) {
                    index += 1
                    continue
                }
                if name == elementsMember {
                    guard byte == UInt8(ascii: "[") else { throw Self.invalid }
                    index += 1
                    state = .elements(Elements())
                    try handle(.elementsStart)
                } else if name == streamedMember {
                    guard byte == UInt8(ascii: "\"") else { throw Self.invalid }
                    index += 1
                    unescaper = JSONStringUnescaper()
                    state = .streamedString
                    try handle(.streamedMemberStart)
                } else {
                    state = .rawValue(name, RawValueScanner())
                }
            case .streamedString:
                var output: [UInt8] = []
                let rest = UnsafeRawBufferPointer(rebasing: input[index...])
                let progress = try unescaper.consume(rest, into: &output)
                if !output.isEmpty { try handle(.streamedBytes(output)) }
                switch progress {
                case .needMore:
                    index = input.count
                case .finished(let consumed):
                    index += consumed
                    state = .afterValue
                    try handle(.streamedMemberEnd)
                }
            case .rawValue(let name, var scanner):
                state = .modifying
                let rest = UnsafeRawBufferPointer(rebasing: input[index...])
                let consumed = try scanner.scan(rest)
                guard scanner.bytes.count <= maxMemberSize else {
                    throw SQSError.invalidParameterValue("The member \(name) is larger than \(maxMemberSize) bytes.")
                }
                index += consumed
                if scanner.isComplete {
                    state = .afterValue
                    try handle(.member(name: name, rawValue: scanner.bytes))
                } else {
                    state = .rawValue(name, scanner)
                }
            case .elements(var elements):
                state = .modifying
                if var element = elements.element {
                    elements.element = nil
                    let rest = UnsafeRawBufferPointer(rebasing: input[index...])
                    index += try element.consume(rest, stopAtEnd: true) { event in
                        try handle(event == .end ? .elementEnd : event)
                    }
                    elements.element = element.isComplete ? nil : element
                    if element.isComplete { elements.expecting = .commaOrClose }
                    state = .elements(elements)
                    continue
                }
                if Self.isSpace(byte) {
                    index += 1
                    state = .elements(elements)
                    continue
                }
                switch (elements.expecting, byte) {
                case (.elementOrClose, UInt8(ascii: "{")), (.element, UInt8(ascii: "{")):
                    elements.element = StreamingJSONObjectReader(
                        streamedMember: streamedMember, maxMemberSize: maxMemberSize)
                    state = .elements(elements)
                    try handle(.elementStart)
                case (.elementOrClose, UInt8(ascii: "]")), (.commaOrClose, UInt8(ascii: "]")):
                    index += 1
                    state = .afterValue
                case (.commaOrClose, UInt8(ascii: ",")):
                    index += 1
                    elements.expecting = .element
                    state = .elements(elements)
                default:
                    throw Self.invalid
                }
            case .modifying:
                // Only after an error was thrown: the request is over.
                throw Self.invalid
            case .afterValue:
                index += 1
                if Self.isSpace(byte) { continue }
                if byte == UInt8(ascii: ",") {
                    state = .beforeName(first: false)
                } else if byte == UInt8(ascii: "}") {
                    state = .done
                    try handle(.end)
                } else {
                    throw Self.invalid
                }
            case .done:
                index += 1
                guard Self.isSpace(byte) else { throw Self.invalid }
            }
        }
        return index
    }

    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}

/// Finds where one JSON value ends in a byte stream, keeping its bytes: strings, nesting and
/// escapes tracked across pieces.
struct RawValueScanner: Sendable {
    private(set) var bytes: [UInt8] = []
    private(set) var isComplete = false
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var isScalar = false

    /// Consumes bytes of `input` up to the end of the value; returns how many belong to it.
    mutating func scan(_ input: UnsafeRawBufferPointer) throws -> Int {
        var index = 0
        while index < input.count {
            let byte = input[index]
            if isScalar {
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]")
                    || StreamingJSONObjectReader.isSpace(byte)
                {
                    isComplete = true
                    return index
                }
                bytes.append(byte)
                index += 1
                continue
            }
            bytes.append(byte)
            index += 1
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 0 {
                        isComplete = true
                        return index
                    }
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                guard depth >= 0 else { throw SQSError.malformedRequest("The request body is not valid JSON.") }
                if depth == 0 {
                    isComplete = true
                    return index
                }
            default:
                if depth == 0 && bytes.count == 1 { isScalar = true }
            }
        }
        return index
    }
}
