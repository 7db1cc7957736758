import SQSWire
import Testing

@testable import ExtendedPayload

struct MessageRewritingTests {
    let pointer = PayloadPointer(bucket: "b", key: "k")

    @Test func offloadReplacesBodyAndAddsTheReservedAttribute() {
        let entry: JSONValue = .object([
            "Id": .string("1"), "MessageBody": .string("big"), "MessageGroupId": .string("g"),
            "MessageAttributes": .object(["a": .object(["DataType": .string("String"), "StringValue": .string("v")])]),
        ])
        let offloaded = MessageRewriting.offload(
            entry, pointer: pointer, bodyBytes: 300_000, reservedName: "SQSLargePayloadSize")
        #expect(offloaded["MessageBody"] == .string(pointer.encoded))
        #expect(offloaded["MessageGroupId"] == .string("g"))
        #expect(offloaded["Id"] == .string("1"))
        #expect(
            offloaded["MessageAttributes"]?["SQSLargePayloadSize"]
                == .object(["DataType": .string("Number"), "StringValue": .string("300000")]))
        #expect(offloaded["MessageAttributes"]?["a"] != nil)
        #expect(
            MessageRewriting.offloadedSize(
                pointerLength: 100, attributesSize: 10, bodyBytes: 300_000, reservedName: "ExtendedPayloadSize")
                == 100 + 10 + 19 + 6 + 6)
    }

    @Test func receiveRequestAsksForReservedNamesUnlessAllWereAsked() {
        let (some, filter) = MessageRewriting.receiveRequest(
            .object(["QueueUrl": .string("u"), "MessageAttributeNames": .array([.string("a")])]))
        #expect(
            some["MessageAttributeNames"]
                == .array([.string("a"), .string("ExtendedPayloadSize"), .string("SQSLargePayloadSize")]))
        #expect(filter.includes("a") && !filter.includes("b") && !filter.includes("ExtendedPayloadSize"))
        let none = MessageRewriting.receiveRequest(.object(["QueueUrl": .string("u")])).tree
        #expect(none["MessageAttributeNames"]?.arrayValue?.count == 2)
        let all: JSONValue = .object(["QueueUrl": .string("u"), "MessageAttributeNames": .array([.string("All")])])
        #expect(MessageRewriting.receiveRequest(all).tree == all)
    }

    @Test func filterPrefixes() {
        let filter = AttributeNameFilter(requested: ["trace.*", "exact"])
        #expect(filter.includes("trace.id") && filter.includes("exact"))
        #expect(!filter.includes("tracer") && !filter.includes("exactly"))
        #expect(AttributeNameFilter(requested: [".*"]).includesAll)
    }

    @Test func restoreRewritesBodyDigestsAttributesAndHandle() throws {
        let message: JSONValue = .object([
            "MessageId": .string("m"), "ReceiptHandle": .string("AQ-EB"), "Body": .string(pointer.encoded),
            "MD5OfBody": .string("pointer-md5"), "MD5OfMessageAttributes": .string("old"),
            "MessageAttributes": .object([
                "ExtendedPayloadSize": .object(["DataType": .string("Number"), "StringValue": .string("4")]),
                "attribute-1": .object(["DataType": .string("String"), "StringValue": .string("tmp")]),
                "other": .object(["DataType": .string("String"), "StringValue": .string("x")]),
            ]),
        ])
        #expect(MessageRewriting.isOffloaded(message))
        let restored = try MessageRewriting.restore(
            message, payload: "Body", pointer: pointer, filter: AttributeNameFilter(requested: ["attribute-1"]))
        #expect(restored["Body"] == .string("Body"))
        #expect(restored["MD5OfBody"] == .string("ac101b32dda4448cf13a93fe283dddd8"))
        #expect(restored["MessageAttributes"]?.objectValue?.keys.sorted() == ["attribute-1"])
        #expect(restored["MD5OfMessageAttributes"] == .string("43eeb333d10515533e317490584ea243"))
        #expect(restored["ReceiptHandle"] == .string(MarkedReceiptHandle(pointer: pointer, original: "AQ-EB").marked))
        let bare = try MessageRewriting.restore(
            message, payload: "Body", pointer: pointer, filter: AttributeNameFilter(requested: []))
        #expect(bare["MessageAttributes"] == nil)
        #expect(bare["MD5OfMessageAttributes"] == nil)
    }

    @Test func sendResultCarriesTheClientsDigests() {
        let result: JSONValue = .object([
            "MessageId": .string("m"), "MD5OfMessageBody": .string("pointer"),
            "MD5OfMessageAttributes": .string("with-reserved"),
            "MD5OfMessageSystemAttributes": .string("system"),
        ])
        let fixed = MessageRewriting.sendResult(result, bodyMD5: MessageDigest.body("Body"), attributes: [:])
        #expect(fixed["MD5OfMessageBody"] == .string("ac101b32dda4448cf13a93fe283dddd8"))
        #expect(fixed["MD5OfMessageAttributes"] == nil)
        #expect(fixed["MD5OfMessageSystemAttributes"] == .string("system"))
        let withAttributes = MessageRewriting.sendResult(
            result, bodyMD5: MessageDigest.body("Body"),
            attributes: ["attribute-1": MessageAttribute(dataType: "String", value: .string("tmp"))])
        #expect(withAttributes["MD5OfMessageAttributes"] == .string("43eeb333d10515533e317490584ea243"))
    }
}
