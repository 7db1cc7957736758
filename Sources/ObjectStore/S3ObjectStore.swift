import AWSCredentialChain
import AWSSigning
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import RequestTracing
import TextCoding
import Tracing
import Upstream

/// Payload objects in S3: PUT, GET and DELETE over the shared HTTP client, signed with SigV4.
/// `http://` endpoints (local backends) and bucket names that are not DNS labels are addressed
/// path-style, AWS endpoints virtual-hosted style. Payload bodies (PUT, UploadPart) are signed as
/// `UNSIGNED-PAYLOAD`, as over HTTPS every request is: hashing them cost about 15% of a large
/// send's CPU. Other bodies (a multipart completion) are hashed into the signature over HTTP.
public struct S3ObjectStore: Sendable {
    /// Options the extended clients apply when they store a payload.
    public struct PutOptions: Sendable, Hashable {
        /// `x-amz-server-side-encryption`, e.g. `aws:kms`.
        public var serverSideEncryption: String?
        /// `x-amz-server-side-encryption-aws-kms-key-id`.
        public var kmsKeyID: String?
        /// `x-amz-acl`, a canned ACL.
        public var cannedACL: String?

        public init(serverSideEncryption: String? = nil, kmsKeyID: String? = nil, cannedACL: String? = nil) {
            self.serverSideEncryption = serverSideEncryption
            self.kmsKeyID = kmsKeyID
            self.cannedACL = cannedACL
        }
    }

    let caller: UpstreamCaller
    let endpoint: UpstreamEndpoint
    let signer: SigV4Signer
    let credentials: any CredentialProvider
    let timeout: TimeAmount

    public init(
        caller: UpstreamCaller, endpoint: UpstreamEndpoint, region: String, credentials: any CredentialProvider,
        timeout: TimeAmount
    ) {
        self.caller = caller
        self.endpoint = endpoint
        self.signer = SigV4Signer(region: region, service: "s3", pathStyle: .s3)
        self.credentials = credentials
        self.timeout = timeout
    }

    /// Stores `body` under `bucket`/`key`.
    public func put(bucket: String, key: String, body: ByteBuffer, options: PutOptions = PutOptions())
        async throws(ObjectStoreError)
    {
        let response = try await send(
            .PUT, bucket: bucket, key: key, headers: putHeaders(options), payload: .unsigned(body))
        guard response.status == .ok else { throw response.error }
    }

    /// Reads `bucket`/`key`, at most `maxSize` bytes.
    public func get(bucket: String, key: String, maxSize: Int) async throws(ObjectStoreError) -> ByteBuffer {
        let response = try await send(.GET, bucket: bucket, key: key, maxSize: maxSize)
        guard response.status == .ok else { throw response.error }
        return response.body
    }

    /// Opens `bucket`/`key` for reading as a stream: the object's bytes arrive as the consumer reads
    /// them. Fails before anything is read if the object cannot be had, or if S3 says it is larger
    /// than `maxSize` bytes (``ObjectStoreError/Kind/tooLarge``).
    public func open(bucket: String, key: String, maxSize: Int = .max) async throws(ObjectStoreError)
        -> HTTPClientResponse.Body
    {
        let response = try await start(.GET, bucket: bucket, key: key)
        guard response.status == .ok else {
            let body = (try? await response.body.collect(upTo: 64 * 1024)) ?? ByteBuffer()
            throw ObjectStoreError.from(status: Int(response.status.code), body: body, bucket: bucket, key: key)
        }
        if let length = response.headers.first(name: "content-length").flatMap({ Int($0) }), length > maxSize {
            throw ObjectStoreError(
                .tooLarge, bucket: bucket, key: key, detail: "\(length) bytes, more than the \(maxSize) read")
        }
        return response.body
    }

