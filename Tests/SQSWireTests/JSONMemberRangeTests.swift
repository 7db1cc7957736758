import Foundation
import Testing

@testable import SQSWire

struct JSONMemberRangeTests {
    static func range(_ name: String, _ json: String) -> String? {
        let bytes = Array(json.utf8)
        return bytes.withUnsafeBytes { JSONMemberRange.of(name, in: $0) }.map {
            String(decoding: bytes[$0], as: UTF8.self)
        }
    }

    @Test func theValueOfAMemberIsFoundPastNestedValues() {
        let json = #"{"a":[1,{"Message":"no"},"]"],"b":{"c":"}\"{"},"n":-1.5e3,"t":true,"Message":"yes","z":null}"#
        #expect(Self.range("Message", json) == #""yes""#)
        #expect(Self.range("n", json) == "-1.5e3")
        #expect(Self.range("b", json) == #"{"c":"}\"{"}"#)
        #expect(Self.range("z", json) == "null")
        #expect(Self.range("c", json) == nil)
        #expect(Self.range("Message", #" { "Mess\u0061ge" : "escaped key" } "#) == #""escaped key""#)
    }

    @Test func aMemberNamedTwiceOrNotAtAllHasNoRange() {
        #expect(Self.range("QueueUrl", #"{"QueueUrl":"a","QueueUrl":"b"}"#) == nil)
        #expect(Self.range("QueueUrl", #"{"QueueUrl":"a","Queue\u0055rl":"b"}"#) == nil)
        #expect(Self.range("QueueUrl", #"{"MessageBody":"QueueUrl"}"#) == nil)
        #expect(Self.range("QueueUrl", #"["QueueUrl","a"]"#) == nil)
    }

    @Test func replacingAStringKeepsEveryOtherByte() throws {
        let json = "{ \"QueueUrl\" : \"http://proxy/1/q\",\n \"MessageBody\": \"b\\u00e9\", \"DelaySeconds\": 1.50 }"
        let replaced = try #require(
            Array(json.utf8).withUnsafeBytes {
                JSONMemberRange.replacing("QueueUrl", withString: "https://sqs/1/q\"", in: $0)
            })
        #expect(
            String(decoding: replaced, as: UTF8.self)
                == "{ \"QueueUrl\" : \"https://sqs/1/q\\\"\",\n \"MessageBody\": \"b\\u00e9\", \"DelaySeconds\": 1.50 }"
        )
    }
}
