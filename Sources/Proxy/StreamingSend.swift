import Crypto
import ExtendedPayload
import NIOCore
import NIOHTTP1
import ObjectStore
import RequestLimits
import SQSWire
import TextCoding

/// SendMessage and SendMessageBatch with bodies too large to hold: each body streams from the
/// client to S3 while the request is parsed, its MD5 and length computed on the way.
extension ExtendedClient {
    /// Reads a send request as a stream and answers it. Bodies within the threshold are held;
    /// larger ones go to S3 as they arrive (in a multipart upload once they pass one part), one
    /// after another. Once the request was read, `verify` checks the client's signature: when it
    /// throws, what was stored is deleted and nothing goes to SQS. Then the request, decoded on the
    /// way, is sent as any other.
    /// Throws ``SQSError`` for what the client gets as an error while the request is read, anything
    /// else when the connection failed.
    func sendStreaming(
        _ context: RequestContext, body: RequestBody, queueURLs: QueueURLMap,
        verify: () throws(SQSError) -> Void
    ) async throws -> ProxyResponse {
        var reading = StreamingSendReading(
            body: body, declaredLength: context.declaredLength, wireProtocol: context.wireProtocol,
            partSize: payloads.partSize, limits: limits)
        var bodies: [Int: String] = [:]
        var stored: [Int: StoredPayload] = [:]
        var request: SQSRequest
        do {
            while let entry = try await reading.nextBody() {
                // A body that may fill a part goes to a multipart upload as soon as it passes the
                // threshold, its parts streamed while they arrive; any other is read whole first.
                try await reading.readBody(
                    whileHeldAtMost: reading.mayFillPart ? settings.policy.threshold : payloads.partSize)
                if reading.bodyEnded && reading.bodyLength <= settings.policy.threshold {
                    bodies[entry] = try reading.takeHeldBody()
                } else {
                    let payload = try await store(&reading)
                    stored[entry] = payload
                    bodies[entry] = PayloadPointer(bucket: settings.bucket ?? "", key: payload.key).encoded
                }
            }
            try verify()
            // Decoded once, from what the reader collected: held bodies as text, stored ones as pointers.
            request = try reading.reader.request(
                bodies: bodies, action: context.namedAction, path: context.head.path,
                queryString: context.head.queryString)
            guard request.action == .sendMessage || request.action == .sendMessageBatch, request.tree != nil else {
                throw SQSError.invalidParameterValue("\(request.action.rawValue) takes no message body.")
            }
            if let url = request.queueURL, let upstreamURL = queueURLs.upstreamURL(for: url) {
                request.setQueueURL(upstreamURL)
            }
        } catch {
            await deletePayloads(stored.values.map(\.key))
            throw error
        }
        var client = ClientRequest(head: context.head, body: ByteBuffer())
        client.streamed = true
        var storedByPosition: [Int: StoredPayload] = [:]
        for (entry, body) in stored { storedByPosition[reading.reader.entryPosition(entry)] = body }
        // From here the send owns the stored payloads.
        var response: ProxyResponse
        do throws(SQSError) {
            response = try await send(request, tree: request.tree!, client: client, stored: storedByPosition)
        } catch {
            response = .error(error, wireProtocol: context.wireProtocol)
        }
        response.action = request.action
        response.queueURL = queueURL(of: request, client: client)
        return response
    }

    /// Stores the body being read: in one PUT if it ended within one part, else in a multipart
    /// upload fed as the body arrives.
    private func store(_ reading: inout StreamingSendReading) async throws -> StoredPayload {
        guard let bucket = settings.bucket else { throw SQSError.internalFailure("No bucket is configured.") }
        let key = settings.keys.next()
        do {
            if reading.bodyEnded {
                try await payloads.put(bucket: bucket, key: key, body: reading.takeHeldBuffer())
            } else {
                try await payloads.upload(bucket: bucket, key: key) { try await reading.nextPart() }
            }
        } catch {
            // S3 may have stored it all the same (an answer that came too late): the key goes too.
            await deletePayloads([key])
            guard let error = error as? ObjectStoreError else { throw error }
            throw SQSError(
                shape: "InternalFailure", status: 500,
                message: "Could not store the message payload in S3 bucket \(bucket): \(error.detail)")
        }
        ProxyMetrics.payloadOffloaded(bytes: reading.bodyLength)
        return StoredPayload(
            key: key, length: reading.bodyLength, md5Hex: reading.md5Hex, sha256Hex: reading.sha256Hex)
    }
}

