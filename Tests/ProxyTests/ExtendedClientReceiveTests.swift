import ExtendedPayload
import Logging
import NIOCore
import NIOHTTP1
import RequestLimits
import SQSWire
import Synchronization
import Testing

@testable import Proxy
@testable import ServerEdge

/// Receive, delete and visibility changes carried out against in-memory fakes of S3 and SQS.
struct ExtendedClientReceiveTests {
    static func client(_ store: FakePayloadStore, _ sqs: FakeSQS, ignorePayloadNotFound: Bool = false) throws
        -> ExtendedClient
    {
        ExtendedClient(
            settings: try ExtendedClientSendTests.settings(ignorePayloadNotFound: ignorePayloadNotFound),
            payloads: store,
            upstream: sqs, queues: QueueAttributeCache(), limits: .streamed(partSize: store.partSize),
            logger: Logger(label: "test"))
    }

    /// The extended client's answer to a JSON request of `action` with `input`.
    static func respond(_ client: ExtendedClient, _ action: SQSAction, _ input: JSONValue) async throws(SQSError)
        -> ProxyResponse
    {
        let body = ByteBuffer(bytes: input.serialized())
        let request = try body.withUnsafeReadableBytes { bytes throws(SQSError) in
            try SQSRequestDecoder.decode(
                target: "AmazonSQS." + action.rawValue, contentType: "application/x-amz-json-1.0", path: "/",
                queryString: "", body: bytes)
        }
        let head = HTTPRequestHead(
            version: .http1_1, method: .POST, uri: "/",
            headers: ["Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS." + action.rawValue])
        return try await client.handle(request, tree: request.tree!, client: ClientRequest(head: head, body: body))
    }

    /// The result of a successful call.
    static func call(_ client: ExtendedClient, _ action: SQSAction, _ input: JSONValue) async throws(SQSError)
        -> JSONValue
    {
        let response = try await respond(client, action, input)
        #expect(response.status == .ok)
        return try response.body.withUnsafeReadableBytes { bytes throws(SQSError) in try JSONValue.parse(bytes) }
    }

    static func offloaded(_ bucket: String, _ key: String, handle: String, size: Int = 11) -> JSONValue {
        .object([
            "MessageId": .string(handle), "ReceiptHandle": .string(handle),
            "Body": .string(PayloadPointer(bucket: bucket, key: key).encoded), "MD5OfBody": .string("x"),
            "MessageAttributes": .object([
                "ExtendedPayloadSize": .object(["DataType": .string("Number"), "StringValue": .string(String(size))])
            ]),
        ])
    }

    static func receiving(_ messages: [JSONValue]) -> FakeSQS {
        FakeSQS(answer: { _ in FakeSQS.answered(status: .ok, .object(["Messages": .array(messages)])) })
    }

    static let receive: JSONValue = .object(["QueueUrl": .string("http://sqs/1/q")])

