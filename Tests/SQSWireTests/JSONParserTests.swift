import Foundation
import Testing

@testable import SQSWire

/// The hand-written parser against Foundation's JSONSerialization: the same values for valid
/// documents, an SQS error for invalid ones.
struct JSONParserTests {
    /// Foundation's reading of a document as a ``JSONValue``: its JSONDecoder, trying each kind of
    /// value in turn (booleans, 64-bit integers, doubles, strings, arrays, objects).
    struct FoundationReading: Decodable {
        var value: JSONValue

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                value = .null
            } else if let bool = try? container.decode(Bool.self) {
                value = .bool(bool)
            } else if let integer = try? container.decode(Int64.self) {
                value = .integer(integer)
            } else if let double = try? container.decode(Double.self) {
                value = .double(double)
            } else if let string = try? container.decode(String.self) {
                value = .string(string)
            } else if let array = try? container.decode([FoundationReading].self) {
                value = .array(array.map(\.value))
            } else {
                value = .object(try container.decode([String: FoundationReading].self).mapValues(\.value))
            }
        }
    }

    static func foundation(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(FoundationReading.self, from: Data(text.utf8)).value
    }

    @Test(arguments: [
        #"{"QueueUrl":"http://q/1/a","MessageBody":"hi","DelaySeconds":5}"#,
        #"  { "a" : [ 1 , -2 , 3.5 , 1e3 , -0.25E-2 , 0 ] , "b" : { } , "c" : [ ] }  "#,
        #"{"t":true,"f":false,"n":null,"nested":{"deeper":{"deepest":[[[]]]}}}"#,
        #"{"escapes":"\" \\ \/ \b \f \n \r \t \u00e9 \u20ac \ud83d\ude00 end"}"#,
        #"{"utf8":"é € 😀 日本","mixed":"a\u0041é"}"#,
        #"{"big":9223372036854775807,"bigger":9223372036854775808,"small":-9223372036854775808}"#,
        #"["a","b"]"#, #""just a string""#, "42", "null",
    ])
    func validDocumentsReadAsFoundationReadsThem(text: String) throws {
        let parsed = try JSONValue.parse(Array(text.utf8))
        #expect(parsed == (try Self.foundation(text)))
    }

    @Test func largeIntegersBecomeDoubles() throws {
        #expect(try JSONValue.parse(Array("9223372036854775808".utf8)) == .double(9_223_372_036_854_775_808))
        #expect(try JSONValue.parse(Array("-12".utf8)) == .integer(-12))
    }

    @Test func aMemberNamedTwiceIsRefusedWhereverItIsRead() throws {
        for document in [#"{"a":1,"a":2}"#, #"{"a":{"b":1,"b":1}}"#, #"[{"c":1,"c":2}]"#] {
            let error = #expect(throws: SQSError.self) { try JSONValue.parse(Array(document.utf8)) }
            #expect(error?.shape == "InvalidParameterValue")
        }
        // Shallow, as a forwarded request is read: only the top level is read, so only it counts.
        #expect(throws: SQSError.self) { try JSONValue.parse(Array(#"{"a":1,"a":2}"#.utf8), shallow: true) }
        #expect(try JSONValue.parse(Array(#"{"a":{"b":1,"b":2}}"#.utf8), shallow: true) == .object(["a": .object([:])]))
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", #"{"a":1,}"#, #"{"a" 1}"#, #"{a:1}"#, "01", "1.", ".5", "-", "1e", "+1",
        "tru", "nul", #""unterminated"#, "\"tab\there\"", #""\x""#, #""\u12G4""#, #""\ud800""#,
        #""\udc00x""#, "[1] [2]", "{} x", "NaN", "1e999",
        String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
    ])
    func invalidDocumentsAreSQSErrors(text: String) {
        #expect(throws: SQSError.self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func aShallowParseKeepsTheTopLevelAndChecksTheRest() throws {
        let text = #"{"QueueUrl":"http://q/1/a","Tags":{"a":"b"},"Names":["x",{"y":[1]}],"Max":3}"#
        let shallow = try JSONValue.parse(Array(text.utf8), shallow: true)
        #expect(
            shallow
                == .object([
                    "QueueUrl": .string("http://q/1/a"), "Tags": .object([:]), "Names": .array([]), "Max": .integer(3),
                ]))
        #expect(try JSONValue.parse(Array(#"["a",["b"]]"#.utf8), shallow: true) == .array([.string("a"), .array([])]))
        #expect(throws: SQSError.self) {
            try JSONValue.parse(Array(#"{"QueueUrl":"q","Tags":{"a":}}"#.utf8), shallow: true)
        }
        #expect(throws: SQSError.self) { try JSONValue.parse(Array(#"{"Tags":["\ud800"]}"#.utf8), shallow: true) }
    }

    @Test func invalidUTF8IsRefused() {
        #expect(throws: SQSError.self) { try JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: SQSError.self) { try JSONValue.parse([0x22, 0xFF, 0x22]) }
    }
}
