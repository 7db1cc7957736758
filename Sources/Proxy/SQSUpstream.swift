import AWSCredentialChain
import AWSSigning
import NIOCore
import NIOHTTP1
import RequestTracing
import SQSTransport
import SQSWire
import ServerEdge
import Upstream

/// The upstream SQS service: signs requests and sends them on the SQS transport, under the
/// shared retry policy and budget.
public struct SQSUpstream: SQSCalls {
    /// Response headers passed back to clients.
    static let returnedHeaders = ["content-type", "x-amzn-requestid", "x-amzn-query-error"]

    let caller: UpstreamCaller
    let transport: SQSTransport
    let builder: UpstreamRequestBuilder
    let credentials: any CredentialProvider
    let readTimeout: TimeAmount

    public init(
        caller: UpstreamCaller, transport: SQSTransport, endpoint: UpstreamEndpoint, region: String,
        credentials: any CredentialProvider, readTimeout: TimeAmount
    ) {
        self.caller = caller
        self.transport = transport
        self.builder = UpstreamRequestBuilder(endpoint: endpoint, signer: SigV4Signer(region: region, service: "sqs"))
        self.credentials = credentials
        self.readTimeout = readTimeout
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
        // The client's body, hashed already when its signature was checked, is not hashed again.
        let payloadHash =
            request.bodySHA256.flatMap { body == request.body ? $0 : nil }
            ?? body.withUnsafeReadableBytes { SigV4Signer.payloadHash($0) }
        let call = UpstreamCaller.Call(
            service: "sqs", repeatable: action.isRepeatable, timeout: readTimeout, method: action.rawValue)
        return await caller.call(call) {
            let trace = RequestTrace.current
            var clientHeaders = request.head.headers
            // A traced send whose client sent no X-Ray header gets one naming this call, so that
            // the message's AWSTraceHeader continues the trace.
            if let trace, action == .sendMessage || action == .sendMessageBatch,
                !clientHeaders.contains(name: "x-amzn-trace-id"), let xray = trace.xrayHeader
            {
                clientHeaders.add(name: "X-Amzn-Trace-Id", value: xray)
            }
            let head = builder.build(
                method: request.head.method, path: request.path, query: request.queryString,
                clientHeaders: clientHeaders, contentLength: body.readableBytes, payloadHash: payloadHash,
                credentials: credentials, date: .now())
            let upstreamRequest = UpstreamRequest(head: head, body: body, mayLongPoll: action == .receiveMessage)
            do {
                let response = try await transport.execute(upstreamRequest, deadline: .now() + readTimeout)
                if let trace {
                    let status = Int(response.status.code)
                    trace.answered(
                        status: status, requestID: response.headers.first(name: "x-amzn-requestid"),
                        errorCode: status < 400
                            ? nil
                            : response.body.withUnsafeReadableBytes {
                                SQSErrorCode.of(
                                    queryErrorHeader: response.headers.first(name: "x-amzn-query-error"), body: $0)
                            })
                }
                MemoryLease.current?.charge(response.body.readableBytes)
                var returned = HTTPHeaders()
                for name in Self.returnedHeaders {
                    for value in response.headers[name] { returned.add(name: Self.canonicalName(name), value: value) }
                }
                let answer = ProxyResponse(status: response.status, headers: returned, body: response.body)
                return (.answered(answer), UpstreamFailure.of(status: response.status.code, body: response.body))
            } catch {
                trace?.unanswered(error)
                return (Self.unanswered(error), UpstreamFailure.of(error))
            }
        }
    }

    /// The outcome of a request that got no answer, from the transport's error.
    static func unanswered(_ error: any Error) -> UpstreamOutcome {
        let error = error as? SQSTransportError
        switch error {
        case .timedOut:
            return .failed(
                .serviceUnavailable("The upstream SQS endpoint did not answer in time."), mayHaveArrived: true)
        case .timedOutWaiting:
            return .failed(
                .serviceUnavailable("No connection to the upstream SQS endpoint came free in time."),
                mayHaveArrived: false)
        default:
            return .failed(
                .serviceUnavailable("The upstream SQS endpoint could not be reached."),
                mayHaveArrived: error?.mayHaveArrived ?? true)
        }
    }

    /// The upstream URL of `path`.
    public func url(path: String) -> String {
        builder.endpoint.origin + builder.endpoint.basePath + path
    }

    /// Makes a call of the proxy's own in the JSON protocol; the result tree, or nil if SQS refused.
    public func call(_ action: SQSAction, input: JSONValue) async throws(SQSError) -> JSONValue? {
        let response = try await ownCall(action, input: input)
        guard response.status == .ok else { return nil }
        return try? response.body.withUnsafeReadableBytes { bytes throws(SQSError) in try JSONValue.parse(bytes) }
    }

    /// Makes a call of the proxy's own in the JSON protocol: the result tree, or why it failed (SQS's
    /// error code and message when SQS refused).
    public func callResult(_ action: SQSAction, input: JSONValue) async -> Result<JSONValue, SQSError> {
        let response: ProxyResponse
        do throws(SQSError) {
            response = try await ownCall(action, input: input)
        } catch {
            return .failure(error)
        }
        let tree = try? response.body.withUnsafeReadableBytes { bytes throws(SQSError) in try JSONValue.parse(bytes) }
        guard response.status == .ok else {
            let type = tree?["__type"]?.stringValue ?? "HTTP \(response.status.code)"
            let shape = String(type.split(separator: "#").last ?? Substring(type))
            return .failure(
                SQSError(
                    shape: shape, status: Int(response.status.code),
                    message: tree?["message"]?.stringValue ?? tree?["Message"]?.stringValue ?? ""))
        }
        return tree.map { .success($0) } ?? .failure(.serviceUnavailable("SQS answered what is not JSON."))
    }

    /// Sends a call of the proxy's own in the JSON protocol; SQS's answer, whatever its status.
    private func ownCall(_ action: SQSAction, input: JSONValue) async throws(SQSError) -> ProxyResponse {
        let head = HTTPRequestHead(
            version: .http1_1, method: .POST, uri: "/",
            headers: ["Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS." + action.rawValue])
        return try await forward(
            ClientRequest(head: head, body: ByteBuffer()), body: ByteBuffer(bytes: input.serialized()), action: action)
    }

    private static func canonicalName(_ name: String) -> String {
        switch name {
        case "content-type": return "Content-Type"
        case "x-amzn-requestid": return "x-amzn-RequestId"
        default: return name
        }
    }
}
