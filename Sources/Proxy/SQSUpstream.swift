import AWSSigning
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import SQSWire

/// The upstream SQS service: signs and sends requests through the shared HTTP client.
public struct SQSUpstream: Sendable {
    /// Response headers passed back to clients.
    static let returnedHeaders = ["content-type", "x-amzn-requestid", "x-amzn-query-error"]

    let client: HTTPClient
    let builder: UpstreamRequestBuilder
    let credentials: any CredentialProvider
    let readTimeout: TimeAmount
    let maxResponseSize: Int

    public init(
        client: HTTPClient, endpoint: UpstreamEndpoint, region: String, credentials: any CredentialProvider,
        readTimeout: TimeAmount, maxResponseSize: Int = 64 * 1024 * 1024
    ) {
        self.client = client
        self.builder = UpstreamRequestBuilder(endpoint: endpoint, signer: SigV4Signer(region: region, service: "sqs"))
        self.credentials = credentials
        self.readTimeout = readTimeout
        self.maxResponseSize = maxResponseSize
    }

    /// Forwards `request` (with `body`, which may differ from the client's) and returns the
    /// upstream answer. Transport failures become SQS errors.
    public func forward(_ request: ClientRequest, body: ByteBuffer) async throws(SQSError) -> ProxyResponse {
        let credentials: AWSCredentials
        do {
            credentials = try await self.credentials.credentials()
        } catch {
            throw .internalFailure("The proxy has no usable AWS credentials.")
        }
        let payloadHash = body.withUnsafeReadableBytes { SigV4Signer.payloadHash($0) }
        let (url, headers) = builder.build(
            method: request.head.method, path: request.path, query: request.queryString,
            clientHeaders: request.head.headers, payloadHash: payloadHash, credentials: credentials,
            date: .now())
        var upstreamRequest = HTTPClientRequest(url: url)
        upstreamRequest.method = request.head.method
        upstreamRequest.headers = headers
        upstreamRequest.body = .bytes(body)
        do {
            let response = try await client.execute(upstreamRequest, deadline: .now() + readTimeout)
            let responseBody = try await response.body.collect(upTo: maxResponseSize)
            var returned = HTTPHeaders()
            for name in Self.returnedHeaders {
                for value in response.headers[name] { returned.add(name: Self.canonicalName(name), value: value) }
            }
            return ProxyResponse(status: response.status, headers: returned, body: responseBody)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw .serviceUnavailable("The upstream SQS endpoint did not answer in time.")
        } catch {
            throw .serviceUnavailable("The upstream SQS endpoint could not be reached.")
        }
    }

    /// The upstream URL of `path`.
    public func url(path: String) -> String {
        builder.endpoint.origin + builder.endpoint.basePath + path
    }

    /// Makes a call of the proxy's own in the JSON protocol; the result tree, or nil if SQS refused.
    public func call(_ action: SQSAction, input: JSONValue) async throws(SQSError) -> JSONValue? {
        let head = HTTPRequestHead(
            version: .http1_1, method: .POST, uri: "/",
            headers: ["Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS." + action.rawValue])
        let response = try await forward(
            ClientRequest(head: head, body: ByteBuffer()), body: ByteBuffer(bytes: input.serialized()))
        guard response.status == .ok else { return nil }
        return try? response.body.withUnsafeReadableBytes { bytes throws(SQSError) in try JSONValue.parse(bytes) }
    }

    private static func canonicalName(_ name: String) -> String {
        switch name {
        case "content-type": return "Content-Type"
        case "x-amzn-requestid": return "x-amzn-RequestId"
        default: return name
        }
    }
}