    @Test func payloadsAreRestoredAndForeignPointersLeftAlone() async throws {
        let store = FakePayloadStore()
        try await store.put(bucket: "payloads", key: "k", body: ByteBuffer(string: "the payload"))
        let foreign = Self.offloaded("theirs", "secret", handle: "h2")
        let sqs = Self.receiving([Self.offloaded("payloads", "k", handle: "h1"), foreign])
        let result = try await Self.call(try Self.client(store, sqs), .receiveMessage, Self.receive)
        let messages = result["Messages"]?.arrayValue ?? []
        #expect(messages[0]["Body"] == .string("the payload"))
        #expect(messages[0]["MD5OfBody"] == .string(MessageDigest.body("the payload")))
        #expect(
            messages[0]["ReceiptHandle"]
                == .string(
                    MarkedReceiptHandle(pointer: PayloadPointer(bucket: "payloads", key: "k"), original: "h1").marked))
        #expect(messages[0]["MessageAttributes"] == nil)
        #expect(messages[1] == foreign)
        #expect(sqs.sent.withLock { $0 }.first?["MessageAttributeNames"]?.arrayValue?.count == 2)
    }

    @Test func aPayloadDeliveredInAnSNSEnvelopeIsRestoredInsideIt() async throws {
        let store = FakePayloadStore()
        try await store.put(bucket: "payloads", key: "k", body: ByteBuffer(string: "the \"payload\""))
        let envelope =
            #"{"Type":"Notification","Message":"#
            + PayloadPointer(bucket: "payloads", key: "k").encoded.debugDescription
            + #","MessageAttributes":{"ExtendedPayloadSize":{"Type":"Number","Value":"13"}}}"#
        let message: JSONValue = .object([
            "MessageId": .string("m"), "ReceiptHandle": .string("h1"), "Body": .string(envelope),
            "MD5OfBody": .string(MessageDigest.body(envelope)),
        ])
        let result = try await Self.call(
            try Self.client(store, Self.receiving([message])), .receiveMessage, Self.receive)
        let restored = try #require(result["Messages"]?.arrayValue?.first)
        let body =
            #"{"Type":"Notification","Message":"the \"payload\"","MessageAttributes":{"ExtendedPayloadSize":{"Type":"Number","Value":"13"}}}"#
        #expect(restored["Body"] == .string(body))
        #expect(restored["MD5OfBody"] == .string(MessageDigest.body(body)))
        #expect(
            restored["ReceiptHandle"]
                == .string(
                    MarkedReceiptHandle(pointer: PayloadPointer(bucket: "payloads", key: "k"), original: "h1").marked))
    }

    @Test func aPayloadTheMemoryBudgetHasNoRoomForStreamsIntoTheResponse() async throws {
        let store = FakePayloadStore()
        try await store.put(bucket: "payloads", key: "k", body: ByteBuffer(string: "the payload"))
        let messages: [JSONValue] = [Self.offloaded("payloads", "k", handle: "h1")]
        func receive(budget: MemoryBudget, spentBySQSAnswer: Bool) async throws -> (
            ProxyResponse, held: Int, forwarded: Int
        ) {
            let sqs = FakeSQS(answer: { _ in
                // Other requests spend the budget while this one waits for SQS.
                if spentBySQSAnswer { budget.charge(budget.limit) }
                return FakeSQS.answered(status: .ok, .object(["Messages": .array(messages)]))
            })
            let lease = MemoryLease(budget: budget)
            let response = try await MemoryLease.$current.withValue(lease) {
                try await Self.respond(try Self.client(store, sqs), .receiveMessage, Self.receive)
            }
            return (response, lease.bytes, sqs.sent.withLock { $0.last?.serialized().count ?? 0 })
        }
        // With room, read whole and counted as it is, with the request written again for SQS (the
        // fake SQS's answer is not counted).
        let (held, heldBytes, forwarded) = try await receive(
            budget: MemoryBudget(limit: 4 * 1024 * 1024), spentBySQSAnswer: false)
        #expect(held.streamedBody == nil && held.body.readableBytes > 0)
        #expect(forwarded > 0 && heldBytes == "the payload".utf8.count + forwarded)
        // Spent: the same payload streams.
        let (streamed, _, _) = try await receive(budget: MemoryBudget(limit: 4 * 1024 * 1024), spentBySQSAnswer: true)
        #expect(streamed.streamedBody != nil)
    }

    @Test func aMessageWhosePayloadCannotBeHadIsLeftInTheQueueAndTheOthersDelivered() async throws {
        let store = FakePayloadStore()
        try await store.put(bucket: "payloads", key: "k", body: ByteBuffer(string: "the payload"))
        let plain: JSONValue = .object([
            "MessageId": .string("p"), "ReceiptHandle": .string("hp"), "Body": .string("small"),
            "MD5OfBody": .string(MessageDigest.body("small")),
        ])
        let messages = [
            plain, Self.offloaded("payloads", "gone", handle: "h-gone"), Self.offloaded("payloads", "k", handle: "h"),
        ]
        let deletedHandles = Mutex<[String]>([])
        let sqs = FakeSQS(
            answer: { _ in FakeSQS.answered(status: .ok, .object(["Messages": .array(messages)])) },
            lookup: { action, input in
                if action == .deleteMessage {
                    deletedHandles.withLock { $0.append(input["ReceiptHandle"]?.stringValue ?? "") }
                }
                return .object([:])
            })
        let result = try await Self.call(try Self.client(store, sqs), .receiveMessage, Self.receive)
        #expect(result["Messages"]?.arrayValue?.compactMap { $0["MessageId"]?.stringValue } == ["p", "h"])
        #expect(deletedHandles.withLock { $0 }.isEmpty)
        // Told to, the proxy deletes the message of a missing payload instead.
        let ignoring = try await Self.call(
            try Self.client(store, sqs, ignorePayloadNotFound: true), .receiveMessage, Self.receive)
        #expect(ignoring["Messages"]?.arrayValue?.count == 2)
        #expect(deletedHandles.withLock { $0 } == ["h-gone"])
        // Every message held back: an empty receive, not an error.
        let alone = try await Self.call(
            try Self.client(FakePayloadStore(), Self.receiving([messages[1]])), .receiveMessage, Self.receive)
        #expect(alone["Messages"] == nil)
    }

    @Test func aPayloadLargerThanItsSizeAttributeSaysStreams() async throws {
        let store = FakePayloadStore()
        let large = String(repeating: "x", count: RequestLimits.maxHeldPayloadSize + 1)
        try await store.put(bucket: "payloads", key: "k", body: ByteBuffer(string: large))
        let client = try Self.client(store, Self.receiving([Self.offloaded("payloads", "k", handle: "h", size: 10)]))
        let response = try await Self.respond(client, .receiveMessage, Self.receive)
        #expect(response.status == .ok)
        #expect(response.streamedBody != nil)
    }

    @Test func aPayloadIsDeletedOnlyAfterSQSDeletedItsMessage() async throws {
        let store = FakePayloadStore()
        try await store.put(bucket: "payloads", key: "k", body: ByteBuffer(string: "p"))
        let marked = MarkedReceiptHandle(pointer: PayloadPointer(bucket: "payloads", key: "k"), original: "h").marked
        let input: JSONValue = .object(["QueueUrl": .string("http://sqs/1/q"), "ReceiptHandle": .string(marked)])

        let refusing = FakeSQS(answer: { _ in
            FakeSQS.answered(status: .badRequest, .object(["__type": .string("ReceiptHandleIsInvalid")]))
        })
        let refused = try await Self.respond(try Self.client(store, refusing), .deleteMessage, input)
        #expect(refused.status == .badRequest)
        #expect(store.keys == ["k"])
        #expect(refusing.sent.withLock { $0 }.first?["ReceiptHandle"] == .string("h"))

        let accepting = FakeSQS(answer: { _ in FakeSQS.answered(status: .ok, .object([:])) })
        _ = try await Self.call(try Self.client(store, accepting), .deleteMessage, input)
        #expect(store.keys.isEmpty)
    }

    @Test func aBatchDeletesThePayloadsOfTheEntriesSQSDeleted() async throws {
        let store = FakePayloadStore()
        for key in ["a", "b", "t"] { try await store.put(bucket: "payloads", key: key, body: ByteBuffer(string: key)) }
        func handle(_ bucket: String, _ key: String) -> JSONValue {
            .string(MarkedReceiptHandle(pointer: PayloadPointer(bucket: bucket, key: key), original: "h-" + key).marked)
        }
        let input: JSONValue = .object([
            "QueueUrl": .string("http://sqs/1/q"),
            "Entries": .array([
                .object(["Id": .string("1"), "ReceiptHandle": handle("payloads", "a")]),
                .object(["Id": .string("2"), "ReceiptHandle": handle("payloads", "b")]),
                .object(["Id": .string("3"), "ReceiptHandle": handle("theirs", "t")]),
            ]),
        ])
        let sqs = FakeSQS(answer: { _ in
            FakeSQS.answered(
                status: .ok,
                .object([
                    "Successful": .array([.object(["Id": .string("1")]), .object(["Id": .string("3")])]),
                    "Failed": .array([.object(["Id": .string("2"), "Code": .string("ReceiptHandleIsInvalid")])]),
                ]))
        })
        _ = try await Self.call(try Self.client(store, sqs), .deleteMessageBatch, input)
        // "a" was deleted with its message; "b"'s message is still there; "t" names another bucket.
        #expect(store.keys == ["b", "t"])
        #expect(store.deleted.withLock { $0 } == ["a"])
    }
}