    /// Opens `bucket`/`key` to be read in ranges of `rangeSize` bytes, several at once (see
    /// ``ObjectBody/forEachPiece(window:_:)``): the first range is asked for at once, and its answer
    /// says how long the object is. An object within one range, or an S3 that answers the whole
    /// object, is read in that one GET; an empty one (which no range fits) in a GET of its own. The
    /// first range is held until the body is read; every range after it must come from the same
    /// version of the object (`If-Match`). Fails before anything is read as
    /// ``open(bucket:key:maxSize:)`` does.
    public func open(bucket: String, key: String, maxSize: Int = .max, rangeSize: Int) async throws(ObjectStoreError)
        -> ObjectBody
    {
        let first = "bytes=0-\(rangeSize - 1)"
        let response = try await start(.GET, bucket: bucket, key: key, headers: [("range", first)])
        switch response.status {
        case .partialContent:
            guard let length = Self.completeLength(response.headers.first(name: "content-range")) else {
                throw ObjectStoreError(
                    .transport, bucket: bucket, key: key, detail: "a range answer without its length")
            }
            guard length <= maxSize else {
                throw ObjectStoreError(
                    .tooLarge, bucket: bucket, key: key, detail: "\(length) bytes, more than the \(maxSize) read")
            }
            guard length > rangeSize else { return ObjectBody(stream: response.body) }
            let read = RangedRead(length: length, rangeSize: rangeSize, window: 1)
            let etag = response.headers.first(name: "etag")
            let firstRange: ByteBuffer
            do throws(ObjectStoreError) {
                firstRange = try await collect(response.body, of: read, index: 0, bucket: bucket, key: key)
            } catch  where error.kind == .transport {
                // Cut short: asked for again, as any range is.
                firstRange = try await fetchRange(0, of: read, etag: etag, bucket: bucket, key: key)
            }
            return ObjectBody(ranged: read, first: firstRange) { index throws(ObjectStoreError) in
                try await fetchRange(index, of: read, etag: etag, bucket: bucket, key: key)
            }
        case .rangeNotSatisfiable:
            return ObjectBody(stream: try await open(bucket: bucket, key: key, maxSize: maxSize))
        case .ok:
            if let length = response.headers.first(name: "content-length").flatMap({ Int($0) }), length > maxSize {
                throw ObjectStoreError(
                    .tooLarge, bucket: bucket, key: key, detail: "\(length) bytes, more than the \(maxSize) read")
            }
            return ObjectBody(stream: response.body)
        default:
            let body = (try? await response.body.collect(upTo: 64 * 1024)) ?? ByteBuffer()
            throw ObjectStoreError.from(status: Int(response.status.code), body: body, bucket: bucket, key: key)
        }
    }

    /// Reads range `index` whole: a read cut short is tried again (twice), as is an answer the
    /// caller would have retried; the object changing meanwhile (412) is not.
    private func fetchRange(_ index: Int, of read: RangedRead, etag: String?, bucket: String, key: String)
        async throws(ObjectStoreError) -> ByteBuffer
    {
        var headers = [("range", read.header(of: index))]
        if let etag { headers.append(("if-match", etag)) }
        var attempt = 1
        while true {
            do throws(ObjectStoreError) {
                let response = try await start(.GET, bucket: bucket, key: key, headers: headers)
                guard response.status == .partialContent else {
                    let body = (try? await response.body.collect(upTo: 64 * 1024)) ?? ByteBuffer()
                    throw ObjectStoreError.from(status: Int(response.status.code), body: body, bucket: bucket, key: key)
                }
                return try await collect(response.body, of: read, index: index, bucket: bucket, key: key)
            } catch  where error.kind == .transport && attempt < 3 {
                attempt += 1
            }
        }
    }

    /// The body of range `index`, which must be exactly that range's length.
    private func collect(_ body: HTTPClientResponse.Body, of read: RangedRead, index: Int, bucket: String, key: String)
        async throws(ObjectStoreError) -> ByteBuffer
    {
        let expected = read.bytes(of: index).count
        let buffer: ByteBuffer
        do {
            buffer = try await body.collect(upTo: expected)
        } catch {
            throw ObjectStoreError(.transport, bucket: bucket, key: key, detail: "range \(index): \(error)")
        }
        guard buffer.readableBytes == expected else {
            throw ObjectStoreError(
                .transport, bucket: bucket, key: key,
                detail: "range \(index): \(buffer.readableBytes) bytes instead of \(expected)")
        }
        return buffer
    }

