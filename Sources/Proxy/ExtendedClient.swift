import AWSCredentialChain
import AWSSigning
import AsyncHTTPClient
import ExtendedPayload
import Logging
import NIOCore
import NIOHTTP1
import ObjectStore
import RequestLimits
import SQSWire
import ServerEdge
import TextCoding

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The settings of the extended client's behaviour.
public struct ExtendedClientSettings: Sendable {
    public var policy: OffloadPolicy
    /// The bucket payloads are stored in; nil: nothing is offloaded.
    public var bucket: String?
    public var keys: PayloadKeyGenerator
    public var putOptions: S3ObjectStore.PutOptions
    /// Keep payloads when their messages are deleted.
    public var retainPayloads: Bool
    /// Delete a received message whose payload is missing, instead of failing the receive.
    public var ignorePayloadNotFound: Bool
    /// Where payloads may be read and deleted for clients.
    public var payloadLocations: PayloadLocations
    /// The threshold, and the batch limit, are each queue's `MaximumMessageSize`.
    public var thresholdFollowsQueue: Bool

    public init(
        policy: OffloadPolicy, bucket: String?, keys: PayloadKeyGenerator, putOptions: S3ObjectStore.PutOptions,
        retainPayloads: Bool, ignorePayloadNotFound: Bool, payloadLocations: PayloadLocations,
        thresholdFollowsQueue: Bool = false
    ) {
        self.thresholdFollowsQueue = thresholdFollowsQueue
        self.policy = policy
        self.bucket = bucket
        self.keys = keys
        self.putOptions = putOptions
        self.retainPayloads = retainPayloads
        self.ignorePayloadNotFound = ignorePayloadNotFound
        self.payloadLocations = payloadLocations
    }
}

/// The extended client's behaviour on the wire: bodies over the threshold go to S3 on send and come
/// back on receive, marked receipt handles are restored, payloads are deleted after their messages.
struct ExtendedClient: Sendable {
    let settings: ExtendedClientSettings
    let payloads: any PayloadStore
    let upstream: any SQSCalls
    let queues: QueueAttributeCache
    let limits: RequestLimits
    let logger: Logger

    /// The reader of sends whose bodies may be too large to hold; nil without a bucket.
    var streamedSendReader: StreamedSendReader? {
        guard let bucket = settings.bucket else { return nil }
        return StreamedSendReader(
            payloads: payloads, bucket: bucket, keys: settings.keys, limits: limits,
            deletePayloads: { [self] in await deletePayloads($0) })
    }

    /// Answers a request of one of the rewritten actions. `stored` holds the bodies of a send
    /// stored while it was read (``StreamedSendReader``), which the send owns from here.
    func handle(_ request: SQSRequest, tree: JSONValue, client: ClientRequest, stored: [Int: StoredPayload] = [:])
        async throws(SQSError) -> ProxyResponse
    {
        switch request.action {
        case .sendMessage, .sendMessageBatch:
            return try await send(request, tree: tree, client: client, stored: stored)
        case .receiveMessage:
            return try await receive(request, tree: tree, client: client)
        default:
            return try await restoringHandles(request, tree: tree, client: client)
        }
    }

    // MARK: Send

