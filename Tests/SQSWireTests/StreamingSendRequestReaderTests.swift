import Foundation
import Testing

@testable import SQSWire

struct StreamingSendRequestReaderTests {
    struct Outcome {
        var bodies: [Int: String]
        var order: [Int]
        var reader: StreamingSendRequestReader
    }

    /// Reads `body` cut at `cuts`, collecting each entry's unescaped body.
    func read(_ body: [UInt8], wireProtocol: SQSProtocol, cuts: [Int]) throws -> Outcome {
        var reader = StreamingSendRequestReader(wireProtocol: wireProtocol, maxMemberSize: 1 << 20)
        var bodies: [Int: String] = [:]
        var order: [Int] = []
        var current: Int?
        var bytes: [UInt8] = []
        func handle(_ event: StreamingSendRequestReader.Event) {
            switch event {
            case .bodyStart(let entry):
                current = entry
                bytes = []
            case .bodyBytes(let piece): bytes += piece
            case .bodyEnd:
                bodies[current!] = String(decoding: bytes, as: UTF8.self)
                order.append(current!)
            }
        }
        var start = 0
        for end in cuts + [body.count] where end >= start {
            try body[start..<end].withUnsafeBytes { piece in try reader.read(piece, handle) }
            start = end
        }
        try reader.finish(handle)
        return Outcome(bodies: bodies, order: order, reader: reader)
    }

    static let text = "big \"body\" \\ with\nescapes é 😀 & + % = / slashes\r\t"

    static var jsonBatch: String {
        let entries = (1...3).map { index in
            JSONValue.object([
                "Id": .string("e\(index)"), "MessageBody": .string(text + String(index)),
                "DelaySeconds": .integer(Int64(index)),
                "MessageAttributes": .object([
                    "a": .object(["DataType": .string("String"), "StringValue": .string("v}]\"{")])
                ]),
            ])
        }
        let document = JSONValue.object(["QueueUrl": .string("http://q/1/a"), "Entries": .array(entries)])
        return String(decoding: document.serialized(), as: UTF8.self)
    }

    static var queryBatch: String {
        var pairs: [(name: String, value: String)] = [("Action", "SendMessageBatch"), ("QueueUrl", "http://q/1/a")]
        for index in 1...3 {
            pairs += [
                ("SendMessageBatchRequestEntry.\(index).Id", "e\(index)"),
                ("SendMessageBatchRequestEntry.\(index).MessageBody", text + String(index)),
                ("SendMessageBatchRequestEntry.\(index).MessageAttribute.1.Name", "a"),
                ("SendMessageBatchRequestEntry.\(index).MessageAttribute.1.Value.DataType", "String"),
                ("SendMessageBatchRequestEntry.\(index).MessageAttribute.1.Value.StringValue", "v&=+"),
            ]
        }
        return String(decoding: QueryParameters(pairs).encoded(), as: UTF8.self)
    }

