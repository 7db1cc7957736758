import ExtendedPayload
import NIOCore
import ObjectStore
import RequestLimits
import SQSWire
import ServerEdge

/// Reads a SendMessage or SendMessageBatch whose bodies may be too large to hold: each body over
/// the threshold streams from the client to S3 while the request is parsed (in a multipart upload
/// once it passes one part), its MD5 and length computed on the way; bodies within the threshold
/// are held. The result is the request decoded as any other, its stored bodies replaced by their
/// pointers, and the payloads stored: from there it takes the same road as every request.
struct StreamedSendReader: Sendable {
    let payloads: any PayloadStore
    /// The bucket payloads are stored in.
    let bucket: String
    let keys: PayloadKeyGenerator
    let limits: RequestLimits
    /// Deletes the payloads of keys; failures are logged.
    let deletePayloads: @Sendable ([String]) async -> Void

    /// A request read whole: decoded, with the bodies stored while it arrived, by entry position
    /// (0 for SendMessage), which the caller owns from here.
    struct Read: Sendable {
        var request: SQSRequest
        var stored: [Int: StoredPayload]
    }

    /// Reads the request. On any failure, deletes what it stored and throws: ``SQSError`` for what
    /// the client gets as an error, anything else when the connection failed.
    func read(_ context: RequestContext, body: RequestBody) async throws -> Read {
        var reading = StreamingSendReading(
            body: body, declaredLength: context.declaredLength, wireProtocol: context.wireProtocol,
            partSize: payloads.partSize, limits: limits)
        var bodies: [Int: String] = [:]
        var stored: [Int: StoredPayload] = [:]
        do {
            while let entry = try await reading.nextBody() {
                // A body that may fill a part goes to a multipart upload as soon as it passes the
                // threshold, its parts streamed while they arrive; any other is read whole first.
                try await reading.readBody(
                    whileHeldAtMost: reading.mayFillPart ? limits.threshold : payloads.partSize)
                if reading.bodyEnded && reading.bodyLength <= limits.threshold {
                    bodies[entry] = try reading.takeHeldBody()
                } else {
                    let payload = try await store(&reading)
                    stored[entry] = payload
                    bodies[entry] = PayloadPointer(bucket: bucket, key: payload.key).encoded
                }
            }
            // Decoded once, from what the reader collected: held bodies as text, stored ones as pointers.
            let request = try reading.reader.request(
                bodies: bodies, action: context.namedAction, path: context.head.path,
                queryString: context.head.queryString)
            guard request.action == .sendMessage || request.action == .sendMessageBatch, request.tree != nil else {
                throw SQSError.invalidParameterValue("\(request.action.rawValue) takes no message body.")
            }
            var byPosition: [Int: StoredPayload] = [:]
            for (entry, payload) in stored { byPosition[reading.reader.entryPosition(entry)] = payload }
            return Read(request: request, stored: byPosition)
        } catch {
            await deletePayloads(stored.values.map(\.key))
            throw error
        }
    }

    /// Stores the body being read: in one PUT if it ended within one part, else in a multipart
    /// upload fed as the body arrives.
    private func store(_ reading: inout StreamingSendReading) async throws -> StoredPayload {
        let key = keys.next()
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
            throw SQSError.storeFailed(bucket: bucket, error)
        }
        ProxyMetrics.payloadOffloaded(bytes: reading.bodyLength)
        return StoredPayload(
            key: key, length: reading.bodyLength, md5Hex: reading.md5Hex, sha256Hex: reading.sha256Hex)
    }
}

extension SQSError {
    /// A payload that could not be stored in S3: the message is not sent.
    static func storeFailed(bucket: String, _ error: ObjectStoreError) -> SQSError {
        SQSError(
            shape: "InternalFailure", status: 500,
            message: "Could not store the message payload in S3 bucket \(bucket): \(error.detail)")
    }
}