    /// Sends messages, their bodies over the threshold stored in S3 first. `stored` holds the bodies
    /// already stored while the request was read, by entry position (0 for SendMessage); the send owns
    /// them from here. Every payload stored for the request is deleted when SQS cannot have taken
    /// its message (the request was never sent, or SQS refused it with a 4xx), and kept when SQS
    /// may have (an answer, a 5xx, a timeout, a connection that broke after the request was written).
    ///
    /// With `--threshold auto` the threshold and the batch limit are the queue's
    /// `MaximumMessageSize`; when SQS answers that a message is too long for the queue all the same
    /// (its size was lowered since it was asked), the size is asked again and the send tried once
    /// more (not a send whose bodies were stored while it streamed: they went with the refusal).
    func send(_ request: SQSRequest, tree: JSONValue, client: ClientRequest, stored: [Int: StoredPayload] = [:])
        async throws(SQSError) -> ProxyResponse
    {
        guard settings.thresholdFollowsQueue else {
            return try await send(request, tree: tree, client: client, stored: stored, policy: settings.policy)
        }
        let queueURL = queueURL(of: request, client: client)
        let response = try await send(
            request, tree: tree, client: client, stored: stored, policy: await policy(forQueue: queueURL))
        guard stored.isEmpty, Self.saysTooLong(response) else { return response }
        await queues.forgetMaximumMessageSize(queueURL: queueURL)
        return try await send(
            request, tree: tree, client: client, stored: stored, policy: await policy(forQueue: queueURL))
    }

    /// The offload policy with the queue's `MaximumMessageSize` as its threshold and batch limit;
    /// SQS's largest message when the queue's cannot be read (the proxy's identity may not be allowed
    /// GetQueueAttributes): SQS then refuses what does not fit, as it would without the proxy.
    private func policy(forQueue queueURL: String) async -> OffloadPolicy {
        var policy = settings.policy
        let size: Int
        do throws(SQSError) {
            size = try await queues.maximumMessageSize(queueURL: queueURL, upstream: upstream)
        } catch {
            logger.warning(
                "the queue's MaximumMessageSize could not be read: SQS's largest message is the threshold",
                metadata: ["queue": "\(queueURL.split(separator: "/").last ?? "")", "error": "\(error)"])
            size = OffloadPolicy.sqsMessageLimit
        }
        policy.threshold = size
        policy.batchLimit = size
        return policy
    }

    /// Whether SQS refused a send because a message, or the batch, is too long for the queue.
    static func saysTooLong(_ response: ProxyResponse) -> Bool {
        guard response.status == .badRequest else { return false }
        let body = String(buffer: response.body)
        return body.containsBytes(of: "shorter than") || body.containsBytes(of: "BatchRequestTooLong")
            || body.containsBytes(of: "MessageTooLong")
    }

    private func send(
        _ request: SQSRequest, tree: JSONValue, client: ClientRequest, stored: [Int: StoredPayload],
        policy: OffloadPolicy
    ) async throws(SQSError) -> ProxyResponse {
        var owned = stored.values.map(\.key)
        let outcome: UpstreamOutcome
        let plan: SendPlan
        do throws(SQSError) {
            plan = try SendPlan(
                action: request.action, tree: tree, stored: stored, policy: policy, bucket: settings.bucket,
                newKey: settings.keys.next)
            guard plan.offloads else {
                // A request that streamed is encoded once, from what was decoded on the way.
                guard client.streamed else {
                    return try await upstream.forward(client, body: client.body, action: request.action)
                }
                return try await forward(request, input: tree, client: client)
            }
            let contentDeduplication = try await needsDeduplicationID(queueURL: queueURL(of: request, client: client))
            try await upload(plan.uploads, bucket: plan.bucket)
            owned = plan.keys
            let (upstreamRequest, body) = try encoded(
                request, input: plan.input(tree, contentDeduplication: contentDeduplication), client: client)
            outcome = await upstream.send(upstreamRequest, body: body, action: request.action)
        } catch {
            await deletePayloads(owned)
            throw error
        }
        guard outcome.mayHaveTakenEffect else {
            await deletePayloads(owned)
            return try outcome.response()
        }
        guard case .answered(let response) = outcome, response.status == .ok else {
            logger.warning(
                "no answer from SQS that says whether it took the messages: their payloads stay",
                metadata: ["action": "\(request.action)", "payloads": "\(owned.count)"])
            return try outcome.response()
        }
        guard
            let result = response.body.withUnsafeReadableBytes({
                ResponseCodec.decode($0, action: request.action, wireProtocol: request.wireProtocol)
            })
        else {
            // SQS took the messages: their payloads stay, only the digests cannot be corrected.
            logger.warning("unreadable send result; digests not corrected", metadata: ["action": "\(request.action)"])
            return response
        }
        let (rewritten, refusedKeys) = plan.result(result.tree)
        await deletePayloads(refusedKeys)
        return encode(ResponseCodec.Result(tree: rewritten, requestID: result.requestID), of: request, like: response)
    }