/// The state of reading one streamed send request: the events of the last piece not yet taken,
/// and the current body's bytes not yet handed on, digests and length.
struct StreamingSendReading {
    let body: RequestBody
    /// The request's declared length, if it has one.
    let declaredLength: Int?
    let partSize: Int
    let maxPayloadSize: Int
    /// The most bytes held of everything but the bodies stored in S3.
    let maxHeldBytes: Int
    private(set) var reader: StreamingSendRequestReader
    private var events: [StreamingSendRequestReader.Event] = []
    private var nextEventIndex = 0
    private var requestEnded = false
    /// Unescaped bytes of the current body read but not yet handed on.
    private var held = ByteBuffer()
    private var heldBodiesBytes = 0
    private(set) var bodyLength = 0
    private(set) var bodyEnded = false
    private var md5 = Insecure.MD5()
    private var sha256: SHA256?
    /// The part being streamed, not yet full.
    private var streamedPart: StreamedPart?
    /// Buffers of the current body's streamed pieces, reused once their part is in S3.
    private var pieceBuffers = PieceBuffers()
    /// The current body's entry: 0 for SendMessage's, from 1 for a batch's.
    private var entry = 0

    init(body: RequestBody, declaredLength: Int?, wireProtocol: SQSProtocol, partSize: Int, limits: RequestLimits) {
        self.body = body
        self.declaredLength = declaredLength
        self.partSize = partSize
        self.maxPayloadSize = limits.maxPayloadSize
        self.maxHeldBytes = limits.maxHeldRequestSize
        self.reader = StreamingSendRequestReader(
            wireProtocol: wireProtocol, maxMemberSize: RequestLimits.maxStreamedMemberSize)
    }

    var md5Hex: String { Hex.lowercase(md5.finalize()) }
    var sha256Hex: String { sha256.map { Hex.lowercase($0.finalize()) } ?? "" }

    /// Reads up to the next body; returns its entry, or nil once the request ended.
    mutating func nextBody() async throws -> Int? {
        while let event = try await nextEvent() {
            guard case .bodyStart(let entry) = event else { continue }
            self.entry = entry
            // Pages are only touched as the body arrives: a small body costs little of this.
            held = ByteBuffer()
            held.reserveCapacity(partSize + RequestLimits.pieceAllowance)
            bodyLength = 0
            bodyEnded = false
            pieceBuffers = PieceBuffers()
            md5 = Insecure.MD5()
            // Only a FIFO queue needs the body's SHA-256; SDKs send the queue URL first.
            sha256 = reader.queueURL?.hasSuffix(".fifo") ?? true ? SHA256() : nil
            return entry
        }
        return nil
    }

    /// Reads the current body until it ends or more than `limit` bytes of it are held.
    mutating func readBody(whileHeldAtMost limit: Int) async throws {
        while !bodyEnded && held.readableBytes <= limit {
            switch try await nextEvent() {
            case .bodyBytes(let bytes):
                bodyLength += bytes.count
                guard bodyLength <= maxPayloadSize else {
                    throw SQSError.invalidParameterValue(
                        "The message body is larger than the maximum payload size of \(maxPayloadSize) bytes.")
                }
                md5.update(data: bytes)
                sha256?.update(data: bytes)
                held.writeBytes(bytes)
            case .bodyEnd:
                bodyEnded = true
                pieceBuffers.close()
            case .bodyStart, nil:
                throw SQSError.malformedRequest("The request ended inside a message body.")
            }
        }
    }

