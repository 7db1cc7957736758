import AWSSigning
import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Upstream

/// A request of a credential source: to STS, a container credentials endpoint or instance metadata.
public struct CredentialHTTPRequest: Sendable {
    /// What is asked (`sts`, `container`, `imds`): the upstream metric's label.
    public var service: String
    public var method: HTTPMethod
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: String?
    /// The longest the whole exchange may take.
    public var timeout: TimeAmount

    public init(
        service: String, method: HTTPMethod, url: String, headers: [(name: String, value: String)] = [],
        body: String? = nil, timeout: TimeAmount
    ) {
        self.service = service
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// What a credential endpoint answered.
public struct CredentialHTTPResponse: Sendable {
    public var status: Int
    public var body: String

    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }
}

/// The HTTP exchange credential sources need; the proxy's pooled client in production.
public protocol CredentialHTTPClient: Sendable {
    /// Sends `request` and reads its answer (at most 1 MiB), or throws when no answer came.
    func send(_ request: CredentialHTTPRequest) async throws -> CredentialHTTPResponse
}

/// Credential endpoints are called through the proxy's one upstream seam: timed, and tried again
/// on throttling, 5xx answers and connections that could not be made.
extension UpstreamCaller: CredentialHTTPClient {
    public func send(_ request: CredentialHTTPRequest) async throws -> CredentialHTTPResponse {
        let result: Result<CredentialHTTPResponse, any Error> = await call(
            Call(service: request.service, repeatable: true, timeout: request.timeout),
            request: {
                var outgoing = HTTPClientRequest(url: request.url)
                outgoing.method = request.method
                for header in request.headers { outgoing.headers.add(name: header.name, value: header.value) }
                outgoing.headers.replaceOrAdd(name: "User-Agent", value: ProxyVersion.product)
                if let body = request.body { outgoing.body = .bytes(ByteBuffer(string: body)) }
                return outgoing
            },
            answer: { response in
                let body = try await response.body.collect(upTo: 1024 * 1024)
                return (
                    .success(CredentialHTTPResponse(status: Int(response.status.code), body: String(buffer: body))),
                    UpstreamFailure.of(status: response.status.code, body: body)
                )
            },
            failed: { .failure($0) })
        return try result.get()
    }
}