    /// The complete length a `Content-Range` header (`bytes 0-1023/4096`) states.
    static func completeLength(_ header: String?) -> Int? {
        guard let header, header.hasPrefix("bytes "), let slash = header.lastIndex(of: "/") else { return nil }
        return Int(header[header.index(after: slash)...])
    }

    /// Deletes `bucket`/`key`; deleting an object that is already gone succeeds.
    public func delete(bucket: String, key: String) async throws(ObjectStoreError) {
        let response = try await send(.DELETE, bucket: bucket, key: key)
        guard response.status == .noContent || response.status == .ok || response.status == .notFound else {
            throw response.error
        }
    }

    /// The host header and path of an object's URL.
    func address(bucket: String, key: String) -> (host: String, path: String) {
        let encodedKey = PercentEncoding.encode(key, keepSlash: true)
        if endpoint.scheme == "https" && Self.isVirtualHostable(bucket) {
            let host = bucket + "." + endpoint.host + (endpoint.usesDefaultPort ? "" : ":\(endpoint.port)")
            return (host, endpoint.basePath + "/" + encodedKey)
        }
        return (
            endpoint.hostHeader,
            endpoint.basePath + "/" + PercentEncoding.encode(bucket, keepSlash: false) + "/" + encodedKey
        )
    }

