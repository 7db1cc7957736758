import TextCoding

/// Unescapes the content of a JSON string literal that arrives in pieces: a message body read from
/// the network, an escape sequence possibly split between two reads.
public struct JSONStringUnescaper: Sendable {
    /// What a call to ``consume(_:into:)`` found.
    public enum Progress: Sendable, Equatable {
        /// The string goes on in the next piece.
        case needMore
        /// The closing quote was found; `consumed` bytes of the piece (the quote included) belong to the string.
        case finished(consumed: Int)
    }

    private enum State: Sendable {
        case plain
        case escape
        case unicode(digits: Int, value: UInt32)
        case expectLowBackslash(high: UInt32)
        case expectLowU(high: UInt32)
        case lowUnicode(high: UInt32, digits: Int, value: UInt32)
    }

    private var state = State.plain
    private var utf8 = UTF8Validator()

    public init() {}

    /// Appends the unescaped bytes of `input` to `output`, up to the closing quote.
    public mutating func consume(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(SQSError)
        -> Progress
    {
        var index = 0
        let count = input.count
        while index < count {
            switch state {
            case .plain:
                // Fast path: copy the run of ordinary bytes in one go (they are exactly the bytes
                // a JSON string holds unescaped).
                let end = TextEscaping.firstNeedingEscape(input, from: index, xml: false) ?? count
                if end > index {
                    try utf8.append(UnsafeRawBufferPointer(rebasing: input[index..<end]), to: &output)
                    index = end
                    continue
                }
                let byte = input[index]
                index += 1
                if byte == UInt8(ascii: "\"") {
                    try utf8.finish()
                    return .finished(consumed: index)
                } else if byte == UInt8(ascii: "\\") {
                    state = .escape
                } else {
                    throw Self.invalid
                }
            case .escape:
                let byte = input[index]
                index += 1
                state = .plain
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(byte)
                case UInt8(ascii: "b"): output.append(0x08)
                case UInt8(ascii: "f"): output.append(0x0C)
                case UInt8(ascii: "n"): output.append(0x0A)
                case UInt8(ascii: "r"): output.append(0x0D)
                case UInt8(ascii: "t"): output.append(0x09)
                case UInt8(ascii: "u"): state = .unicode(digits: 0, value: 0)
                default: throw Self.invalid
                }
            case .unicode(let digits, let value):
                let next = value << 4 | UInt32(try Self.hex(input[index]))
                index += 1
                guard digits == 3 else {
                    state = .unicode(digits: digits + 1, value: next)
                    continue
                }
                switch next {
                case 0xD800...0xDBFF: state = .expectLowBackslash(high: next)
                case 0xDC00...0xDFFF: throw Self.invalid
                default:
                    Self.appendUTF8(next, to: &output)
                    state = .plain
                }
            case .expectLowBackslash(let high):
                guard input[index] == UInt8(ascii: "\\") else { throw Self.invalid }
                index += 1
                state = .expectLowU(high: high)
            case .expectLowU(let high):
                guard input[index] == UInt8(ascii: "u") else { throw Self.invalid }
                index += 1
                state = .lowUnicode(high: high, digits: 0, value: 0)
            case .lowUnicode(let high, let digits, let value):
                let next = value << 4 | UInt32(try Self.hex(input[index]))
                index += 1
                guard digits == 3 else {
                    state = .lowUnicode(high: high, digits: digits + 1, value: next)
                    continue
                }
                guard (0xDC00...0xDFFF).contains(next) else { throw Self.invalid }
                Self.appendUTF8(0x10000 + ((high - 0xD800) << 10) + (next - 0xDC00), to: &output)
                state = .plain
            }
        }
        return .needMore
    }

    private static let invalid = SQSError.malformedRequest("The request body is not valid JSON.")

    private static func hex(_ byte: UInt8) throws(SQSError) -> UInt8 {
        guard let value = PercentEncoding.hexValue(byte) else { throw invalid }
        return value
    }

    static func appendUTF8(_ scalar: UInt32, to output: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            output.append(UInt8(scalar))
        case 0x80..<0x800:
            output.append(UInt8(0xC0 | scalar >> 6))
            output.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            output.append(UInt8(0xE0 | scalar >> 12))
            output.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            output.append(UInt8(0x80 | scalar & 0x3F))
        default:
            output.append(UInt8(0xF0 | scalar >> 18))
            output.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            output.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            output.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}

/// Decodes a form-encoded value (`%XX` escapes, `+` for space) that arrives in pieces, up to the
/// `&` that ends it or the end of the body.
public struct FormValueDecoder: Sendable {
    /// What a call to ``consume(_:into:)`` found.
    public enum Progress: Sendable, Equatable {
        /// The value goes on in the next piece (or ends with the body: call ``finish()``).
        case needMore
        /// An `&` ended the value; `consumed` bytes of the piece (the `&` included) belong to it.
        case finished(consumed: Int)
    }