    static let cases: [(String, SQSProtocol, String?)] = [
        (jsonBatch, .json, "SendMessageBatch"),
        (#"{"QueueUrl":"u","MessageBody":"a \u00e9 \ud83d\ude00 \" b","DelaySeconds":1}"#, .json, "SendMessage"),
        (queryBatch, .query, nil),
        ("Action=SendMessage&QueueUrl=u&MessageBody=a+%C3%A9%F0%9F%98%80%26%3D+b&DelaySeconds=1", .query, nil),
        ("MessageBody=last%20one&Action=SendMessage&QueueUrl=u", .query, nil),
    ]

    func decoded(_ body: [UInt8], wireProtocol: SQSProtocol, target: String?) throws -> SQSRequest {
        try SQSRequestDecoder.decode(
            target: target.map { "AmazonSQS." + $0 },
            contentType: wireProtocol == .json ? "application/x-amz-json-1.0" : "application/x-www-form-urlencoded",
            path: "/", queryString: nil, body: body)
    }

    @Test(arguments: cases)
    func everySplitGivesTheBodiesAndTheRequestAWholeDecodeGives(
        _ document: String, _ wireProtocol: SQSProtocol, _ target: String?
    )
        throws
    {
        let bytes = Array(document.utf8)
        let original = try decoded(bytes, wireProtocol: wireProtocol, target: target)
        let expectedBodies: [Int: String]
        if let entries = original.tree?["Entries"]?.arrayValue {
            expectedBodies = Dictionary(
                uniqueKeysWithValues: entries.enumerated().map { ($0 + 1, $1["MessageBody"]!.stringValue!) })
        } else {
            expectedBodies = [0: original.tree!["MessageBody"]!.stringValue!]
        }
        for cut in 0...bytes.count {
            let outcome = try read(bytes, wireProtocol: wireProtocol, cuts: [cut])
            #expect(outcome.bodies == expectedBodies)
            let streamed = try outcome.reader.request(
                bodies: outcome.bodies, action: target.flatMap(SQSAction.init(rawValue:)), path: "/", queryString: nil)
            #expect(streamed.tree == original.tree)
            #expect(streamed.action == original.action)
            #expect(streamed.input == original.input)
            #expect(outcome.reader.queueURL == original.tree?["QueueUrl"]?.stringValue)
        }
        let bytewise = try read(bytes, wireProtocol: wireProtocol, cuts: Array(0...bytes.count))
        #expect(bytewise.bodies == expectedBodies)
    }

    @Test(arguments: [SQSProtocol.json, .query])
    func entriesAreNumberedAndNamed(_ wireProtocol: SQSProtocol) throws {
        let document = wireProtocol == .json ? Self.jsonBatch : Self.queryBatch
        let outcome = try read(Array(document.utf8), wireProtocol: wireProtocol, cuts: [])
        #expect(outcome.order == [1, 2, 3])
        #expect((0...3).map { outcome.reader.entryPosition($0) } == [0, 0, 1, 2])
    }

    @Test func queryEntriesArePlacedInTheOrderOfTheirNumbersWhateverTheGaps() throws {
        let pairs: [(name: String, value: String)] = [
            ("Action", "SendMessageBatch"), ("QueueUrl", "http://q/1/a"),
            ("SendMessageBatchRequestEntry.9.Id", "c"), ("SendMessageBatchRequestEntry.9.MessageBody", "3"),
            ("SendMessageBatchRequestEntry.2.Id", "a"), ("SendMessageBatchRequestEntry.2.MessageBody", "1"),
            ("SendMessageBatchRequestEntry.5.Id", "b"), ("SendMessageBatchRequestEntry.5.MessageBody", "2"),
        ]
        let outcome = try read(QueryParameters(pairs).encoded(), wireProtocol: .query, cuts: [])
        #expect([2, 5, 9].map { outcome.reader.entryPosition($0) } == [0, 1, 2])
        let request = try outcome.reader.request(bodies: [:], action: nil, path: "/", queryString: nil)
        #expect(request.tree?["Entries"]?.arrayValue?.compactMap { $0["Id"]?.stringValue } == ["a", "b", "c"])
    }

    @Test(arguments: [SQSProtocol.json, .query])
    func theEleventhEntryIsRefusedBeforeItsBodyIsRead(_ wireProtocol: SQSProtocol) throws {
        let document: String
        if wireProtocol == .json {
            let entries = (1...11).map { #"{"Id":"e\#($0)","MessageBody":"body \#($0)"}"# }.joined(separator: ",")
            document = #"{"QueueUrl":"u","Entries":["# + entries + "]}"
        } else {
            document =
                "Action=SendMessageBatch&QueueUrl=u"
                + (1...11).map {
                    "&SendMessageBatchRequestEntry.\($0).Id=e\($0)&SendMessageBatchRequestEntry.\($0).MessageBody=b"
                }
                .joined()
        }
        var reader = StreamingSendRequestReader(wireProtocol: wireProtocol, maxMemberSize: 1 << 20)
        var started: [Int] = []
        let error = #expect(throws: SQSError.self) {
            try Array(document.utf8).withUnsafeBytes { bytes in
                try reader.read(bytes) { event in
                    if case .bodyStart(let entry) = event { started.append(entry) }
                }
            }
        }
        #expect(error == .tooManyEntries)
        #expect(started.count == 10)
    }

    /// The shapes whose items cost many times their bytes: parameters without values, members
    /// that are single digits or empty objects. (A member's value is parsed once it ended: its
    /// bytes are bounded by the largest member.)
    @Test(arguments: [
        (
            SQSProtocol.query,
            "Action=SendMessageBatch&QueueUrl=u&MessageBody=b&" + (0..<400).map { "n\($0)" }.joined(separator: "&")
        ),
        (
            SQSProtocol.json,
            #"{"QueueUrl":"u","MessageBody":"b","# + (0..<420).map { #""m\#($0)":1"# }.joined(separator: ",") + "}"
        ),
        (
            SQSProtocol.json,
            #"{"QueueUrl":"u","MessageBody":"b","# + (0..<420).map { #""m\#($0)":{}"# }.joined(separator: ",") + "}"
        ),
    ])
    func itemsPastSQSsCapAreRefusedAsTheyArrive(_ wireProtocol: SQSProtocol, _ document: String) throws {
        var reader = StreamingSendRequestReader(wireProtocol: wireProtocol, maxMemberSize: 1 << 20)
        let bytes = Array(document.utf8)
        var refusedAt: Int?
        // Fed in pieces of 64 bytes: refused in the piece that holds the first item too many.
        for start in stride(from: 0, to: bytes.count, by: 64) where refusedAt == nil {
            do {
                try bytes[start..<min(start + 64, bytes.count)].withUnsafeBytes { piece in
                    try reader.read(piece) { _ in }
                }
            } catch {
                #expect(error as? SQSError == .tooManyItems(wireProtocol))
                refusedAt = start
            }
        }
        let at = try #require(refusedAt)
        #expect(reader.tally.items == SQSLimits.maxItems(wireProtocol))
        #expect(at < bytes.count - 64)
        #expect(reader.tally.bytes <= ParseCost.limit(forLength: at + 64))
    }

    @Test(arguments: [SQSProtocol.json, .query])
    func whatTheReaderCollectedIsCountedInTheRequest(_ wireProtocol: SQSProtocol) throws {
        let document = wireProtocol == .json ? Self.jsonBatch : Self.queryBatch
        let outcome = try read(Array(document.utf8), wireProtocol: wireProtocol, cuts: [])
        let request = try outcome.reader.request(
            bodies: outcome.bodies, action: .sendMessageBatch, path: "/", queryString: nil)
        #expect(request.heldBytes == outcome.reader.tally.bytes)
        #expect(request.heldBytes > 0)
        #expect(request.heldBytes <= ParseCost.limit(forLength: document.utf8.count))
    }

    @Test func bodiesCanBeReplaced() throws {
        let outcome = try read(Array(Self.queryBatch.utf8), wireProtocol: .query, cuts: [100])
        let request = try outcome.reader.request(bodies: [2: "pointer"], action: nil, path: "/", queryString: nil)
        let bodies = request.tree?["Entries"]?.arrayValue?.map { $0["MessageBody"]?.stringValue }
        #expect(bodies == ["", "pointer", ""])
    }

    @Test(arguments: [
        (#"{"MessageBody":"a","MessageBody":"b"}"#, SQSProtocol.json),
        (#"{"Entries":[{"MessageBody":"a"},]}"#, .json),
        (#"{"Entries":{"MessageBody":"a"}}"#, .json),
        (#"{"QueueUrl":"u""#, .json),
        ("MessageBody=a&MessageBody=b", .query),
        ("MessageBody=a%2", .query),
        ("MessageBody=%FF", .query),
    ])
    func invalidRequestsAreRefused(_ document: String, _ wireProtocol: SQSProtocol) {
        #expect(throws: SQSError.self) { _ = try read(Array(document.utf8), wireProtocol: wireProtocol, cuts: []) }
    }

    @Test func formNamesOfBodies() {
        #expect(StreamingFormReader.streamedEntry("MessageBody") == 0)
        #expect(StreamingFormReader.streamedEntry("SendMessageBatchRequestEntry.7.MessageBody") == 7)
        #expect(StreamingFormReader.streamedEntry("SendMessageBatchRequestEntry.0.MessageBody") == nil)
        #expect(StreamingFormReader.streamedEntry("SendMessageBatchRequestEntry.x.MessageBody") == nil)
        #expect(StreamingFormReader.streamedEntry("MessageBodyX") == nil)
    }
}

struct StreamingReaderErrorTests {
    @Test func aReaderThatThrewKeepsRefusing() {
        var form = StreamingFormReader(maxValueSize: 16)
        let tooLong = Array("Action=SendMessage&QueueUrl=\(String(repeating: "u", count: 40))".utf8)
        #expect(throws: SQSError.self) { try tooLong.withUnsafeBytes { try form.read($0) { _ in } } }
        #expect(throws: SQSError.self) { try Array("&a=b".utf8).withUnsafeBytes { try form.read($0) { _ in } } }
        #expect(throws: SQSError.self) { try form.finish { _ in } }

        var json = StreamingJSONObjectReader(
            streamedMember: "MessageBody", elementsMember: "Entries", maxMemberSize: 16)
        let large = Array(#"{"QueueUrl":"\#(String(repeating: "u", count: 40))"}"#.utf8)
        #expect(throws: SQSError.self) { try large.withUnsafeBytes { try json.read($0) { _ in } } }
        #expect(throws: SQSError.self) { try Array("}".utf8).withUnsafeBytes { try json.read($0) { _ in } } }
    }
}
