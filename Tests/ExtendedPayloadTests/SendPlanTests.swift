import SQSWire
import Testing

@testable import ExtendedPayload

struct SendPlanTests {
    static let policy = OffloadPolicy(threshold: 100, maxPayloadSize: 1 << 31, canOffload: true)

    /// Keys `k1`, `k2`, … in the order the plan asks for them.
    final class Keys {
        var count = 0
        func next() -> String {
            count += 1
            return "k\(count)"
        }
    }

    static func message(_ body: String, id: String? = nil, attributes: [String: String] = [:]) -> JSONValue {
        var members: [String: JSONValue] = ["MessageBody": .string(body)]
        if let id { members["Id"] = .string(id) }
        if !attributes.isEmpty {
            members["MessageAttributes"] = .object(
                attributes.mapValues { .object(["DataType": .string("String"), "StringValue": .string($0)]) })
        }
        return .object(members)
    }

    static func batch(_ entries: [JSONValue]) -> JSONValue {
        .object(["QueueUrl": .string("http://sqs/q"), "Entries": .array(entries)])
    }

    @Test func aSmallMessageStaysInline() throws {
        let plan = try SendPlan(
            action: .sendMessage, tree: Self.message("small"), stored: [:], policy: Self.policy, bucket: "b",
            newKey: Keys().next)
        #expect(!plan.offloads)
        #expect(plan.uploads.isEmpty && plan.keys.isEmpty)
    }

    @Test func aLargeMessageGoesToS3AsAPointer() throws {
        let body = String(repeating: "é", count: 60)
        let tree = Self.message(body, attributes: ["a": "v"])
        let plan = try SendPlan(
            action: .sendMessage, tree: tree, stored: [:], policy: Self.policy, bucket: "b", newKey: Keys().next)
        #expect(plan.offloads)
        #expect(plan.uploads.map(\.key) == ["k1"] && plan.uploads.map(\.body) == [body])
        let input = plan.input(tree, contentDeduplication: false)
        #expect(input["MessageBody"] == .string(PayloadPointer(bucket: "b", key: "k1").encoded))
        #expect(input["MessageAttributes"]?["ExtendedPayloadSize"]?["StringValue"] == .string("120"))
        #expect(input["MessageAttributes"]?["a"] != nil)
        #expect(input["MessageDeduplicationId"] == nil)

        let (result, refused) = plan.result(
            .object(["MessageId": .string("m"), "MD5OfMessageBody": .string("pointer-md5")]))
        #expect(result["MD5OfMessageBody"] == .string(MessageDigest.body(body)))
        #expect(result["MD5OfMessageAttributes"] != nil)
        #expect(refused.isEmpty)
    }

