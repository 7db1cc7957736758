import Foundation
import Testing

@testable import SQSWire

struct StreamingJSONObjectReaderTests {
    /// Reads `json` cut at `cuts`; returns the other members parsed, the streamed body, and the events' shape.
    func read(_ json: [UInt8], cuts: [Int]) throws -> (members: [String: JSONValue], body: String?, ended: Bool) {
        var reader = StreamingJSONObjectReader(streamedMember: "MessageBody", maxMemberSize: 1 << 20)
        var members: [String: JSONValue] = [:]
        var body: [UInt8]?
        var ended = false
        var start = 0
        for end in cuts + [json.count] where end >= start {
            try json[start..<end].withUnsafeBytes { piece in
                try reader.read(piece) { event in
                    switch event {
                    case .member(let name, let raw): members[name] = try JSONValue.parse(raw)
                    case .streamedMemberStart: body = []
                    case .streamedBytes(let bytes): body?.append(contentsOf: bytes)
                    case .streamedMemberEnd: break
                    case .end: ended = true
                    case .elementsStart, .elementStart, .elementEnd: Issue.record("no elements member here")
                    }
                }
            }
            start = end
        }
        return (members, body.map { String(decoding: $0, as: UTF8.self) }, ended && reader.isComplete)
    }

    static let body = "big \"body\" \\ with\nescapes é 😀 and / slashes"
    static let documents: [String] = [
        #"{"QueueUrl":"http://q/1/a","MessageBody":"big \"body\" \\ with\nescapes \u00e9 \ud83d\ude00 and \/ slashes","DelaySeconds":5,"MessageAttributes":{"a":{"DataType":"String","StringValue":"x}]\"{"}},"Flag":true,"Nothing":null,"Neg":-1.5e3}"#,
        " {\n  \"MessageAttributes\" : { \"n\" : { \"DataType\" : \"Number\" , \"StringValue\" : \"1\" } } ,\n  \"MessageBody\" : \"big \\\"body\\\" \\\\ with\\nescapes é 😀 and / slashes\" , \"QueueUrl\" : \"u\" , \"List\" : [ 1 , [ 2 ] , { } ] \n } ",
    ]

    @Test(arguments: documents)
    func everySplitGivesTheSameMembersAndBody(_ document: String) throws {
        let bytes = Array(document.utf8)
        let whole = try JSONValue.parse(bytes)
        var expected = whole.objectValue!
        expected["MessageBody"] = nil
        for cut in 0...bytes.count {
            let result = try read(bytes, cuts: [cut])
            #expect(result.members == expected)
            #expect(result.body == Self.body)
            #expect(result.ended)
        }
        let bytewise = try read(bytes, cuts: Array(0...bytes.count))
        #expect(bytewise.members == expected && bytewise.body == Self.body)
    }

    @Test func emptyObjectAndNoBody() throws {
        let result = try read(Array("{}".utf8), cuts: [1])
        #expect(result.members.isEmpty && result.body == nil && result.ended)
    }

    @Test(arguments: ["[1]", "{\"a\" 1}", "{\"a\":1,}", "{\"MessageBody\":5}", "{\"a\":1} x", "{\"a\":]}", "{a:1}"])
    func invalidDocuments(_ document: String) {
        #expect(throws: (any Error).self) { _ = try read(Array(document.utf8), cuts: []) }
    }

    @Test func oversizedMemberIsRefused() {
        var reader = StreamingJSONObjectReader(streamedMember: "MessageBody", maxMemberSize: 10)
        let json = Array(#"{"QueueUrl":"0123456789012345"}"#.utf8)
        #expect(throws: SQSError.self) { try json.withUnsafeBytes { try reader.read($0) { _ in } } }
    }
}