    /// Stores the bodies concurrently; on any failure removes every key (a failed PUT may have
    /// stored its object all the same, its answer too late) and throws.
    private func upload(_ uploads: [(key: String, body: String)], bucket: String) async throws(SQSError) {
        let failures = await withTaskGroup(of: (String, ObjectStoreError?).self) { group in
            for (key, body) in uploads {
                group.addTask { (key, await store(body, bucket: bucket, key: key)) }
            }
            var results: [(String, ObjectStoreError?)] = []
            for await result in group { results.append(result) }
            return results
        }
        guard let failure = failures.first(where: { $0.1 != nil })?.1 else { return }
        await deletePayloads(failures.map(\.0))
        logger.error("payload upload failed", metadata: ["error": "\(failure)"])
        throw .storeFailed(bucket: bucket, failure)
    }

    /// Whether offloaded sends to this queue need a deduplication id: a FIFO queue with
    /// content-based deduplication would otherwise hash the random pointer.
    private func needsDeduplicationID(queueURL: String) async throws(SQSError) -> Bool {
        guard queueURL.hasSuffix(".fifo") else { return false }
        return try await queues.contentBasedDeduplication(queueURL: queueURL, upstream: upstream)
    }

    // MARK: Receive

    private func receive(_ request: SQSRequest, tree: JSONValue, client: ClientRequest) async throws(SQSError)
        -> ProxyResponse
    {
        let queueURL = queueURL(of: request, client: client)
        let plan = ReceivePlan(tree, fifo: queueURL.hasSuffix(".fifo"))
        let response =
            plan.inputUnchanged
            ? try await upstream.forward(client, body: client.body, action: request.action)
            : try await forward(request, input: plan.input, client: client)
        guard response.status == .ok,
            var result = response.body.withUnsafeReadableBytes({
                ResponseCodec.decode($0, action: .receiveMessage, wireProtocol: request.wireProtocol)
            })
        else { return response }
        let messages = result.tree["Messages"]?.arrayValue ?? []
        let (fetches, refusedPointers) = plan.fetches(
            in: messages, locations: settings.payloadLocations, heldPayloadLimit: RequestLimits.maxHeldPayloadSize)
        for pointer in refusedPointers {
            refused(pointer, operation: "receive", queueURL: queueURL)
        }
        guard !fetches.isEmpty || (plan.addsGroupID && !messages.isEmpty) else { return response }

        let payloads = await fetch(fetches)
        // The client went away (the receive was abandoned): nothing is decided for nobody.
        guard !Task.isCancelled else { throw .serviceUnavailable("The client went away.") }
        let decisions = plan.decisions(
            for: messages, fetches: fetches, outcomes: payloads.map(Self.outcome),
            ignorePayloadNotFound: settings.ignorePayloadNotFound)
        var delivered: [JSONValue] = []
        var streams: [StreamedPayload] = []
        var deleted: [JSONValue] = []
        for (message, decision) in zip(messages, decisions) {
            switch (decision, decision.fetch.map { payloads[$0] }) {
            case (.restore(let number), .success(.held(let body))):
                let fetch = fetches[number]
                delivered.append(
                    plan.delivered(
                        try MessageRewriting.restore(
                            message, payload: fetch.envelope?.wrapping(body) ?? body, pointer: fetch.pointer,
                            filter: plan.filter)))
                ProxyMetrics.payloadRestored(bytes: body.utf8.count)
            case (.stream(let number), .success(.streamed(let body))):
                let fetch = fetches[number]
                let stream = StreamedPayload(body: body, envelope: fetch.envelope)
                var restored = try MessageRewriting.restore(
                    message, payload: stream.restoredBody, pointer: fetch.pointer, filter: plan.filter)
                restored["MD5OfBody"] = .string(stream.digestToken)
                delivered.append(plan.delivered(restored))
                streams.append(stream)
            case (.delete(let number), .failure(let error)):
                unavailable(message, fetches[number].pointer, error, deleted: true, queueURL: queueURL)
                deleted.append(message)
            case (.leave(let number, _), .failure(let error)):
                unavailable(message, fetches[number].pointer, error, deleted: false, queueURL: queueURL)
            case (.leaveBehind(let first), _):
                logger.warning(
                    "message left in the queue behind an earlier one of its FIFO group",
                    metadata: [
                        "queue": "\(queueURL.split(separator: "/").last ?? "")",
                        "message_id": "\(message["MessageId"]?.stringValue ?? "")",
                        "behind": "\(messages[first]["MessageId"]?.stringValue ?? "")",
                    ])
            default:
                // `.deliver`: each other decision comes with the fetch result it was made from.
                delivered.append(plan.delivered(message))
            }
        }
        await deleteMessages(deleted, queueURL: queueURL)
        result.tree["Messages"] = delivered.isEmpty ? nil : .array(delivered)
        guard !streams.isEmpty else { return encode(result, of: request, like: response) }
        var streamed = response
        streamed.body = ByteBuffer()
        streamed.streamedBody =
            StreamedReceive(
                document: ResponseCodec.encode(result, action: .receiveMessage, wireProtocol: request.wireProtocol),
                payloads: streams, wireProtocol: request.wireProtocol, lease: MemoryLease.current,
                rangesInFlight: limits.rangesInFlight
            ).write
        return streamed
    }

