import AWSSigning
import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Payload objects in S3: PUT, GET and DELETE over the shared HTTP client, signed with SigV4.
/// `http://` endpoints (local backends) and bucket names that are not DNS labels are addressed
/// path-style, AWS endpoints virtual-hosted style.
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

    let client: HTTPClient
    let endpoint: UpstreamEndpoint
    let signer: SigV4Signer
    let credentials: any CredentialProvider
    let timeout: TimeAmount

    public init(
        client: HTTPClient, endpoint: UpstreamEndpoint, region: String, credentials: any CredentialProvider,
        timeout: TimeAmount
    ) {
        self.client = client
        self.endpoint = endpoint
        self.signer = SigV4Signer(region: region, service: "s3", pathStyle: .s3)
        self.credentials = credentials
        self.timeout = timeout
    }

    /// Stores `body` under `bucket`/`key`.
    public func put(bucket: String, key: String, body: ByteBuffer, options: PutOptions = PutOptions())
        async throws(ObjectStoreError)
    {
        var extra: [(String, String)] = [("content-type", "application/octet-stream")]
        if let encryption = options.serverSideEncryption { extra.append(("x-amz-server-side-encryption", encryption)) }
        if let keyID = options.kmsKeyID { extra.append(("x-amz-server-side-encryption-aws-kms-key-id", keyID)) }
        if let acl = options.cannedACL { extra.append(("x-amz-acl", acl)) }
        let response = try await send(.PUT, bucket: bucket, key: key, headers: extra, body: body)
        guard response.status == .ok else { throw response.error }
    }

    /// Reads `bucket`/`key`, at most `maxSize` bytes.
    public func get(bucket: String, key: String, maxSize: Int) async throws(ObjectStoreError) -> ByteBuffer {
        let response = try await send(.GET, bucket: bucket, key: key, maxSize: maxSize)
        guard response.status == .ok else { throw response.error }
        return response.body
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
        let encodedKey = SigV4Signer.uriEncode(key, keepSlash: true)
        if endpoint.scheme == "https" && Self.isVirtualHostable(bucket) {
            let host = bucket + "." + endpoint.host + (endpoint.usesDefaultPort ? "" : ":\(endpoint.port)")
            return (host, endpoint.basePath + "/" + encodedKey)
        }
        return (
            endpoint.hostHeader,
            endpoint.basePath + "/" + SigV4Signer.uriEncode(bucket, keepSlash: false) + "/" + encodedKey
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

    private struct Response {
        var status: HTTPResponseStatus
        var body: ByteBuffer
        var error: ObjectStoreError
    }

    private func send(
        _ method: HTTPMethod, bucket: String, key: String, headers extra: [(String, String)] = [],
        body: ByteBuffer? = nil, maxSize: Int = 1024 * 1024
    ) async throws(ObjectStoreError) -> Response {
        let credentials: AWSCredentials
        do {
            credentials = try await self.credentials.credentials()
        } catch {
            throw ObjectStoreError(.transport, bucket: bucket, key: key, detail: "no usable AWS credentials")
        }
        let (host, path) = address(bucket: bucket, key: key)
        let payloadHash =
            endpoint.scheme == "https"
            ? "UNSIGNED-PAYLOAD"
            : body.map { buffer in buffer.withUnsafeReadableBytes { SigV4Signer.payloadHash($0) } }
                ?? SigV4Signer.emptyPayloadHash
        var toSign: [(name: String, value: String)] = [("host", host), ("x-amz-content-sha256", payloadHash)]
        toSign.append(contentsOf: extra.map { (name: $0.0, value: $0.1) })
        let signature = signer.sign(
            method: method.rawValue, path: path, query: "", headers: toSign, payloadHash: payloadHash,
            credentials: credentials, date: .now())
        var request = HTTPClientRequest(url: endpoint.scheme + "://" + host + path)
        request.method = method
        for header in toSign { request.headers.add(name: header.name, value: header.value) }
        for header in signature.headers { request.headers.replaceOrAdd(name: header.name, value: header.value) }
        if let body { request.body = .bytes(body) }
        do {
            let response = try await client.execute(request, deadline: .now() + timeout)
            let responseBody = try await response.body.collect(upTo: max(maxSize, 64 * 1024))
            let error = ObjectStoreError.from(
                status: Int(response.status.code), body: responseBody, bucket: bucket, key: key)
            return Response(status: response.status, body: responseBody, error: error)
        } catch let error as ObjectStoreError {
            throw error
        } catch {
            throw ObjectStoreError(.transport, bucket: bucket, key: key, detail: "\(error)")
        }
    }
}
