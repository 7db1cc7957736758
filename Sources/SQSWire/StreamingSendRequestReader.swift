/// Reads a SendMessage or SendMessageBatch request that arrives in pieces, in either protocol:
/// message bodies are handed over as unescaped bytes while everything else is collected, so that
/// the request can be decoded afterwards with each body replaced (held text or a pointer).
///
/// Entries are numbered as the Query protocol does: 0 is SendMessage's body, N (from 1) is batch entry N.
public struct StreamingSendRequestReader: Sendable {
    /// What the reader found in a piece.
    public enum Event: Sendable, Equatable {
        /// The body of `entry` begins.
        case bodyStart(entry: Int)
        /// Unescaped bytes of the current body.
        case bodyBytes([UInt8])
        /// The current body ended.
        case bodyEnd
    }

    public let wireProtocol: SQSProtocol
    private var jsonReader: StreamingJSONObjectReader?
    private var formReader: StreamingFormReader?
    private var members: [String: JSONValue] = [:]
    private var elements: [[String: JSONValue]] = []
    private var sawEntries = false
    private var inElement = false
    private var parameters: [(name: String, value: String)] = []
    /// Where each streamed body's parameter sits in `parameters` (Query protocol).
    private var bodyParameters: [Int: Int] = [:]
    private var startedEntries: Set<Int> = []
    /// Everything collected so far (names and values other than bodies), counted as it was built.
    public private(set) var tally: ParseTally

    /// - Parameter maxMemberSize: the largest member or parameter other than a body.
    public init(wireProtocol: SQSProtocol, maxMemberSize: Int) {
        self.wireProtocol = wireProtocol
        self.tally = ParseTally(wireProtocol)
        switch wireProtocol {
        case .json:
            jsonReader = StreamingJSONObjectReader(
                streamedMember: "MessageBody", elementsMember: "Entries", maxMemberSize: maxMemberSize)
        case .query:
            formReader = StreamingFormReader(maxValueSize: maxMemberSize)
        }
    }

    /// The queue URL, once it was read.
    public var queueURL: String? {
        wireProtocol == .json ? members["QueueUrl"]?.stringValue : parameters.first { $0.name == "QueueUrl" }?.value
    }

    /// Reads a piece, reporting the bodies' events to `handle` in order.
    public mutating func read(_ input: UnsafeRawBufferPointer, _ handle: (Event) throws -> Void) throws(SQSError) {
        do {
            // Taken out while it reads, so that its buffers are not copied on write.
            if var reader = jsonReader.take() {
                defer { jsonReader = reader }
                try reader.read(input) { event in try collect(event, handle) }
            } else if var reader = formReader.take() {
                defer { formReader = reader }
                try reader.read(input) { event in try collect(event, handle) }
            }
        } catch let error as SQSError {
            throw error
        } catch {
            throw Self.invalid(wireProtocol)
        }
    }

    /// Ends the request: the body ended. Throws if the request is incomplete.
    public mutating func finish(_ handle: (Event) throws -> Void) throws(SQSError) {
        do {
            if let jsonReader, !jsonReader.isComplete { throw Self.invalid(wireProtocol) }
            if var reader = formReader.take() {
                defer { formReader = reader }
                try reader.finish { event in try collect(event, handle) }
            }
        } catch let error as SQSError {
            throw error
        } catch {
            throw Self.invalid(wireProtocol)
        }
    }

    /// The place of entry `entry` in the decoded request's `Entries` (0 for SendMessage's body):
    /// Query entries are decoded in the order of their numbers, whatever gaps lie between them.
    public func entryPosition(_ entry: Int) -> Int {
        guard entry > 0 else { return 0 }
        switch wireProtocol {
        case .json:
            return entry - 1
        case .query:
            let prefix = "SendMessageBatchRequestEntry."
            let numbers = Set(
                parameters.compactMap { parameter -> Int? in
                    guard parameter.name.hasPrefix(prefix) else { return nil }
                    return QueryIndex.parse(parameter.name.dropFirst(prefix.count).prefix { $0 != "." })
                })
            return numbers.filter { $0 < entry }.count
        }
    }