    private var pendingHexDigits = 0
    private var high: UInt8 = 0
    private var utf8 = UTF8Validator()

    public init() {}

    /// Appends the decoded bytes of `input` to `output`, up to an `&`.
    public mutating func consume(_ input: UnsafeRawBufferPointer, into output: inout [UInt8]) throws(SQSError)
        -> Progress
    {
        var index = 0
        while index < input.count {
            if pendingHexDigits == 0 {
                // Fast path: copy the run of bytes that need no decoding in one go.
                var end = index
                while end < input.count {
                    let byte = input[end]
                    if byte == UInt8(ascii: "&") || byte == UInt8(ascii: "%") || byte == UInt8(ascii: "+") { break }
                    end += 1
                }
                if end > index {
                    try utf8.append(UnsafeRawBufferPointer(rebasing: input[index..<end]), to: &output)
                    index = end
                    continue
                }
            }
            let byte = input[index]
            index += 1
            if pendingHexDigits > 0 {
                guard let value = PercentEncoding.hexValue(byte) else { throw Self.invalid }
                if pendingHexDigits == 2 {
                    high = value
                    pendingHexDigits = 1
                } else {
                    let decoded = high << 4 | value
                    try utf8.validate(CollectionOfOne(decoded))
                    output.append(decoded)
                    pendingHexDigits = 0
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "&"):
                try finish()
                return .finished(consumed: index)
            case UInt8(ascii: "%"):
                pendingHexDigits = 2
            case UInt8(ascii: "+"):
                try utf8.validate(CollectionOfOne(UInt8(ascii: " ")))
                output.append(UInt8(ascii: " "))
            default:
                try utf8.validate(CollectionOfOne(byte))
                output.append(byte)
            }
        }
        return .needMore
    }

    /// Checks that the value did not end inside an escape or a UTF-8 sequence.
    public mutating func finish() throws(SQSError) {
        guard pendingHexDigits == 0 else { throw Self.invalid }
        try utf8.finish()
    }

    private static let invalid = SQSError.malformedRequest("The request is not valid form encoding.")
}

/// Checks UTF-8 as it arrives in pieces: a multi-byte character may be split between two pieces.
struct UTF8Validator: Sendable {
    private var remaining = 0
    private var lowerBound: UInt8 = 0x80
    private var upperBound: UInt8 = 0xBF

    private static let invalid = SQSError.malformedRequest("The message body is not valid UTF-8.")

    /// Validates a run of bytes that need no decoding and appends it to `output`.
    mutating func append(_ run: UnsafeRawBufferPointer, to output: inout [UInt8]) throws(SQSError) {
        try validate(run)
        output.append(contentsOf: run)
    }

    /// Validates a run, skipping ASCII eight bytes at a time.
    mutating func validate(_ bytes: UnsafeRawBufferPointer) throws(SQSError) {
        var index = 0
        while index < bytes.count {
            if remaining == 0 && bytes.count - index >= 8
                && bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
            {
                index += 8
                continue
            }
            try validate(CollectionOfOne(bytes[index]))
            index += 1
        }
    }

    mutating func validate(_ bytes: some Sequence<UInt8>) throws(SQSError) {
        for byte in bytes {
            if remaining > 0 {
                guard byte >= lowerBound && byte <= upperBound else { throw Self.invalid }
                remaining -= 1
                lowerBound = 0x80
                upperBound = 0xBF
                continue
            }
            switch byte {
            case 0x00...0x7F: continue
            case 0xC2...0xDF: remaining = 1
            case 0xE0:
                remaining = 2
                lowerBound = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: remaining = 2
            case 0xED:
                remaining = 2
                upperBound = 0x9F
            case 0xF0:
                remaining = 3
                lowerBound = 0x90
            case 0xF1...0xF3: remaining = 3
            case 0xF4:
                remaining = 3
                upperBound = 0x8F
            default: throw Self.invalid
            }
        }
    }

    func finish() throws(SQSError) {
        guard remaining == 0 else { throw Self.invalid }
    }
}
