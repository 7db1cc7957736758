import AsyncHTTPClient
import ExtendedPayload
import Logging
import NIOCore
import NIOHTTP1
import ObjectStore
import SQSWire
import Synchronization
import Testing

@testable import Proxy
@testable import ServerEdge

/// An in-memory bucket that can fail chosen calls.
final class FakePayloadStore: PayloadStore {
    let partSize = 8 * 1024 * 1024
    let partsInFlight = 4
    let objects = Mutex<[String: ByteBuffer]>([:])
    let deleted = Mutex<[String]>([])
    /// Puts of keys for which this is true fail.
    let failPut: @Sendable (String) -> Bool

    init(failPut: @escaping @Sendable (String) -> Bool = { _ in false }) {
        self.failPut = failPut
    }

    var keys: Set<String> { objects.withLock { Set($0.keys) } }

    func put(bucket: String, key: String, body: ByteBuffer) async throws(ObjectStoreError) {
        guard !failPut(key) else { throw ObjectStoreError(.rejected, bucket: bucket, key: key, detail: "injected") }
        objects.withLock { $0[key] = body }
    }

    func upload(bucket: String, key: String, nextPart: () async throws -> MultipartUploader.Part?) async throws {
        var body = ByteBuffer()
        while let part = try await nextPart() {
            guard case .bytes(var bytes) = part else { continue }
            body.writeBuffer(&bytes)
        }
        try await put(bucket: bucket, key: key, body: body)
    }

    func get(bucket: String, key: String, maxSize: Int) async throws(ObjectStoreError) -> ByteBuffer {
        guard let body = objects.withLock({ $0[key] }) else {
            throw ObjectStoreError(.objectNotFound, bucket: bucket, key: key, detail: "NoSuchKey")
        }
        guard body.readableBytes <= maxSize else {
            throw ObjectStoreError(.tooLarge, bucket: bucket, key: key, detail: "\(body.readableBytes) bytes")
        }
        return body
    }

    func open(bucket: String, key: String, maxSize: Int, rangeSize: Int?) async throws(ObjectStoreError) -> ObjectBody {
        ObjectBody(stream: .bytes(try await get(bucket: bucket, key: key, maxSize: maxSize)))
    }

    func delete(bucket: String, key: String) async throws(ObjectStoreError) {
        objects.withLock { $0[key] = nil }
        deleted.withLock { $0.append(key) }
    }
}

/// An SQS that answers sends from a script and records what it was sent.
final class FakeSQS: SQSCalls {
    let sent = Mutex<[JSONValue]>([])
    let answer: @Sendable (JSONValue) -> UpstreamOutcome
    let lookup: @Sendable (SQSAction, JSONValue) throws(SQSError) -> JSONValue?

    init(
        answer: @escaping @Sendable (JSONValue) -> UpstreamOutcome,
        lookup: @escaping @Sendable (SQSAction, JSONValue) throws(SQSError) -> JSONValue? = { _, _ in nil }
    ) {
        self.answer = answer
        self.lookup = lookup
    }

    func send(_ request: ClientRequest, body: ByteBuffer, action: SQSAction) async -> UpstreamOutcome {
        let input =
            (try? body.withUnsafeReadableBytes { bytes throws(SQSError) in try JSONValue.parse(bytes) }) ?? .null
        sent.withLock { $0.append(input) }
        return answer(input)
    }

    func call(_ action: SQSAction, input: JSONValue) async throws(SQSError) -> JSONValue? {
        try lookup(action, input)
    }

    func url(path: String) -> String { "http://sqs" + path }

    static func answered(status: HTTPResponseStatus, _ body: JSONValue) -> UpstreamOutcome {
        .answered(
            ProxyResponse(
                status: status, headers: ["Content-Type": "application/x-amz-json-1.0"],
                body: ByteBuffer(bytes: body.serialized())))
    }
}

/// Every failure point of a send, carried out against in-memory fakes of S3 and SQS: what the
/// client gets, what SQS was sent, what stays in the bucket.
struct ExtendedClientSendTests {
    static let large = String(repeating: "é", count: 200_000)

    /// The defaults, with the bucket `payloads`.
    static func settings(ignorePayloadNotFound: Bool = false) throws -> ExtendedClientSettings {
        ExtendedClientSettings(
            policy: OffloadPolicy(maxPayloadSize: 1 << 31, canOffload: true), bucket: "payloads",
            keys: try PayloadKeyGenerator(), putOptions: .init(), retainPayloads: false,
            ignorePayloadNotFound: ignorePayloadNotFound, payloadLocations: PayloadLocations(buckets: ["payloads"]))
    }