    /// Whether a bucket name can be a DNS label under TLS: 3 to 63 lowercase letters, digits and
    /// hyphens, no dots, starting and ending with a letter or digit.
    static func isVirtualHostable(_ bucket: String) -> Bool {
        let bytes = Array(bucket.utf8)
        guard (3...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-")
        else { return false }
        return bytes.allSatisfy {
            ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                || $0 == UInt8(ascii: "-")
        }
    }

    // MARK: Multipart upload

    /// Starts a multipart upload of `bucket`/`key`; returns its upload id.
    public func createMultipartUpload(bucket: String, key: String, options: PutOptions = PutOptions())
        async throws(ObjectStoreError) -> String
    {
        let response = try await send(
            .POST, bucket: bucket, key: key, query: "uploads=", headers: putHeaders(options))
        guard response.status == .ok,
            let uploadID = XMLElementNode.text(of: "UploadId", in: String(buffer: response.body))
        else { throw response.error }
        return uploadID
    }

    /// Uploads part `number` (from 1) of an upload; returns the part's ETag.
    public func uploadPart(bucket: String, key: String, uploadID: String, number: Int, body: ByteBuffer)
        async throws(ObjectStoreError) -> String
    {
        let response = try await send(
            .PUT, bucket: bucket, key: key, query: "partNumber=\(number)&uploadId=\(Self.queryEncode(uploadID))",
            payload: .unsigned(body))
        guard response.status == .ok, let etag = response.headers.first(name: "etag") else { throw response.error }
        return etag
    }

    /// Uploads part `number` of an upload while its bytes arrive; returns the part's ETag. The part
    /// is streamed once; if that fails (S3 failed, or the part ended shorter than declared), it is
    /// uploaded from memory once whole, with the usual retries.
    public func uploadPart(bucket: String, key: String, uploadID: String, number: Int, streaming part: StreamedPart)
        async throws -> String
    {
        let query = "partNumber=\(number)&uploadId=\(Self.queryEncode(uploadID))"
        let etag: String
        do {
            let response = try await send(
                .PUT, bucket: bucket, key: key, query: query, payload: .stream(part.stream, length: part.length))
            guard response.status == .ok, let streamedETag = response.headers.first(name: "etag") else {
                throw response.error
            }
            etag = streamedETag
        } catch {
            etag = try await uploadPart(
                bucket: bucket, key: key, uploadID: uploadID, number: number, body: try await part.whole())
        }
        part.uploaded()
        return etag
    }

    /// Completes an upload from its parts' ETags, in part order.
    public func completeMultipartUpload(bucket: String, key: String, uploadID: String, etags: [String])
        async throws(ObjectStoreError)
    {
        var xml = "<CompleteMultipartUpload>"
        for (index, etag) in etags.enumerated() {
            xml += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(TextEscaping.xml(etag))</ETag></Part>"
        }
        xml += "</CompleteMultipartUpload>"
        let response = try await send(
            .POST, bucket: bucket, key: key, query: "uploadId=\(Self.queryEncode(uploadID))",
            headers: [("content-type", "application/xml")], payload: .signed(ByteBuffer(string: xml)))
        // S3 may answer 200 and still report an error in the body.
        guard response.status == .ok, !String(buffer: response.body).containsBytes(of: "<Error>") else {
            throw response.error
        }
    }

    /// Aborts an upload, discarding its parts.
    public func abortMultipartUpload(bucket: String, key: String, uploadID: String) async throws(ObjectStoreError) {
        let response = try await send(
            .DELETE, bucket: bucket, key: key, query: "uploadId=\(Self.queryEncode(uploadID))")
        guard response.status == .noContent || response.status == .ok || response.status == .notFound else {
            throw response.error
        }
    }

    private func putHeaders(_ options: PutOptions) -> [(String, String)] {
        var headers: [(String, String)] = [("content-type", "application/octet-stream")]
        if let encryption = options.serverSideEncryption {
            headers.append(("x-amz-server-side-encryption", encryption))
        }
        if let keyID = options.kmsKeyID { headers.append(("x-amz-server-side-encryption-aws-kms-key-id", keyID)) }
        if let acl = options.cannedACL { headers.append(("x-amz-acl", acl)) }
        return headers
    }

    private static func queryEncode(_ value: String) -> String {
        PercentEncoding.encode(value, keepSlash: false)
    }

    // MARK: Requests

    private struct Response {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer
        var bucket: String
        var key: String

        /// The error this response describes, read from its body only when asked (a successful
        /// GET's body is a payload).
        var error: ObjectStoreError {
            ObjectStoreError.from(status: Int(status.code), body: body, bucket: bucket, key: key)
        }
    }

    /// A request body.
    enum Payload {
        /// Hashed into the signature over HTTP (over HTTPS every body is `UNSIGNED-PAYLOAD`).
        case signed(ByteBuffer)
        /// A payload body, never hashed.
        case unsigned(ByteBuffer)
        /// A payload body streamed with a declared length: sent once, never tried again.
        case stream(AsyncThrowingStream<ByteBuffer, any Error>, length: Int)

        /// Whether the body streams (and so cannot be sent again).
        var streams: Bool {
            if case .stream = self { return true }
            return false
        }

        /// How many bytes the body is.
        var length: Int {
            switch self {
            case .signed(let body), .unsigned(let body): body.readableBytes
            case .stream(_, let length): length
            }
        }
    }

    private func send(
        _ method: HTTPMethod, bucket: String, key: String, query: String = "", headers extra: [(String, String)] = [],
        payload: Payload? = nil, maxSize: Int = 1024 * 1024
    ) async throws(ObjectStoreError) -> Response {
        let response = try await start(method, bucket: bucket, key: key, query: query, headers: extra, payload: payload)
        do {
            let responseBody = try await response.body.collect(upTo: max(maxSize, 64 * 1024))
            return Response(
                status: response.status, headers: response.headers, body: responseBody, bucket: bucket, key: key)
        } catch is NIOTooManyBytesError {
            throw ObjectStoreError(.tooLarge, bucket: bucket, key: key, detail: "more than the \(maxSize) bytes read")
        } catch {
            throw ObjectStoreError(.transport, bucket: bucket, key: key, detail: "\(error)")
        }
    }

    /// Signs and sends a request; returns the response with its body still to be read. Connections
    /// that cannot be made, 429 and 5xx answers are tried again (every call here may be repeated:
    /// keys are unique) unless the body is a stream; an answer that stays 5xx is thrown as its error.
    private func start(
        _ method: HTTPMethod, bucket: String, key: String, query: String = "", headers extra: [(String, String)] = [],
        payload: Payload? = nil
    ) async throws(ObjectStoreError) -> HTTPClientResponse {
        let credentials: AWSCredentials
        do {
            credentials = try await self.credentials.credentials()
        } catch {
            throw ObjectStoreError(.transport, bucket: bucket, key: key, detail: "no usable AWS credentials: \(error)")
        }
        let (host, path) = address(bucket: bucket, key: key)
        let payloadHash: String
        switch payload {
        case .signed(let body) where endpoint.scheme != "https":
            payloadHash = body.withUnsafeReadableBytes { SigV4Signer.payloadHash($0) }
        case nil where endpoint.scheme != "https": payloadHash = SigV4Signer.emptyPayloadHash
        default: payloadHash = "UNSIGNED-PAYLOAD"
        }
        let call = UpstreamCaller.Call(
            service: "s3", operation: Self.operation(method, query: query), repeatable: true,
            retried: !(payload?.streams ?? false), timeout: timeout,
            spanAttributes: RequestTrace.current == nil
                ? [:] : Self.spanAttributes(bucket: bucket, key: key, query: query, headers: extra, payload: payload))
        let result: Result<HTTPClientResponse, ObjectStoreError> = await caller.call(
            call,
            request: {
                var toSign: [(name: String, value: String)] = [("host", host), ("x-amz-content-sha256", payloadHash)]
                toSign.append(contentsOf: extra.map { (name: $0.0, value: $0.1) })
                let signature = signer.sign(
                    method: method.rawValue, path: path, query: query, headers: toSign, payloadHash: payloadHash,
                    credentials: credentials, date: .now())
                var request = HTTPClientRequest(
                    url: endpoint.scheme + "://" + host + path + (query.isEmpty ? "" : "?" + query))
                request.method = method
                for header in toSign { request.headers.add(name: header.name, value: header.value) }
                for header in signature.headers { request.headers.replaceOrAdd(name: header.name, value: header.value) }
                request.headers.add(name: "User-Agent", value: ProxyVersion.product)
                switch payload {
                case .signed(let body), .unsigned(let body): request.body = .bytes(body)
                case .stream(let pieces, let length): request.body = .stream(pieces, length: .known(Int64(length)))
                case nil: break
                }
                return request
            },
            answer: { response in
                guard response.status.code == 429 || response.status.code >= 500 else {
                    return (.success(response), nil)
                }
                let errorBody = (try? await response.body.collect(upTo: 64 * 1024)) ?? ByteBuffer()
                return (
                    .failure(
                        ObjectStoreError.from(
                            status: Int(response.status.code), body: errorBody, bucket: bucket, key: key)),
                    UpstreamFailure.of(status: response.status.code, body: errorBody)
                )
            },
            failed: { error in .failure(ObjectStoreError(.transport, bucket: bucket, key: key, detail: "\(error)")) })
        return try result.get()
    }

    /// What a call's span says of it, by the OpenTelemetry conventions for S3: the bucket, the key,
    /// the part, the range, and the bytes it sends.
    static func spanAttributes(
        bucket: String, key: String, query: String, headers: [(String, String)], payload: Payload?
    ) -> SpanAttributes {
        var attributes: SpanAttributes = [
            "aws.s3.bucket": SpanText.bounded(bucket), "aws.s3.key": SpanText.bounded(key),
        ]
        for parameter in query.split(separator: "&") where parameter.hasPrefix("partNumber=") {
            if let part = Int(parameter.dropFirst("partNumber=".count)) { attributes["aws.s3.part_number"] = part }
        }
        if let range = headers.first(where: { $0.0.lowercased() == "range" })?.1 {
            attributes["sqs_extended_proxy.s3.range"] = SpanText.bounded(range)
        }
        if let length = payload?.length { attributes["http.request.body.size"] = length }
        return attributes
    }

    /// The S3 operation a request is, for the upstream latency histogram.
    static func operation(_ method: HTTPMethod, query: String) -> String {
        switch method {
        case .PUT: return query.containsBytes(of: "partNumber=") ? "UploadPart" : "PutObject"
        case .GET: return "GetObject"
        case .DELETE: return query.containsBytes(of: "uploadId=") ? "AbortMultipartUpload" : "DeleteObject"
        case .POST: return query.hasPrefix("uploads") ? "CreateMultipartUpload" : "CompleteMultipartUpload"
        default: return method.rawValue
        }
    }
}