    /// Whether the current body may still fill a part from what is held: the request's declared
    /// length leaves room for it (a body's bytes are never more than their encoding's). Only
    /// SendMessage's body: in a batch, the rest of the request is shared by several entries.
    var mayFillPart: Bool {
        guard let declaredLength, entry == 0 else { return false }
        return held.readableBytes + (declaredLength - body.received) >= partSize
    }

    /// The next part of the current body for an upload, once the part before it (if streamed) was
    /// fed whole. A part that may be full is streamed: it is returned at once and fed by the next
    /// call. Otherwise `partSize` bytes, or the rest once the body ended. Bytes read past a part
    /// move to a new buffer, so that each part in flight holds one part's memory.
    mutating func nextPart() async throws -> MultipartUploader.Part? {
        if let part = streamedPart {
            streamedPart = nil
            do {
                try await feed(part)
            } catch {
                part.fail(error)
                throw error
            }
        }
        if !bodyEnded && mayFillPart {
            let part = StreamedPart(length: partSize, pieceBuffers: pieceBuffers)
            streamedPart = part
            return .streamed(part)
        }
        try await readBody(whileHeldAtMost: partSize - 1)
        guard held.readableBytes > 0 else { return nil }
        let part = held.readSlice(length: min(partSize, held.readableBytes))
        moveHeldToNewBuffer()
        return part.map(MultipartUploader.Part.bytes)
    }

    /// Hands the held bytes and those that follow to `part` until it is full or the body ended, in
    /// pieces of `RequestLimits.streamedPieceSize` copied to buffers of that size: a part in flight holds its
    /// own bytes and no more, and pieces that large are unmapped when freed (smaller ones would
    /// fragment the heap), or reused once their part is in S3. `held` is reused for the next piece.
    private mutating func feed(_ part: StreamedPart) async throws {
        while true {
            let wanted = min(RequestLimits.streamedPieceSize, partSize - part.received)
            try await readBody(whileHeldAtMost: wanted - 1)
            let count = min(held.readableBytes, wanted)
            if count > 0 {
                var exact = pieceBuffers.buffer(capacity: count)
                _ = held.withUnsafeReadableBytes {
                    exact.writeBytes(UnsafeRawBufferPointer(rebasing: $0.prefix(count)))
                }
                held.moveReaderIndex(forwardBy: count)
                held.discardReadBytes()
                part.append(exact)
            }
            if part.received == partSize || bodyEnded {
                part.finish()
                return
            }
        }
    }

    /// Moves what is left of `held` to a new buffer of a part's size: the slice handed on keeps the
    /// old one.
    private mutating func moveHeldToNewBuffer() {
        var next = ByteBuffer()
        next.reserveCapacity(partSize + RequestLimits.pieceAllowance)
        next.writeBuffer(&held)
        held = next
    }

    /// The current body, ended and held whole, as text to put back in the request.
    mutating func takeHeldBody() throws(SQSError) -> String {
        heldBodiesBytes += held.readableBytes
        try checkHeldBytes()
        return String(buffer: takeHeldBuffer())
    }

    /// The current body's held bytes.
    mutating func takeHeldBuffer() -> ByteBuffer {
        defer { held = ByteBuffer() }
        return held
    }

    /// Refuses a request that holds more than `maxHeldBytes` besides the bodies stored in S3.
    private func checkHeldBytes() throws(SQSError) {
        guard reader.collectedBytes + heldBodiesBytes <= maxHeldBytes else {
            throw .invalidParameterValue("The request holds more than \(maxHeldBytes) bytes besides stored payloads.")
        }
    }

    private mutating func nextEvent() async throws -> StreamingSendRequestReader.Event? {
        while nextEventIndex == events.count {
            guard !requestEnded else { return nil }
            events.removeAll(keepingCapacity: true)
            nextEventIndex = 0
            if let piece = try await body.next() {
                try piece.withUnsafeReadableBytes { bytes throws(SQSError) in
                    try reader.read(bytes) { events.append($0) }
                }
                try checkHeldBytes()
            } else {
                try reader.finish { events.append($0) }
                requestEnded = true
            }
        }
        defer { nextEventIndex += 1 }
        return events[nextEventIndex]
    }
}
