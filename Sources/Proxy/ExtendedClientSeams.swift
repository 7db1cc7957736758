import AsyncHTTPClient
import NIOCore
import ObjectStore
import SQSWire
import ServerEdge

/// Where the extended client keeps payloads: the S3 calls it makes, small enough to fake in tests.
protocol PayloadStore: Sendable {
    /// Bodies larger than this go up in a multipart upload.
    var partSize: Int { get }
    /// How many parts of one upload are in flight at once.
    var partsInFlight: Int { get }
    /// Stores a body held in memory: one PUT, or a multipart upload when it is over `partSize`.
    func put(bucket: String, key: String, body: ByteBuffer) async throws(ObjectStoreError)
    /// Stores a body in the parts `nextPart` gives while it arrives; any failure aborts the upload.
    func upload(bucket: String, key: String, nextPart: () async throws -> MultipartUploader.Part?) async throws
    /// Reads an object whole, at most `maxSize` bytes.
    func get(bucket: String, key: String, maxSize: Int) async throws(ObjectStoreError) -> ByteBuffer
    /// Opens an object to stream it, in ranges of `rangeSize` when given; one S3 says is over
    /// `maxSize` bytes is not opened.
    func open(bucket: String, key: String, maxSize: Int, rangeSize: Int?) async throws(ObjectStoreError) -> ObjectBody
    /// Deletes an object; one already gone counts as deleted.
    func delete(bucket: String, key: String) async throws(ObjectStoreError)
}

/// What came of a request sent to SQS.
enum UpstreamOutcome: Sendable {
    /// SQS answered (any status).
    case answered(ProxyResponse)
    /// No answer: the error for the client, and whether the request may have reached SQS (a
    /// connection that broke after it was written, a timeout) or surely did not (no connection).
    case failed(SQSError, mayHaveArrived: Bool)

    /// The answer, whatever its status; the error when none came.
    func response() throws(SQSError) -> ProxyResponse {
        switch self {
        case .answered(let response): return response
        case .failed(let error, _): throw error
        }
    }

    /// Whether SQS may have acted on the request: it accepted it, failed in a way that does not
    /// say (a 5xx), or the answer never came after the request may have arrived. Only a 4xx, or a
    /// request that never left, says it did not.
    var mayHaveTakenEffect: Bool {
        switch self {
        case .answered(let response): return response.status.code < 400 || response.status.code >= 500
        case .failed(_, let mayHaveArrived): return mayHaveArrived
        }
    }
}

/// The SQS calls of the extended client, small enough to fake in tests.
protocol SQSCalls: Sendable {
    /// Sends `request` with `body` (which may differ from the client's) and tells what came of it.
    func send(_ request: ClientRequest, body: ByteBuffer, action: SQSAction) async -> UpstreamOutcome
    /// A call of the proxy's own in the JSON protocol: the result tree, nil if SQS refused it.
    func call(_ action: SQSAction, input: JSONValue) async throws(SQSError) -> JSONValue?
    /// The upstream URL of a request path (the queue a Query request was posted to).
    func url(path: String) -> String
}

extension SQSCalls {
    /// Sends `request` and returns the answer, whatever its status; throws when none came.
    func forward(_ request: ClientRequest, body: ByteBuffer, action: SQSAction) async throws(SQSError)
        -> ProxyResponse
    {
        try await send(request, body: body, action: action).response()
    }
}

/// Payloads in S3: one PUT or a multipart upload, with the configured encryption and ACL.
struct S3PayloadStore: PayloadStore {
    let store: S3ObjectStore
    let uploader: MultipartUploader
    let options: S3ObjectStore.PutOptions

    var partSize: Int { uploader.partSize }
    var partsInFlight: Int { uploader.partsInFlight }

    func put(bucket: String, key: String, body: ByteBuffer) async throws(ObjectStoreError) {
        if body.readableBytes > uploader.partSize {
            try await uploader.upload(bucket: bucket, key: key, body: body, options: options)
        } else {
            try await store.put(bucket: bucket, key: key, body: body, options: options)
        }
    }

    func upload(bucket: String, key: String, nextPart: () async throws -> MultipartUploader.Part?) async throws {
        try await uploader.upload(bucket: bucket, key: key, options: options, nextPart: nextPart)
    }

    func get(bucket: String, key: String, maxSize: Int) async throws(ObjectStoreError) -> ByteBuffer {
        try await store.get(bucket: bucket, key: key, maxSize: maxSize)
    }

    func open(bucket: String, key: String, maxSize: Int, rangeSize: Int?) async throws(ObjectStoreError) -> ObjectBody {
        guard let rangeSize else {
            return ObjectBody(stream: try await store.open(bucket: bucket, key: key, maxSize: maxSize))
        }
        return try await store.open(bucket: bucket, key: key, maxSize: maxSize, rangeSize: rangeSize)
    }

    func delete(bucket: String, key: String) async throws(ObjectStoreError) {
        try await store.delete(bucket: bucket, key: key)
    }
}
