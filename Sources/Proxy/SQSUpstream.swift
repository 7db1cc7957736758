import AWSCredentialChain
import AWSSigning
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import SQSWire
import Upstream

/// The upstream SQS service: signs and sends requests through the shared HTTP client.
public struct SQSUpstream: SQSCalls {
    /// Response headers passed back to clients.
    static let returnedHeaders = ["content-type", "x-amzn-requestid", "x-amzn-query-error"]

    let caller: UpstreamCaller
    let builder: UpstreamRequestBuilder
    let credentials: any CredentialProvider
    let readTimeout: TimeAmount
    let maxResponseSize: Int

    public init(
        caller: UpstreamCaller, endpoint: UpstreamEndpoint, region: String, credentials: any CredentialProvider,
        readTimeout: TimeAmount, maxResponseSize: Int = 64 * 1024 * 1024
    ) {
        self.caller = caller
        self.builder = UpstreamRequestBuilder(endpoint: endpoint, signer: SigV4Signer(region: region, service: "sqs"))
        self.credentials = credentials
        self.readTimeout = readTimeout
        self.maxResponseSize = maxResponseSize
    }

    /// Sends `request` (with `body`, which may differ from the client's) and tells what came of it.
    /// Throttling, 5xx answers and connections that could not be made are tried again (sends only
    /// when SQS cannot have taken the message: see ``RetryPolicy``); transport failures become SQS
    /// errors, with whether the request may have reached SQS.
    func send(_ request: ClientRequest, body: ByteBuffer, action: SQSAction) async -> UpstreamOutcome {
        let credentials: AWSCredentials
        do {
            credentials = try await self.credentials.credentials()
        } catch {
            return .failed(
                .serviceUnavailable("The proxy has no usable AWS credentials: \(error)"), mayHaveArrived: false)
        }
        let payloadHash = body.withUnsafeReadableBytes { SigV4Signer.payloadHash($0) }
        let call = UpstreamCaller.Call(
            service: "sqs", repeatable: action != .sendMessage && action != .sendMessageBatch, timeout: readTimeout)
        return await caller.call(
            call,
            request: {
                let (url, headers) = builder.build(
                    method: request.head.method, path: request.path, query: request.queryString,
                    clientHeaders: request.head.headers, payloadHash: payloadHash, credentials: credentials,
                    date: .now())
                var upstreamRequest = HTTPClientRequest(url: url)
                upstreamRequest.method = request.head.method
                upstreamRequest.headers = headers
                upstreamRequest.body = .bytes(body)
                return upstreamRequest
            },
            answer: { response in
                let responseBody = try await response.body.collect(upTo: maxResponseSize)
                var returned = HTTPHeaders()
                for name in Self.returnedHeaders {
                    for value in response.headers[name] { returned.add(name: Self.canonicalName(name), value: value) }
                }
                let answer = ProxyResponse(status: response.status, headers: returned, body: responseBody)
                return (.answered(answer), UpstreamFailure.of(status: response.status.code, body: responseBody))
            },
            failed: { error in
                if let error = error as? HTTPClientError, error == .deadlineExceeded || error == .readTimeout {
                    return .failed(
                        .serviceUnavailable("The upstream SQS endpoint did not answer in time."), mayHaveArrived: true)
                }
                return .failed(
                    .serviceUnavailable("The upstream SQS endpoint could not be reached."),
                    mayHaveArrived: UpstreamFailure.of(error) != .notSent)
            })
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
            ClientRequest(head: head, body: ByteBuffer()), body: ByteBuffer(bytes: input.serialized()), action: action)
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
