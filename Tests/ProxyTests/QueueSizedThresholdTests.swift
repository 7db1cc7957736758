import ExtendedPayload
import Logging
import NIOCore
import Synchronization
import Testing

@testable import Proxy
@testable import SQSWire

/// `--threshold auto`: a message goes through S3 only when it would not fit its queue's
/// `MaximumMessageSize`, asked of SQS and remembered; when SQS says a message is too long all the
/// same, the size is asked again and the send tried once more.
struct QueueSizedThresholdTests {
    /// An SQS whose queue takes messages of at most `limit` bytes and says so when asked, the sizes
    /// it states taken in turn from `stated` (the last one kept).
    final class SizedQueue: Sendable {
        let limit: Int
        let stated: Mutex<[Int]>
        let asked = Mutex(0)

        init(limit: Int, stated: [Int]) {
            self.limit = limit
            self.stated = Mutex(stated)
        }

        var sqs: FakeSQS {
            FakeSQS(
                answer: { [limit] input in
                    let messages = input["Entries"]?.arrayValue ?? [input]
                    let sizes = messages.map { $0["MessageBody"]?.stringValue?.utf8.count ?? 0 }
                    guard sizes.allSatisfy({ $0 <= limit }), sizes.reduce(0, +) <= limit else {
                        return FakeSQS.answered(
                            status: .badRequest,
                            .object([
                                "__type": .string("com.amazonaws.sqs#InvalidParameterValue"),
                                "message": .string(
                                    "One or more parameters are invalid. Reason: Message must be shorter than \(limit) bytes."
                                ),
                            ]))
                    }
                    return FakeSQS.answered(
                        status: .ok,
                        input["Entries"] == nil
                            ? .object(["MessageId": .string("m"), "MD5OfMessageBody": .string("x")])
                            : .object([
                                "Successful": .array(
                                    messages.map {
                                        .object([
                                            "Id": $0["Id"] ?? .null, "MessageId": .string("m"),
                                            "MD5OfMessageBody": .string("x"),
                                        ])
                                    })
                            ]))
                },
                lookup: { [self] action, _ in
                    guard action == .getQueueAttributes else { return nil }
                    asked.withLock { $0 += 1 }
                    let size = stated.withLock { $0.count > 1 ? $0.removeFirst() : $0[0] }
                    return .object(["Attributes": .object(["MaximumMessageSize": .string(String(size))])])
                })
        }
    }

    static func client(_ store: FakePayloadStore, _ sqs: FakeSQS) throws -> ExtendedClient {
        var settings = try ExtendedClientSendTests.settings()
        settings.thresholdFollowsQueue = true
        return ExtendedClient(
            settings: settings, payloads: store, upstream: sqs, queues: QueueAttributeCache(),
            limits: .streamed(partSize: store.partSize), logger: Logger(label: "test"))
    }

    static func message(_ size: Int) -> JSONValue {
        .object(["QueueUrl": .string("http://sqs/123/q"), "MessageBody": .string(String(repeating: "m", count: size))])
    }

    @Test func aMessageGoesThroughS3OnlyWhenItWouldNotFitItsQueue() async throws {
        let store = FakePayloadStore()
        let queue = SizedQueue(limit: 1024, stated: [1024])
        let client = try Self.client(store, queue.sqs)
        #expect(try await ExtendedClientSendTests.send(client, Self.message(1024)).status == .ok)
        #expect(store.keys.isEmpty)
        #expect(try await ExtendedClientSendTests.send(client, Self.message(1025)).status == .ok)
        #expect(store.keys.count == 1)
        // Asked once, then remembered.
        #expect(queue.asked.withLock { $0 } == 1)
    }

    @Test func aBatchOverItsQueuesSizeOffloadsItsLargestEntriesUntilItFits() async throws {
        let store = FakePayloadStore()
        let queue = SizedQueue(limit: 1024, stated: [1024])
        let entries: [JSONValue] = [400, 500, 300].enumerated().map { index, size in
            .object(["Id": .string("e\(index)"), "MessageBody": .string(String(repeating: "b", count: size))])
        }
        let response = try await ExtendedClientSendTests.send(
            try Self.client(store, queue.sqs),
            .object(["QueueUrl": .string("http://sqs/123/q"), "Entries": .array(entries)]), action: .sendMessageBatch)
        #expect(response.status == .ok)
        #expect(store.keys.count == 1)
    }

    @Test func aQueueWhoseSizeWasLoweredIsAskedAgainAndTheSendTriedOnceMore() async throws {
        let store = FakePayloadStore()
        // The size remembered is stale: the queue takes 1024 bytes now.
        let queue = SizedQueue(limit: 1024, stated: [4096, 1024])
        let sqs = queue.sqs
        let response = try await ExtendedClientSendTests.send(try Self.client(store, sqs), Self.message(2000))
        #expect(response.status == .ok)
        #expect(queue.asked.withLock { $0 } == 2)
        #expect(sqs.sent.withLock { $0.count } == 2)
        #expect(store.keys.count == 1)
    }

    @Test func aSendStillTooLongAfterTheSizeWasAskedAgainGetsSQSsAnswer() async throws {
        let store = FakePayloadStore()
        // SQS keeps stating more than it takes: the second refusal is the client's answer.
        let queue = SizedQueue(limit: 1024, stated: [4096])
        let sqs = queue.sqs
        let response = try await ExtendedClientSendTests.send(try Self.client(store, sqs), Self.message(2000))
        #expect(response.status == .badRequest)
        #expect(sqs.sent.withLock { $0.count } == 2)
        #expect(store.keys.isEmpty)
    }

    @Test func aQueueWhoseSizeCannotBeReadHasSQSsLargestMessageAsItsThreshold() async throws {
        let store = FakePayloadStore()
        let sqs = FakeSQS(
            answer: ExtendedClientSendTests.accepted,
            lookup: { _, _ throws(SQSError) in
                throw SQSError(shape: "AccessDenied", status: 403, message: "not allowed GetQueueAttributes")
            })
        let client = try Self.client(store, sqs)
        #expect(try await ExtendedClientSendTests.send(client, Self.message(300_000)).status == .ok)
        #expect(store.keys.isEmpty)
        #expect(try await ExtendedClientSendTests.send(client, Self.message(1_048_577)).status == .ok)
        #expect(store.keys.count == 1)
    }
}
