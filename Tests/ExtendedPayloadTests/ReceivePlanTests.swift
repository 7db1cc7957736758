import SQSWire
import Testing

@testable import ExtendedPayload

struct ReceivePlanTests {
    static func message(_ body: String, size: String? = "300000", handle: String = "h") -> JSONValue {
        var members: [String: JSONValue] = ["Body": .string(body), "ReceiptHandle": .string(handle)]
        if let size {
            members["MessageAttributes"] = .object([
                "ExtendedPayloadSize": .object(["DataType": .string("Number"), "StringValue": .string(size)])
            ])
        }
        return .object(members)
    }

    static func pointer(_ bucket: String, _ key: String) -> String {
        PayloadPointer(bucket: bucket, key: key).encoded
    }

    @Test func theInputAsksForTheReservedAttributes() {
        let asked: JSONValue = .object(["QueueUrl": .string("q"), "MessageAttributeNames": .array([.string("All")])])
        #expect(ReceivePlan(asked).inputUnchanged)
        let plan = ReceivePlan(.object(["QueueUrl": .string("q")]))
        #expect(!plan.inputUnchanged)
        #expect(plan.input["MessageAttributeNames"]?.arrayValue?.count == 2)
    }

    @Test func onlyAllowedPointersAreFetchedSmallOnesWhole() {
        let plan = ReceivePlan(.object(["QueueUrl": .string("q")]))
        let messages = [
            Self.message("plain text", size: nil),
            Self.message(Self.pointer("own", "small"), size: "1000"),
            Self.message(Self.pointer("own", "large"), size: "5000000"),
            Self.message(Self.pointer("own", "unknown"), size: "not a number"),
            Self.message(Self.pointer("theirs", "secret")),
            Self.message(Self.pointer("own", "../theirs/secret")),
            Self.message(Self.pointer("own", "no-attribute"), size: nil),
        ]
        let (fetches, refused) = plan.fetches(
            in: messages, buckets: PayloadBuckets(["own"]), heldPayloadLimit: 1024 * 1024)
        #expect(fetches.map(\.index) == [1, 2, 3])
        #expect(fetches.map(\.streams) == [false, true, true])
        #expect(
            refused == [
                PayloadPointer(bucket: "theirs", key: "secret"), PayloadPointer(bucket: "own", key: "../theirs/secret"),
            ])
    }

    @Test func markersAreRemovedAndOnlyAllowedPayloadsKept() {
        let own = MarkedReceiptHandle(pointer: PayloadPointer(bucket: "own", key: "k1"), original: "h-1").marked
        let theirs = MarkedReceiptHandle(pointer: PayloadPointer(bucket: "theirs", key: "k2"), original: "h-2").marked
        let batch: JSONValue = .object([
            "QueueUrl": .string("q"),
            "Entries": .array([
                .object(["Id": .string("a"), "ReceiptHandle": .string(own)]),
                .object(["Id": .string("b"), "ReceiptHandle": .string(theirs)]),
                .object(["Id": .string("c"), "ReceiptHandle": .string("plain")]),
            ]),
        ])
        let handles = MarkedHandles(batch, batch: true, buckets: PayloadBuckets(["own"]))
        #expect(handles.anyMarked)
        #expect(
            handles.input["Entries"]?.arrayValue?.compactMap { $0["ReceiptHandle"]?.stringValue } == [
                "h-1", "h-2", "plain",
            ])
        #expect(handles.payloads == ["a": PayloadPointer(bucket: "own", key: "k1")])
        #expect(handles.refused == [PayloadPointer(bucket: "theirs", key: "k2")])
        let confirmed: JSONValue = .object([
            "Successful": .array([.object(["Id": .string("b")]), .object(["Id": .string("c")])]),
            "Failed": .array([.object(["Id": .string("a")])]),
        ])
        #expect(handles.deleted(byBatchResult: confirmed).isEmpty)
        #expect(
            handles.deleted(byBatchResult: .object(["Successful": .array([.object(["Id": .string("a")])])]))
                == [PayloadPointer(bucket: "own", key: "k1")])

        let single = MarkedHandles(
            .object(["QueueUrl": .string("q"), "ReceiptHandle": .string("plain")]), batch: false, buckets: .any)
        #expect(!single.anyMarked && single.payloads.isEmpty)
    }
}
