import AWSSigning
import Crypto
import ExtendedPayload
import NIOCore
import NIOHTTP1
import ObjectStore
import SQSWire

/// SendMessage in the JSON protocol with a body too large to hold: the body streams from the client
/// to S3 while the request is parsed, its MD5 and length computed on the way.
extension ExtendedClient {
    /// Whether a request is a JSON SendMessage that may carry a body over the threshold: those are
    /// read as a stream instead of being collected first.
    func streamsSend(_ head: HTTPRequestHead) -> Bool {
        guard settings.bucket != nil, head.headers.first(name: "x-amz-target") == "AmazonSQS.SendMessage" else {
            return false
        }
        guard let length = head.headers.first(name: "content-length").flatMap(Int.init) else { return true }
        return length > settings.policy.threshold
    }

    /// Reads a SendMessage request as a stream. A body that stays within one part is held and
    /// handled like any other; a larger one goes to S3 in a multipart upload as it arrives.
    /// Throws ``SQSError`` for what the client gets as an error, anything else when the connection failed.
    func sendStreaming(head: HTTPRequestHead, body: RequestBody) async throws -> ProxyResponse {
        var reading = StreamingSendReader(body: body, partSize: uploader.partSize, settings: settings)
        try await reading.readUntilBodyEndsOrExceedsOnePart()
        guard reading.bodyExceedsOnePart, let bucket = settings.bucket else {
            return try await sendHeld(reading, head: head)
        }
        let key = settings.keys.next()
        do {
            try await uploader.upload(bucket: bucket, key: key, options: settings.putOptions) {
                try await reading.nextPart()
            }
        } catch let error as ObjectStoreError {
            throw SQSError(
                shape: "InternalFailure", status: 500,
                message: "Could not store the message payload in S3 bucket \(bucket): \(error.detail)")
        }
        do {
            try await reading.readToEnd()
            return try await forwardOffloaded(reading, head: head, pointer: PayloadPointer(bucket: bucket, key: key))
        } catch {
            await deletePayloads([(bucket, key)])
            throw error
        }
    }

    /// The request was read whole: rebuilt as a tree and sent the ordinary way.
    private func sendHeld(_ reading: StreamingSendReader, head: HTTPRequestHead) async throws -> ProxyResponse {
        var reading = reading
        try await reading.readToEnd()
        var tree = JSONValue.object(reading.members)
        tree["MessageBody"] = .string(String(buffer: reading.held))
        for member in SQSAction.sendMessage.requiredMembers where tree[member] == nil {
            throw SQSError.missingParameter(member, action: .sendMessage)
        }
        let client = ClientRequest(head: head, body: ByteBuffer(bytes: tree.serialized()))
        let request = SQSRequest(action: .sendMessage, wireProtocol: .json, input: .json(tree), tree: tree)
        return try await handle(request, tree: tree, client: client)
    }

    private func forwardOffloaded(_ reading: StreamingSendReader, head: HTTPRequestHead, pointer: PayloadPointer)
        async throws(SQSError) -> ProxyResponse
    {
        guard let queueURL = reading.members["QueueUrl"]?.stringValue else {
            throw .missingParameter("QueueUrl", action: .sendMessage)
        }
        let attributes = try MessageAttribute.map(from: reading.members["MessageAttributes"])
        _ = try settings.policy.mustOffload(bodyBytes: reading.bodyLength, attributes: attributes)
        var tree = MessageRewriting.offload(
            .object(reading.members), pointer: pointer, bodyBytes: reading.bodyLength,
            reservedName: settings.policy.reservedAttributeName)
        if queueURL.hasSuffix(".fifo"), tree["MessageDeduplicationId"] == nil,
            try await queues.contentBasedDeduplication(queueURL: queueURL, upstream: upstream)
        {
            tree["MessageDeduplicationId"] = .string(reading.sha256Hex)
        }
        let client = ClientRequest(head: head, body: ByteBuffer())
        let response = try await upstream.forward(client, body: ByteBuffer(bytes: tree.serialized()))
        guard response.status == .ok else {
            await deletePayloads([(pointer.bucket, pointer.key)])
            return response
        }
        guard
            var result = response.body.withUnsafeReadableBytes({
                ResponseCodec.decode($0, action: .sendMessage, wireProtocol: .json)
            })
        else { return response }
        result.tree["MD5OfMessageBody"] = .string(reading.md5Hex)
        result.tree["MD5OfMessageAttributes"] = MessageDigest.attributes(attributes).map(JSONValue.string)
        var rewritten = response
        rewritten.body = ByteBuffer(bytes: ResponseCodec.encode(result, action: .sendMessage, wireProtocol: .json))
        return rewritten
    }
}

