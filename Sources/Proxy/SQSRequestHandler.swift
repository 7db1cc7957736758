import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ObjectStore
import SQSWire

/// The request path: decode the client's request, forward it upstream, answer errors in the
/// client's protocol.
public struct SQSRequestHandler: Sendable {
    let upstream: SQSUpstream
    let extendedClient: ExtendedClient?
    /// Verifies clients' signatures; nil when clients are not authenticated.
    let authenticator: ClientAuthenticator?
    /// The largest request body held in memory (every request but a streamed send).
    let maxHeldRequestSize: Int
    let logger: Logger

    /// A handler that forwards every request as it is.
    public init(upstream: SQSUpstream, maxHeldRequestSize: Int, logger: Logger) {
        self.upstream = upstream
        self.extendedClient = nil
        self.authenticator = nil
        self.maxHeldRequestSize = maxHeldRequestSize
        self.logger = logger
    }

    /// A handler with the extended client's behaviour, its payloads in `store`, and client
    /// authentication when `clientCredentials` are given.
    public init(
        upstream: SQSUpstream, store: S3ObjectStore, uploader: MultipartUploader, settings: ExtendedClientSettings,
        clientCredentials: ClientCredentials?, maxHeldRequestSize: Int, logger: Logger
    ) {
        self.upstream = upstream
        self.extendedClient = ExtendedClient(
            settings: settings,
            payloads: S3PayloadStore(store: store, uploader: uploader, options: settings.putOptions),
            upstream: upstream, queues: QueueAttributeCache(), logger: logger)
        self.authenticator = clientCredentials.map { ClientAuthenticator(credentials: $0) }
        self.maxHeldRequestSize = maxHeldRequestSize
        self.logger = logger
    }

    /// What the head of a request says, for the reading of its body and the request path.
    func context(for head: HTTPRequestHead) -> RequestContext {
        RequestContext(head: head) { extendedClient?.streamsSend($0) ?? false }
    }

    /// The largest body accepted: a send that streams may carry a payload of the largest size,
    /// anything else is held in memory.
    func requestBodyLimit(_ context: RequestContext) -> Int {
        guard context.streams, let extendedClient else { return maxHeldRequestSize }
        return extendedClient.streamedRequestLimit(context.wireProtocol)
    }

    /// The most of a request's body held in memory at once: all of it, or what a streamed send holds.
    func heldBodyLimit(_ context: RequestContext) -> Int {
        guard context.streams, let extendedClient else { return maxHeldRequestSize }
        return extendedClient.streamedHoldLimit(maxHeldBytes: maxHeldRequestSize)
    }

    /// Answers one client request whose body is read as needed. Throws only when the connection
    /// failed while the body was read (nothing can be answered then); a body over the limit gets an error.
    ///
    /// With client authentication, the head is checked before anything else, and the signature once
    /// the body has arrived: before the request goes upstream (a streamed send may have stored its
    /// bodies by then; they are deleted when the signature is wrong). `body` must hash what it reads.
    func handle(_ context: RequestContext, body: RequestBody) async throws -> ProxyResponse {
        do {
            let signature = try authenticator?.check(context.head)
            let verify = { () throws(SQSError) -> Void in
                guard let authenticator, let signature else { return }
                try authenticator.verify(signature, payloadHash: body.sha256Hex ?? "")
            }
            guard context.streams, let extendedClient else {
                let collected = try await body.collect(expectedLength: context.declaredLength)
                try verify()
                var request = ClientRequest(head: context.head, body: collected)
                request.bodySHA256 = body.sha256Hex
                return await handle(request, context: context)
            }
            let response = try await extendedClient.sendStreaming(
                context, body: body, maxHeldBytes: maxHeldRequestSize, verify: verify)
            return Self.ensureSQSError(response, wireProtocol: context.wireProtocol)
        } catch let error as SQSError {
            var response = ProxyResponse.error(error, wireProtocol: context.wireProtocol)
            response.action = context.namedAction
            return response
        } catch is RequestBody.TooLarge {
            return ProxyResponse.error(.requestTooLarge(limit: body.limit), wireProtocol: context.wireProtocol)
        } catch is RequestBody.OverBudget {
            var response = ProxyResponse.error(.overMemoryBudget, wireProtocol: context.wireProtocol)
            response.action = context.namedAction
            return response
        }
    }

    /// Answers one client request. Never throws: every failure is an SQS error response.
    public func handle(_ request: ClientRequest) async -> ProxyResponse {
        await handle(request, context: RequestContext(head: request.head) { _ in false })
    }

    private func handle(_ request: ClientRequest, context: RequestContext) async -> ProxyResponse {
        let decoded: SQSRequest
        do {
            decoded = try request.body.withUnsafeReadableBytes { bytes throws(SQSError) in
                try SQSRequestDecoder.decode(
                    target: context.target, contentType: context.contentType, path: request.path,
                    queryString: request.queryString, body: bytes)
            }
        } catch {
            logger.debug("rejected", metadata: ["error": "\(error)"])
            var response = ProxyResponse.error(error, wireProtocol: context.wireProtocol)
            response.action = context.namedAction
            return response
        }
        return await answer(decoded, client: request, context: context)
    }

    /// Answers a decoded request: through the extended client for the actions it rewrites,
    /// forwarded as it came for the others.
    private func answer(_ decoded: SQSRequest, client: ClientRequest, context: RequestContext) async -> ProxyResponse {
        var response: ProxyResponse
        do throws(SQSError) {
            if let extendedClient, let tree = decoded.tree {
                response = try await extendedClient.handle(decoded, tree: tree, client: client)
            } else {
                response = try await upstream.forward(client, body: client.body, action: decoded.action)
            }
            response = Self.ensureSQSError(response, wireProtocol: context.wireProtocol)
        } catch {
            logger.debug("failed", metadata: ["action": "\(decoded.action.rawValue)", "error": "\(error)"])
            response = ProxyResponse.error(error, wireProtocol: context.wireProtocol)
        }
        response.action = decoded.action
        response.queueURL =
            decoded.queueURL ?? (decoded.action.takesQueueURL ? upstream.url(path: client.path) : nil)
        return response
    }

    /// An upstream server error whose body is not in the client's protocol (a load balancer's page,
    /// say) is replaced by an SQS error with the same status, so that SDKs parse it and retry.
    static func ensureSQSError(_ response: ProxyResponse, wireProtocol: SQSProtocol) -> ProxyResponse {
        guard response.status.code >= 500 else { return response }
        let contentType = response.headers.first(name: "content-type")?.lowercased() ?? ""
        let expected = wireProtocol == .json ? "json" : "xml"
        guard !contentType.contains(expected) else { return response }
        var error = SQSError.serviceUnavailable("The upstream SQS endpoint failed.")
        error.status = Int(response.status.code)
        return .error(error, wireProtocol: wireProtocol)
    }
}