    static func client(_ store: FakePayloadStore, _ sqs: FakeSQS) throws -> ExtendedClient {
        ExtendedClient(
            settings: try settings(), payloads: store, upstream: sqs, queues: QueueAttributeCache(),
            limits: .streamed(partSize: store.partSize), logger: Logger(label: "test"))
    }

    static func send(_ client: ExtendedClient, _ input: JSONValue, action: SQSAction = .sendMessage)
        async throws(SQSError) -> ProxyResponse
    {
        let body = ByteBuffer(bytes: input.serialized())
        let head = HTTPRequestHead(
            version: .http1_1, method: .POST, uri: "/",
            headers: ["Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS." + action.rawValue])
        let request = try body.withUnsafeReadableBytes { bytes throws(SQSError) in
            try SQSRequestDecoder.decode(
                target: "AmazonSQS." + action.rawValue, contentType: "application/x-amz-json-1.0", path: "/",
                queryString: "", body: bytes)
        }
        return try await client.send(request, tree: request.tree!, client: ClientRequest(head: head, body: body))
    }

    static func message(_ queue: String = "http://sqs/123/q") -> JSONValue {
        .object(["QueueUrl": .string(queue), "MessageBody": .string(large)])
    }

    static let accepted: @Sendable (JSONValue) -> UpstreamOutcome = { _ in
        FakeSQS.answered(status: .ok, .object(["MessageId": .string("m"), "MD5OfMessageBody": .string("x")]))
    }

