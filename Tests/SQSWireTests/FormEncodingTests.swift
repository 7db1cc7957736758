import Testing

@testable import SQSWire

struct FormEncodingTests {
    @Test func decodesPlusPercentAndUTF8() throws {
        let parameters = try QueryParameters.parse(Array("a=x+y&b=%E2%82%AC%26&c&=v&d=".utf8))
        #expect(parameters.pairs.map(\.name) == ["a", "b", "c", "", "d"])
        #expect(parameters["a"] == "x y")
        #expect(parameters["b"] == "€&")
        #expect(parameters["c"] == "")
    }

    @Test func roundTripsEveryByte() throws {
        let value = String((1...0x7F).map { Character(UnicodeScalar(UInt8($0))) }) + "ሴ€😀"
        let encoded = QueryParameters([("k=&", value)]).encoded()
        #expect(try QueryParameters.parse(encoded) == QueryParameters([("k=&", value)]))
    }

    @Test func rejectsTruncatedEscapes() {
        for bad in ["a=%", "a=%4", "a=%G0", "%C3%28=x"] {
            #expect(throws: SQSError.self) { try QueryParameters.parse(Array(bad.utf8)) }
        }
    }
}
