import AWSCredentialChain
import AWSSigning
import AsyncHTTPClient
import Metrics
import NIOCore
import NIOHTTP1
import SQSWire
import UpstreamRetry

/// The upstream SQS service: signs and sends requests through the shared HTTP client.
public struct SQSUpstream: SQSCalls {
    /// Response headers passed back to clients.
    static let returnedHeaders = ["content-type", "x-amzn-requestid", "x-amzn-query-error"]

    let client: HTTPClient
    let builder: UpstreamRequestBuilder
    let credentials: any CredentialProvider
    let readTimeout: TimeAmount
    let maxResponseSize: Int
    let retrier: UpstreamRetrier

    public init(
        client: HTTPClient, endpoint: UpstreamEndpoint, region: String, credentials: any CredentialProvider,
        readTimeout: TimeAmount, maxResponseSize: Int = 64 * 1024 * 1024, retrier: UpstreamRetrier = UpstreamRetrier()
    ) {
        self.client = client
        self.builder = UpstreamRequestBuilder(endpoint: endpoint, signer: SigV4Signer(region: region, service: "sqs"))
        self.credentials = credentials
        self.readTimeout = readTimeout
        self.maxResponseSize = maxResponseSize
        self.retrier = retrier
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
        let repeatable = action != .sendMessage && action != .sendMessageBatch
        return await retrier.run(service: "sqs", repeatable: repeatable) {
            () -> (result: UpstreamOutcome, failure: UpstreamFailure?) in
            let (url, headers) = builder.build(
                method: request.head.method, path: request.path, query: request.queryString,
                clientHeaders: request.head.headers, payloadHash: payloadHash, credentials: credentials,
                date: .now())
            var upstreamRequest = HTTPClientRequest(url: url)
            upstreamRequest.method = request.head.method
            upstreamRequest.headers = headers
            upstreamRequest.body = .bytes(body)
            let started = ContinuousClock.now
            defer {
                Timer(label: "sqs_proxy_upstream_duration_seconds", dimensions: [("service", "sqs")])
                    .record(duration: ContinuousClock.now - started)
            }
            do {
                let response = try await client.execute(upstreamRequest, deadline: .now() + readTimeout)
                let responseBody = try await response.body.collect(upTo: maxResponseSize)
                var returned = HTTPHeaders()
                for name in Self.returnedHeaders {
                    for value in response.headers[name] { returned.add(name: Self.canonicalName(name), value: value) }
                }
                let answer = ProxyResponse(status: response.status, headers: returned, body: responseBody)
                return (.answered(answer), UpstreamFailure.of(status: response.status.code, body: responseBody))
            } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
                return (
                    .failed(
                        .serviceUnavailable("The upstream SQS endpoint did not answer in time."), mayHaveArrived: true),
                    nil
                )
            } catch {
                let failure = UpstreamFailure.of(error)
                return (
                    .failed(
                        .serviceUnavailable("The upstream SQS endpoint could not be reached."),
                        mayHaveArrived: failure != .notSent),
                    failure
                )
            }
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
