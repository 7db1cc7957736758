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
            in: messages, locations: PayloadLocations(buckets: ["own"]), heldPayloadLimit: 1024 * 1024)
        #expect(fetches.map(\.index) == [1, 2, 3])
        #expect(fetches.map(\.streams) == [false, true, true])
        #expect(
            refused == [
                PayloadPointer(bucket: "theirs", key: "secret"), PayloadPointer(bucket: "own", key: "../theirs/secret"),
            ])
    }

    static func fetch(_ index: Int) -> ReceivePlan.Fetch {
        ReceivePlan.Fetch(index: index, pointer: PayloadPointer(bucket: "own", key: "k\(index)"), streams: false)
    }

    @Test func eachMessageIsDecidedFromItsOwnFetchAlone() {
        let plan = ReceivePlan(.object(["QueueUrl": .string("q")]))
        let messages = (0..<5).map { Self.message("m\($0)") }
        let fetches = [1, 2, 3, 4].map(Self.fetch)
        let outcomes: [ReceivePlan.FetchOutcome] = [
            .held, .streamed, .unavailable(.notFound), .unavailable(.accessDenied),
        ]
        #expect(
            plan.decisions(for: messages, fetches: fetches, outcomes: outcomes, ignorePayloadNotFound: false) == [
                .deliver, .restore(fetch: 0), .stream(fetch: 1), .leave(fetch: 2, .notFound),
                .leave(fetch: 3, .accessDenied),
            ])
        // Told to, a missing payload's message is deleted; any other failure still leaves it.
        #expect(
            plan.decisions(for: messages, fetches: fetches, outcomes: outcomes, ignorePayloadNotFound: true) == [
                .deliver, .restore(fetch: 0), .stream(fetch: 1), .delete(fetch: 2), .leave(fetch: 3, .accessDenied),
            ])
        let allLeft = plan.decisions(
            for: messages, fetches: fetches, outcomes: Array(repeating: .unavailable(.failed), count: 4),
            ignorePayloadNotFound: false)
        #expect(allLeft.filter { $0.fetch == nil } == [.deliver])
    }

    static func grouped(_ group: String, _ body: String) -> JSONValue {
        var message = message(body)
        message["Attributes"] = .object(["MessageGroupId": .string(group), "SentTimestamp": .string("1")])
        return message
    }

    @Test func onAFIFOQueueTheLaterMessagesOfALeftMessagesGroupAreLeftWithIt() {
        let plan = ReceivePlan(.object(["QueueUrl": .string("q.fifo")]), fifo: true)
        let messages = [
            Self.grouped("a", "a1"), Self.grouped("b", "b1"), Self.grouped("a", "a2"), Self.grouped("b", "b2"),
            Self.grouped("a", "a3"),
        ]
        let decisions = plan.decisions(
            for: messages, fetches: [0, 2, 3].map(Self.fetch),
            outcomes: [.unavailable(.failed), .held, .unavailable(.notFound)], ignorePayloadNotFound: false)
        #expect(
            decisions == [
                .leave(fetch: 0, .failed), .deliver, .leaveBehind(message: 0), .leave(fetch: 2, .notFound),
                .leaveBehind(message: 0),
            ])
        // A standard queue never holds one message back for another.
        let standard = ReceivePlan(.object(["QueueUrl": .string("q")]))
        #expect(
            standard.decisions(
                for: messages, fetches: [Self.fetch(0)], outcomes: [.unavailable(.failed)],
                ignorePayloadNotFound: false
            ).filter { $0 == .deliver }.count == 4)
    }

    @Test func onAFIFOQueueTheGroupIsAskedForAndRemovedWhenTheClientDidNotAsk() {
        let plan = ReceivePlan(.object(["QueueUrl": .string("q.fifo")]), fifo: true)
        #expect(plan.addsGroupID)
        #expect(plan.input["AttributeNames"] == .array([.string("MessageGroupId")]))
        #expect(plan.delivered(Self.grouped("a", "x"))["Attributes"] == .object(["SentTimestamp": .string("1")]))
        for asked in ["All", "MessageGroupId"] {
            for member in ["AttributeNames", "MessageSystemAttributeNames"] {
                let asking = ReceivePlan(
                    .object(["QueueUrl": .string("q.fifo"), member: .array([.string(asked)])]), fifo: true)
                #expect(!asking.addsGroupID)
                #expect(asking.delivered(Self.grouped("a", "x")) == Self.grouped("a", "x"))
            }
        }
        #expect(!ReceivePlan(.object(["QueueUrl": .string("q")])).addsGroupID)
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
        let handles = MarkedHandles(batch, batch: true, locations: PayloadLocations(buckets: ["own"]))
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
            .object(["QueueUrl": .string("q"), "ReceiptHandle": .string("plain")]), batch: false, locations: .any)
        #expect(!single.anyMarked && single.payloads.isEmpty)
    }
}