    /// A message whose payload could not be had: one warning line and the counter.
    private func unavailable(
        _ message: JSONValue, _ pointer: PayloadPointer, _ error: ObjectStoreError, deleted: Bool, queueURL: String
    ) {
        let reason = Self.unavailable(error.kind)
        ProxyMetrics.payloadUnavailable(reason: reason.rawValue)
        logger.warning(
            deleted
                ? "payload not found; its message is deleted"
                : "payload unavailable; its message is left in the queue",
            metadata: [
                "queue": "\(queueURL.split(separator: "/").last ?? "")",
                "message_id": "\(message["MessageId"]?.stringValue ?? "")",
                "bucket": "\(pointer.bucket.prefix(255))", "key": "\(pointer.key.prefix(1024))",
                "reason": "\(reason.rawValue)", "error": "\(error.detail.prefix(512))",
            ])
    }

    /// What the receive plan is told of a fetch.
    private static func outcome(_ payload: Result<FetchedPayload, ObjectStoreError>) -> ReceivePlan.FetchOutcome {
        switch payload {
        case .success(.held): return .held
        case .success(.streamed): return .streamed
        case .failure(let error): return .unavailable(unavailable(error.kind))
        }
    }

    private static func unavailable(_ kind: ObjectStoreError.Kind) -> ReceivePlan.Unavailable {
        switch kind {
        case .objectNotFound, .bucketNotFound: return .notFound
        case .accessDenied: return .accessDenied
        case .tooLarge: return .tooLarge
        case .rejected, .transport: return .failed
        }
    }

    /// A payload read whole, or opened to be streamed into the response.
    private enum FetchedPayload: Sendable {
        case held(String)
        case streamed(ObjectBody)
    }