    @Test func anAcceptedSendKeepsItsPayloadAndAnswersTheClientsDigest() async throws {
        let store = FakePayloadStore()
        let sqs = FakeSQS(answer: Self.accepted)
        let response = try await Self.send(try Self.client(store, sqs), Self.message())
        #expect(response.status == .ok)
        let result = try response.body.withUnsafeReadableBytes { bytes throws(SQSError) in try JSONValue.parse(bytes) }
        #expect(result["MD5OfMessageBody"] == .string(MessageDigest.body(Self.large)))
        let key = try #require(store.keys.first)
        #expect(store.keys.count == 1)
        #expect(
            sqs.sent.withLock { $0 }.first?["MessageBody"]
                == .string(PayloadPointer(bucket: "payloads", key: key).encoded))
    }

    @Test func aFailedUploadSendsNothingAndLeavesNothing() async throws {
        let store = FakePayloadStore(failPut: { _ in true })
        let sqs = FakeSQS(answer: Self.accepted)
        await #expect(throws: SQSError.self) { try await Self.send(try Self.client(store, sqs), Self.message()) }
        #expect(store.keys.isEmpty)
        #expect(sqs.sent.withLock { $0.isEmpty })
    }

    @Test func oneFailedUploadOfABatchRemovesTheOthers() async throws {
        let failing = Mutex(0)
        let store = FakePayloadStore(failPut: { _ in
            failing.withLock { count in
                count += 1
                return count == 2
            }
        })
        let sqs = FakeSQS(answer: Self.accepted)
        let entries = (0..<3).map { JSONValue.object(["Id": .string("e\($0)"), "MessageBody": .string(Self.large)]) }
        await #expect(throws: SQSError.self) {
            try await Self.send(
                try Self.client(store, sqs),
                .object(["QueueUrl": .string("http://sqs/1/q"), "Entries": .array(entries)]),
                action: .sendMessageBatch)
        }
        #expect(store.keys.isEmpty)
        #expect(sqs.sent.withLock { $0.isEmpty })
    }

    @Test func aFailedDeduplicationLookupStoresNothing() async throws {
        let store = FakePayloadStore()
        let sqs = FakeSQS(
            answer: Self.accepted,
            lookup: { _, _ throws(SQSError) in throw .serviceUnavailable("lookup failed") })
        await #expect(throws: SQSError.self) {
            try await Self.send(try Self.client(store, sqs), Self.message("http://sqs/123/q.fifo"))
        }
        #expect(store.keys.isEmpty && store.deleted.withLock { $0.isEmpty })
        #expect(sqs.sent.withLock { $0.isEmpty })
    }

    @Test func aRefusalDeletesThePayload() async throws {
        let store = FakePayloadStore()
        let sqs = FakeSQS(answer: { _ in
            FakeSQS.answered(
                status: .badRequest,
                .object(["__type": .string("com.amazonaws.sqs#QueueDoesNotExist"), "message": .string("no")]))
        })
        let response = try await Self.send(try Self.client(store, sqs), Self.message())
        #expect(response.status == .badRequest)
        #expect(store.keys.isEmpty && store.deleted.withLock { $0.count } == 1)
    }

    @Test func aRequestThatNeverLeftDeletesThePayload() async throws {
        let store = FakePayloadStore()
        let sqs = FakeSQS(answer: { _ in .failed(.serviceUnavailable("no connection"), mayHaveArrived: false) })
        await #expect(throws: SQSError.self) { try await Self.send(try Self.client(store, sqs), Self.message()) }
        #expect(store.keys.isEmpty)
    }

    @Test(arguments: [
        UpstreamOutcome.failed(.serviceUnavailable("connection broke"), mayHaveArrived: true),
        FakeSQS.answered(status: .internalServerError, .object(["__type": .string("InternalError")])),
    ])
    func anAnswerThatDoesNotSayKeepsThePayload(_ outcome: UpstreamOutcome) async throws {
        let store = FakePayloadStore()
        let sqs = FakeSQS(answer: { _ in outcome })
        let client = try Self.client(store, sqs)
        let answered = try? await Self.send(client, Self.message())
        if case .answered = outcome {
            #expect(answered?.status == .internalServerError)
        } else {
            #expect(answered == nil)
        }
        // SQS may hold a message that points at this payload: it must stay.
        #expect(store.keys.count == 1 && store.deleted.withLock { $0.isEmpty })
    }

    @Test func batchEntriesSQSRefusedLoseTheirPayloads() async throws {
        let store = FakePayloadStore()
        let sqs = FakeSQS(answer: { _ in
            FakeSQS.answered(
                status: .ok,
                .object([
                    "Successful": .array([.object(["Id": .string("a"), "MessageId": .string("m")])]),
                    "Failed": .array([.object(["Id": .string("b"), "Code": .string("InternalError")])]),
                ]))
        })
        let entries = ["a", "b"].map { JSONValue.object(["Id": .string($0), "MessageBody": .string(Self.large)]) }
        let response = try await Self.send(
            try Self.client(store, sqs), .object(["QueueUrl": .string("http://sqs/1/q"), "Entries": .array(entries)]),
            action: .sendMessageBatch)
        #expect(response.status == .ok)
        #expect(store.keys.count == 1 && store.deleted.withLock { $0.count } == 1)
        let sentEntries = sqs.sent.withLock { $0 }.first?["Entries"]?.arrayValue ?? []
        let keyOfA = sentEntries.first { $0["Id"] == .string("a") }?["MessageBody"]?.stringValue
            .flatMap { PayloadPointer(body: $0) }?.key
        #expect(store.keys == Set([keyOfA].compactMap { $0 }))
    }

    @Test func storedPayloadsOfAnInvalidRequestAreDeleted() async throws {
        let store = FakePayloadStore()
        try await store.put(bucket: "payloads", key: "streamed", body: ByteBuffer(string: Self.large))
        let sqs = FakeSQS(answer: Self.accepted)
        let client = try Self.client(store, sqs)
        let invalid: JSONValue = .object([
            "QueueUrl": .string("http://sqs/1/q"), "MessageBody": .string(""),
            "MessageAttributes": .object([
                "ExtendedPayloadSize": .object(["DataType": .string("Number"), "StringValue": .string("1")])
            ]),
        ])
        let body = ByteBuffer(bytes: invalid.serialized())
        let request = try body.withUnsafeReadableBytes { bytes throws(SQSError) in
            try SQSRequestDecoder.decode(
                target: "AmazonSQS.SendMessage", contentType: "application/x-amz-json-1.0", path: "/",
                queryString: "", body: bytes)
        }
        await #expect(throws: SQSError.self) {
            try await client.send(
                request, tree: request.tree!,
                client: ClientRequest(head: HTTPRequestHead(version: .http1_1, method: .POST, uri: "/"), body: body),
                stored: [0: StoredPayload(key: "streamed", length: 400_000, md5Hex: "", sha256Hex: "")])
        }
        #expect(store.keys.isEmpty)
        #expect(sqs.sent.withLock { $0.isEmpty })
    }
}