    /// The request, decoded as ``SQSRequestDecoder`` decodes a whole one, with each entry's body
    /// from `bodies` (the held text, or the pointer of a body stored while it streamed): nothing is
    /// encoded or parsed again.
    /// - Parameters:
    ///   - action: the action `X-Amz-Target` names (JSON protocol); Query requests name theirs.
    ///   - path: the request path without its query string; `queryString` without `?`.
    public func request(bodies: [Int: String], action: SQSAction?, path: String, queryString: String?)
        throws(SQSError) -> SQSRequest
    {
        switch wireProtocol {
        case .json:
            var document = members
            if let body = bodies[0] { document["MessageBody"] = .string(body) }
            if sawEntries {
                document["Entries"] = .array(
                    elements.enumerated().map { index, element in
                        var element = element
                        if let body = bodies[index + 1] { element["MessageBody"] = .string(body) }
                        return .object(element)
                    })
            }
            guard let action else { throw .invalidAction("") }
            var request = try SQSRequestDecoder.decodeJSON(action: action, document: .object(document))
            request.heldBytes = tally.bytes
            return request
        case .query:
            var pairs = parameters
            for (entry, position) in bodyParameters {
                pairs[position].value = bodies[entry] ?? ""
            }
            var tally = tally
            return try SQSRequestDecoder.decodeQuery(
                path: path, queryString: queryString, parameters: QueryParameters(pairs), tally: &tally)
        }
    }

    private mutating func collect(_ event: StreamingJSONObjectReader.Event, _ handle: (Event) throws -> Void) throws {
        if tally.items == 0 {
            // The document's object, which every event is part of.
            try tally.addJSONValue(built: true)
        }
        switch event {
        case .member(let name, let raw):
            let value = try raw.withUnsafeBytes { bytes throws(SQSError) in try JSONValue.parse(bytes, tally: &tally) }
            tally.addMemberName(name)
            let earlier =
                inElement
                ? elements[elements.count - 1].updateValue(value, forKey: name)
                : members.updateValue(value, forKey: name)
            guard earlier == nil else { throw JSONParser.repeated(name) }
        case .elementsStart:
            guard !sawEntries else { throw JSONParser.repeated("Entries") }
            sawEntries = true
            try tally.addJSONValue(built: true)
        case .elementStart:
            // Refused at the eleventh entry, before its body is read or stored.
            guard elements.count < SQSLimits.maxBatchEntries else { throw SQSError.tooManyEntries }
            try tally.addJSONValue(built: true)
            inElement = true
            elements.append([:])
        case .elementEnd:
            inElement = false
        case .streamedMemberStart:
            // The body's bytes are counted where they are held.
            try tally.addJSONValue(built: true)
            try start(entry: inElement ? elements.count : 0, name: "MessageBody", handle)
        case .streamedBytes(let bytes):
            try handle(.bodyBytes(bytes))
        case .streamedMemberEnd:
            try handle(.bodyEnd)
        case .end:
            break
        }
    }

    private mutating func start(entry: Int, name: String, _ handle: (Event) throws -> Void) throws {
        guard startedEntries.insert(entry).inserted else {
            throw SQSError.invalidParameterValue("The parameter \(name) is given twice.")
        }
        guard startedEntries.count <= SQSLimits.maxBatchEntries else { throw SQSError.tooManyEntries }
        try handle(.bodyStart(entry: entry))
    }

    private mutating func collect(_ event: StreamingFormReader.Event, _ handle: (Event) throws -> Void) throws {
        switch event {
        case .parameter(let name, let value):
            try tally.addParameter(name: name, value: value)
            parameters.append((name, value))
        case .streamedValueStart(let name, let entry):
            try tally.addParameter(name: name, value: "")
            try start(entry: entry, name: name, handle)
            bodyParameters[entry] = parameters.count
            parameters.append((name, ""))
        case .streamedBytes(let bytes):
            try handle(.bodyBytes(bytes))
        case .streamedValueEnd:
            try handle(.bodyEnd)
        }
    }

    private static func invalid(_ wireProtocol: SQSProtocol) -> SQSError {
        .malformedRequest(
            wireProtocol == .json ? "The request body is not valid JSON." : "The request is not valid form encoding.")
    }
}