    /// Reads the payloads of offloaded messages concurrently: those that stream are only opened;
    /// the others are read whole.
    private func fetch(_ fetches: [ReceivePlan.Fetch]) async -> [Result<FetchedPayload, ObjectStoreError>] {
        // Each child returns its index with its result. Swift 6.3's release build miscompiled the
        // index when the child caught with a typed `do throws` in the closure itself (a garbage
        // index, and a crash): the fetch is a method of its own, as is every such child's work.
        await withTaskGroup(of: (Int, Result<FetchedPayload, ObjectStoreError>).self) { group in
            for (index, fetch) in fetches.enumerated() {
                group.addTask { (index, await fetchOne(fetch)) }
            }
            var results: [Int: Result<FetchedPayload, ObjectStoreError>] = [:]
            for await (index, result) in group { results[index] = result }
            return fetches.indices.map { results[$0]! }
        }
    }

    /// Reads one payload whole, or opens it to stream. A payload larger than its size attribute
    /// said streams too.
    private func fetchOne(_ fetch: ReceivePlan.Fetch) async -> Result<FetchedPayload, ObjectStoreError> {
        let pointer = fetch.pointer
        let lease = MemoryLease.current
        /// Opened in ranges when the budget has room for the first one, held until it is written.
        func open() async throws(ObjectStoreError) -> FetchedPayload {
            let rangeSize = limits.rangeSize.flatMap { lease?.reserve($0) ?? true ? $0 : nil }
            return .streamed(
                try await payloads.open(
                    bucket: pointer.bucket, key: pointer.key, maxSize: settings.policy.maxPayloadSize,
                    rangeSize: rangeSize))
        }
        do throws(ObjectStoreError) {
            // A payload the memory budget has no room for streams too.
            guard !fetch.streams, lease?.reserve(RequestLimits.maxHeldPayloadSize) ?? true else {
                return .success(try await open())
            }
            let bytes: ByteBuffer
            do throws(ObjectStoreError) {
                bytes = try await payloads.get(
                    bucket: pointer.bucket, key: pointer.key, maxSize: RequestLimits.maxHeldPayloadSize)
            } catch  where error.kind == .tooLarge {
                lease?.release(RequestLimits.maxHeldPayloadSize)
                return .success(try await open())
            }
            // What was reserved becomes what was read.
            lease?.release(RequestLimits.maxHeldPayloadSize - bytes.readableBytes)
            return .success(.held(String(buffer: bytes)))
        } catch {
            return .failure(error)
        }
    }

