import TextCoding

/// Reads a form-encoded body (`name=value&…`) that arrives in pieces, handing the values of message
/// bodies (`MessageBody`, `SendMessageBatchRequestEntry.N.MessageBody`) over byte by byte, decoded,
/// and every other parameter as a decoded pair.
public struct StreamingFormReader: Sendable {
    /// What the reader found in a piece.
    public enum Event: Sendable, Equatable {
        /// A parameter other than a message body.
        case parameter(name: String, value: String)
        /// A message body begins: `entry` is 0 for `MessageBody`, N for batch entry N.
        case streamedValueStart(name: String, entry: Int)
        /// Decoded bytes of the message body.
        case streamedBytes([UInt8])
        /// The message body ended.
        case streamedValueEnd
    }

    private enum State: Sendable {
        case name([UInt8])
        case value(name: String, [UInt8])
        case streamedValue(FormValueDecoder)
        /// Held while a case's buffer is changed, so that the buffer is not shared and copied on
        /// write (AsyncHTTPClient's state machines do the same); left only by a thrown error.
        case modifying
    }

    /// The largest encoded value of any other parameter.
    public let maxValueSize: Int
    private var state = State.name([])

    public init(maxValueSize: Int) {
        self.maxValueSize = maxValueSize
    }

    private static let invalid = SQSError.malformedRequest("The request is not valid form encoding.")

    /// The entry whose body `name` names: 0 for `MessageBody`, N for `SendMessageBatchRequestEntry.N.MessageBody`.
    public static func streamedEntry(_ name: String) -> Int? {
        if name == "MessageBody" { return 0 }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "SendMessageBatchRequestEntry", parts[2] == "MessageBody",
            let entry = QueryIndex.parse(parts[1])
        else { return nil }
        return entry
    }

    /// Reads a piece, reporting what it holds to `handle` in order.
    public mutating func read(_ input: UnsafeRawBufferPointer, _ handle: (Event) throws -> Void) throws {
        var index = 0
        while index < input.count {
            switch state {
            case .name(var bytes):
                state = .modifying
                let byte = input[index]
                index += 1
                switch byte {
                case UInt8(ascii: "="):
                    let name = try Self.decode(bytes)
                    if let entry = Self.streamedEntry(name) {
                        state = .streamedValue(FormValueDecoder())
                        try handle(.streamedValueStart(name: name, entry: entry))
                    } else {
                        state = .value(name: name, [])
                    }
                case UInt8(ascii: "&"):
                    if !bytes.isEmpty { try handle(.parameter(name: try Self.decode(bytes), value: "")) }
                    state = .name([])
                default:
                    bytes.append(byte)
                    guard bytes.count <= 1024 else { throw Self.invalid }
                    state = .name(bytes)
                }
            case .value(let name, var bytes):
                state = .modifying
                let rest = input[index...]
                let end = rest.firstIndex(of: UInt8(ascii: "&")) ?? input.count
                bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<end]))
                guard bytes.count <= maxValueSize else {
                    throw SQSError.invalidParameterValue("The parameter \(name) is larger than \(maxValueSize) bytes.")
                }
                if end < input.count {
                    index = end + 1
                    state = .name([])
                    try handle(.parameter(name: name, value: try Self.decode(bytes)))
                } else {
                    index = end
                    state = .value(name: name, bytes)
                }
            case .streamedValue(var decoder):
                state = .modifying
                var output: [UInt8] = []
                let progress = try decoder.consume(UnsafeRawBufferPointer(rebasing: input[index...]), into: &output)
                if !output.isEmpty { try handle(.streamedBytes(output)) }
                switch progress {
                case .needMore:
                    index = input.count
                    state = .streamedValue(decoder)
                case .finished(let consumed):
                    index += consumed
                    state = .name([])
                    try handle(.streamedValueEnd)
                }
            case .modifying:
                // Only after an error was thrown: the request is over.
                throw Self.invalid
            }
        }
    }

    /// Ends the body: the last parameter ends with it.
    public mutating func finish(_ handle: (Event) throws -> Void) throws {
        switch state {
        case .name(let bytes):
            if !bytes.isEmpty { try handle(.parameter(name: try Self.decode(bytes), value: "")) }
        case .value(let name, let bytes):
            try handle(.parameter(name: name, value: try Self.decode(bytes)))
        case .streamedValue(var decoder):
            try decoder.finish()
            try handle(.streamedValueEnd)
        case .modifying:
            throw Self.invalid
        }
        state = .name([])
    }

    private static func decode(_ bytes: [UInt8]) throws(SQSError) -> String {
        guard let decoded = bytes.withUnsafeBytes({ PercentEncoding.decodeForm($0) }) else { throw invalid }
        return decoded
    }
}