    @Test func contentDeduplicationGetsTheBodysHashUnlessTheClientGaveAnId() throws {
        let body = String(repeating: "x", count: 200)
        let plan = try SendPlan(
            action: .sendMessage, tree: Self.message(body), stored: [:], policy: Self.policy, bucket: "b",
            newKey: Keys().next)
        #expect(
            plan.input(Self.message(body), contentDeduplication: true)["MessageDeduplicationId"]
                == .string(MessageDigest.sha256(body)))
        var given = Self.message(body)
        given["MessageDeduplicationId"] = .string("mine")
        let withID = try SendPlan(
            action: .sendMessage, tree: given, stored: [:], policy: Self.policy, bucket: "b", newKey: Keys().next)
        #expect(withID.input(given, contentDeduplication: true)["MessageDeduplicationId"] == .string("mine"))
    }

    @Test func aBatchOverTheLimitOffloadsItsLargestEntries() throws {
        let policy = OffloadPolicy(threshold: 262_144, maxPayloadSize: 1 << 31, canOffload: true)
        let entries = (0..<5).map { Self.message(String(repeating: "x", count: 250_000 + $0), id: "e\($0)") }
        let plan = try SendPlan(
            action: .sendMessageBatch, tree: Self.batch(entries), stored: [:], policy: policy, bucket: "b",
            newKey: Keys().next)
        // Entry e4 is the largest: offloading it brings the batch under 1 MiB.
        #expect(plan.entries.map { $0.key != nil } == [false, false, false, false, true])
        let input = plan.input(Self.batch(entries), contentDeduplication: false)
        #expect(input["QueueUrl"] == .string("http://sqs/q"))
        #expect(input["Entries"]?.arrayValue?[4]["MessageBody"]?.stringValue?.hasPrefix("[\"software") == true)
        #expect(input["Entries"]?.arrayValue?[0] == entries[0])
    }

    @Test func storedBodiesKeepTheirKeysAndAreNotUploadedAgain() throws {
        let stored = StoredPayload(key: "streamed", length: 5_000_000, md5Hex: "md5", sha256Hex: "sha")
        let pointer = PayloadPointer(bucket: "b", key: "streamed").encoded
        let tree = Self.batch([
            Self.message(pointer, id: "big"), Self.message(String(repeating: "y", count: 150), id: "mid"),
            Self.message("s", id: "small"),
        ])
        let plan = try SendPlan(
            action: .sendMessageBatch, tree: tree, stored: [0: stored], policy: Self.policy, bucket: "b",
            newKey: Keys().next)
        #expect(plan.uploads.map(\.key) == ["k2"])
        #expect(plan.keys == ["streamed", "k2"])
        let input = plan.input(tree, contentDeduplication: true)
        let big = try #require(input["Entries"]?.arrayValue?[0])
        #expect(big["MessageAttributes"]?["ExtendedPayloadSize"]?["StringValue"] == .string("5000000"))
        #expect(big["MessageDeduplicationId"] == .string("sha"))
        #expect(big["MessageBody"] == .string(pointer))

        let (result, refused) = plan.result(
            .object([
                "Successful": .array([.object(["Id": .string("big"), "MD5OfMessageBody": .string("x")])]),
                "Failed": .array([.object(["Id": .string("mid"), "Code": .string("InternalError")])]),
            ]))
        #expect(result["Successful"]?.arrayValue?[0]["MD5OfMessageBody"] == .string("md5"))
        #expect(refused == ["k2"])
    }

    @Test func aBodyTheReceivePathWouldRestoreIsRefused() throws {
        let envelope = SNSEnvelopeTests.envelope()
        #expect(throws: SQSError.self) {
            try SendPlan(
                action: .sendMessage, tree: Self.message(envelope), stored: [:], policy: Self.policy, bucket: "b",
                newKey: Keys().next)
        }
        #expect(throws: SQSError.self) {
            try SendPlan(
                action: .sendMessageBatch,
                tree: Self.batch([Self.message("x", id: "a"), Self.message(envelope, id: "b")]),
                stored: [:], policy: Self.policy, bucket: nil, newKey: Keys().next)
        }
        // A notification without a pointer is any other body.
        _ = try SendPlan(
            action: .sendMessage, tree: Self.message(SNSEnvelopeTests.envelope(message: "hello")), stored: [:],
            policy: Self.policy, bucket: "b", newKey: Keys().next)
    }

    @Test func invalidMessagesAndRepeatedIdsAreRefusedBeforeAnything() {
        #expect(throws: SQSError.self) {
            try SendPlan(
                action: .sendMessage, tree: Self.message("x", attributes: ["ExtendedPayloadSize": "1"]), stored: [:],
                policy: Self.policy, bucket: "b", newKey: Keys().next)
        }
        #expect(throws: SQSError.self) {
            try SendPlan(
                action: .sendMessage, tree: Self.message(""), stored: [:], policy: Self.policy, bucket: "b",
                newKey: Keys().next)
        }
        let stored = StoredPayload(key: "s", length: 500, md5Hex: "", sha256Hex: "")
        let repeated = #expect(throws: SQSError.self) {
            try SendPlan(
                action: .sendMessageBatch, tree: Self.batch([Self.message("x", id: "a"), Self.message("y", id: "a")]),
                stored: [0: stored], policy: Self.policy, bucket: "b", newKey: Keys().next)
        }
        #expect(repeated?.queryCode == "AWS.SimpleQueueService.BatchEntryIdsNotDistinct")
    }

    @Test func withoutABucketNothingIsOffloaded() throws {
        let policy = OffloadPolicy(threshold: 100, maxPayloadSize: 1 << 31, canOffload: false)
        let plan = try SendPlan(
            action: .sendMessageBatch,
            tree: Self.batch((0..<5).map { Self.message(String(repeating: "x", count: 250_000), id: "e\($0)") }),
            stored: [:], policy: policy, bucket: nil, newKey: Keys().next)
        #expect(!plan.offloads)
    }
}