    /// Deletes messages from the queue concurrently; failures are logged (the message comes back
    /// after its visibility timeout), never raised.
    private func deleteMessages(_ messages: [JSONValue], queueURL: String) async {
        let handles = messages.compactMap { $0["ReceiptHandle"]?.stringValue }
        guard !handles.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            for handle in handles {
                group.addTask { await deleteMessage(handle: handle, queueURL: queueURL) }
            }
        }
    }

    /// Deletes one message; a failure is logged. (A method of its own: see ``fetch(_:)``.)
    private func deleteMessage(handle: String, queueURL: String) async {
        do throws(SQSError) {
            _ = try await upstream.call(
                .deleteMessage, input: .object(["QueueUrl": .string(queueURL), "ReceiptHandle": .string(handle)]))
        } catch {
            logger.warning("message not deleted", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Delete and change visibility

    /// A delete or visibility change: marked receipt handles restored to those SQS issued (refused
    /// markers logged); once SQS confirmed a delete, the payloads of the deleted messages deleted
    /// too, unless they are retained.
    private func restoringHandles(_ request: SQSRequest, tree: JSONValue, client: ClientRequest) async throws(SQSError)
        -> ProxyResponse
    {
        let deletes = request.action == .deleteMessage || request.action == .deleteMessageBatch
        let handles = MarkedHandles(
            tree, batch: request.action == .deleteMessageBatch || request.action == .changeMessageVisibilityBatch,
            locations: settings.payloadLocations)
        guard handles.anyMarked else {
            return try await upstream.forward(client, body: client.body, action: request.action)
        }
        for pointer in handles.refused {
            refused(
                pointer, operation: deletes ? "delete" : "change_visibility",
                queueURL: queueURL(of: request, client: client))
        }
        let response = try await forward(request, input: handles.input, client: client)
        guard deletes, response.status == .ok, !settings.retainPayloads, !handles.payloads.isEmpty else {
            return response
        }
        if request.action == .deleteMessage {
            await deleteObjects(Array(handles.payloads.values))
            return response
        }
        guard
            let result = response.body.withUnsafeReadableBytes({
                ResponseCodec.decode($0, action: .deleteMessageBatch, wireProtocol: request.wireProtocol)
            })
        else { return response }
        await deleteObjects(handles.deleted(byBatchResult: result.tree))
        return response
    }

    /// A pointer or marked handle naming an object outside the payload locations: one warning line
    /// and the counter; nothing is read or deleted.
    private func refused(_ pointer: PayloadPointer, operation: String, queueURL: String) {
        ProxyMetrics.payloadRefused(operation: operation)
        logger.warning(
            "payload outside the payload locations left alone",
            metadata: [
                "operation": "\(operation)", "queue": "\(queueURL.split(separator: "/").last ?? "")",
                "bucket": "\(pointer.bucket.prefix(255))", "key": "\(pointer.key.prefix(1024))",
            ])
    }

    // MARK: Shared

    /// The queue a request addresses: its `QueueUrl`, or the queue path a Query request was posted to.
    func queueURL(of request: SQSRequest, client: ClientRequest) -> String {
        request.queueURL ?? upstream.url(path: client.path)
    }

    /// Deletes payloads of the proxy's bucket concurrently; failures are logged, never raised.
    func deletePayloads(_ keys: [String]) async {
        await deleteObjects(keys.map { PayloadPointer(bucket: settings.bucket ?? "", key: $0) })
    }

    /// Stores one body; the error if it failed. (A method of its own: see ``fetch(_:)``.)
    private func store(_ body: String, bucket: String, key: String) async -> ObjectStoreError? {
        do throws(ObjectStoreError) {
            let bytes = ByteBuffer(string: body)
            try await payloads.put(bucket: bucket, key: key, body: bytes)
            ProxyMetrics.payloadOffloaded(bytes: bytes.readableBytes)
            return nil
        } catch {
            return error
        }
    }

    /// Deletes payload objects concurrently; failures are logged, never raised.
    private func deleteObjects(_ objects: [PayloadPointer]) async {
        guard !objects.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            for object in objects {
                group.addTask {
                    do {
                        try await payloads.delete(bucket: object.bucket, key: object.key)
                        ProxyMetrics.payloadsDeleted(1)
                    } catch {
                        logger.warning("payload not deleted", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
    }

    /// Forwards the request re-encoded from `input` in its own protocol.
    private func forward(_ request: SQSRequest, input: JSONValue, client: ClientRequest) async throws(SQSError)
        -> ProxyResponse
    {
        let (upstreamRequest, body) = try encoded(request, input: input, client: client)
        return try await upstream.forward(upstreamRequest, body: body, action: request.action)
    }

    /// The request for SQS with its input re-encoded from `input` in the request's own protocol.
    private func encoded(_ request: SQSRequest, input: JSONValue, client: ClientRequest) throws(SQSError) -> (
        ClientRequest, ByteBuffer
    ) {
        switch request.input {
        case .json:
            return (client, try ClientRequest.heldBody(input.serialized()))
        case .query(let original):
            let post = try client.formPost(
                RequestSchema.forAction(request.action)!.parameters(
                    from: input, action: request.action, original: original))
            return (post, post.body)
        }
    }

    private func encode(_ result: ResponseCodec.Result, of request: SQSRequest, like response: ProxyResponse)
        -> ProxyResponse
    {
        var rewritten = response
        rewritten.body = ByteBuffer(
            bytes: ResponseCodec.encode(result, action: request.action, wireProtocol: request.wireProtocol))
        return rewritten
    }
}