/// The state of reading one streamed SendMessage: the members other than the body, the body
/// bytes not yet handed on, and the body's digests and length so far.
struct StreamingSendReader {
    let body: RequestBody
    let partSize: Int
    let maxPayloadSize: Int
    private var reader = StreamingJSONObjectReader(streamedMember: "MessageBody", maxMemberSize: 1 << 20)
    private(set) var members: [String: JSONValue] = [:]
    /// Unescaped body bytes read but not yet handed on.
    private(set) var held = ByteBuffer()
    private(set) var bodyLength = 0
    private(set) var bodyEnded = false
    private var md5 = Insecure.MD5()
    /// Only a FIFO queue needs the body's SHA-256 (as its deduplication id); decided when the body
    /// starts, from the queue URL if it came first (SDKs send it first).
    private var sha256: SHA256?

    init(body: RequestBody, partSize: Int, settings: ExtendedClient.Settings) {
        self.body = body
        self.partSize = partSize
        self.maxPayloadSize = settings.policy.maxPayloadSize
    }

    /// Whether more than one part of the body has been read before it ended.
    var bodyExceedsOnePart: Bool { held.readableBytes > partSize }

    var md5Hex: String { MessageDigest.hex(md5.finalize()) }
    var sha256Hex: String { sha256.map { MessageDigest.hex($0.finalize()) } ?? "" }

    mutating func readUntilBodyEndsOrExceedsOnePart() async throws {
        while !bodyEnded && !bodyExceedsOnePart && !reader.isComplete {
            try await readPiece()
        }
    }

    /// The next part for the upload: `partSize` bytes, or the rest once the body ended.
    mutating func nextPart() async throws -> ByteBuffer? {
        while held.readableBytes < partSize && !bodyEnded {
            try await readPiece()
        }
        guard held.readableBytes > 0 else { return nil }
        let part = held.readSlice(length: min(partSize, held.readableBytes))
        held.discardReadBytes()
        return part
    }

    /// Reads the rest of the request (the members after the body).
    mutating func readToEnd() async throws {
        while !reader.isComplete {
            try await readPiece()
        }
        guard bodyEnded else { throw SQSError.missingParameter("MessageBody", action: .sendMessage) }
    }

    /// Reads one piece of the request; the body's errors (too large, connection failed) pass through.
    private mutating func readPiece() async throws {
        guard let piece = try await body.next() else {
            throw SQSError.malformedRequest("The request body is not valid JSON.")
        }
        var events: [StreamingJSONObjectReader.Event] = []
        do {
            try piece.withUnsafeReadableBytes { bytes in try reader.read(bytes) { events.append($0) } }
        } catch let error as SQSError {
            throw error
        } catch {
            throw SQSError.malformedRequest("The request body is not valid JSON.")
        }
        for event in events {
            switch event {
            case .member(let name, let raw):
                members[name] = try JSONValue.parse(raw)
            case .streamedBytes(let bytes):
                bodyLength += bytes.count
                guard bodyLength <= maxPayloadSize else {
                    throw SQSError.invalidParameterValue(
                        "The message body is larger than the maximum payload size of \(maxPayloadSize) bytes.")
                }
                md5.update(data: bytes)
                sha256?.update(data: bytes)
                held.writeBytes(bytes)
            case .streamedMemberEnd:
                bodyEnded = true
            case .streamedMemberStart:
                if members["QueueUrl"]?.stringValue?.hasSuffix(".fifo") ?? true { sha256 = SHA256() }
            case .end:
                break
            }
        }
    }
}
