import ExtendedPayload
import Logging
import NIOCore
import NIOHTTP1
import ObjectStore
import RequestLimits
import SQSWire
import ServerEdge
import TextCoding

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The request path: decode the client's request, forward it upstream, answer errors in the
/// client's protocol.
public struct SQSRequestHandler: RequestResponder {
    let upstream: SQSUpstream
    let extendedClient: ExtendedClient?
    /// Verifies clients' signatures; nil when clients are not authenticated.
    let authenticator: ClientAuthenticator?
    /// What a request may be and hold.
    let limits: RequestLimits
    /// Where queue URLs point, in requests to SQS and in answers to clients.
    let queueURLs: QueueURLMap
    let logger: Logger

    /// A handler that forwards every request, its queue URLs pointed at SQS and, in answers, at the proxy.
    public init(upstream: SQSUpstream, limits: RequestLimits, logger: Logger) {
        self.upstream = upstream
        self.extendedClient = nil
        self.authenticator = nil
        self.limits = limits
        self.queueURLs = QueueURLMap(upstream: upstream.builder.endpoint)
        self.logger = logger
    }

    /// A handler with the extended client's behaviour, its payloads in `store`, and client
    /// authentication when `clientCredentials` are given.
    public init(
        upstream: SQSUpstream, store: S3ObjectStore, uploader: MultipartUploader, settings: ExtendedClientSettings,
        clientCredentials: ClientCredentials?, limits: RequestLimits, queueURLs: QueueURLMap, logger: Logger
    ) {
        self.queueURLs = queueURLs
        self.upstream = upstream
        self.extendedClient = ExtendedClient(
            settings: settings,
            payloads: S3PayloadStore(store: store, uploader: uploader, options: settings.putOptions),
            upstream: upstream, queues: QueueAttributeCache(), limits: limits, logger: logger)
        self.authenticator = clientCredentials.map { ClientAuthenticator(credentials: $0) }
        self.limits = limits
        self.logger = logger
    }

    /// Answers one client request whose body is read as needed. Throws only when the connection
    /// failed while the body was read (nothing can be answered then); a body over the limit gets an error.
    ///
    /// A send that may carry a body too large to hold is read by the ``StreamedSendReader``, which
    /// stores such bodies while they arrive; any other body is collected. With client
    /// authentication, the head is checked before anything else, and the signature once the body
    /// has arrived, before the request goes on (what was stored is deleted when the signature is
    /// wrong). `body` must hash what it reads. From there every request takes the same road.
    public func respond(to context: RequestContext, body: RequestBody) async throws -> ProxyResponse {
        do {
            let signature = try authenticator?.check(context.head)
            var client = ClientRequest(head: context.head, body: ByteBuffer())
            var read: StreamedSendReader.Read?
            if context.streams, let reader = extendedClient?.streamedSendReader {
                read = try await reader.read(context, body: body)
                client.streamed = true
            } else {
                client.body = try await body.collect(expectedLength: context.declaredLength)
                client.bodySHA256 = body.sha256Hex
            }
            if let authenticator, let signature {
                do throws(SQSError) {
                    try authenticator.verify(signature, payloadHash: body.sha256Hex ?? "")
                } catch {
                    await extendedClient?.deletePayloads(read?.stored.values.map(\.key) ?? [])
                    throw error
                }
            }
            return await handle(client, context: context, read: read)
        } catch let error as SQSError {
            return Self.refusal(error, context: context)
        } catch is RequestBody.TooLarge {
            return Self.refusal(.requestTooLarge(limit: body.limit), context: context)
        } catch is RequestBody.OverBudget {
            return Self.refusal(.overMemoryBudget, context: context)
        }
    }

    public var hashesBodies: Bool { authenticator != nil }

    /// The answer to a request refused before it was decoded.
    private static func refusal(_ error: SQSError, context: RequestContext) -> ProxyResponse {
        var response = ProxyResponse.error(error, wireProtocol: context.wireProtocol)
        response.action = context.namedAction
        return response
    }

    /// Answers one client request. Never throws: every failure is an SQS error response.
    public func handle(_ request: ClientRequest) async -> ProxyResponse {
        await handle(request, context: RequestContext(head: request.head, limits: limits), read: nil)
    }

    /// Decodes the request (unless it was read as a stream), points its queue URL upstream, and answers it.
    private func handle(_ request: ClientRequest, context: RequestContext, read: StreamedSendReader.Read?) async
        -> ProxyResponse
    {
        var client = request
        var decoded: SQSRequest
        var clientOrigin: String?
        do throws(SQSError) {
            if let read {
                decoded = read.request
            } else {
                decoded = try decode(request, context: context)
            }
            try pointUpstream(&decoded, client: &client)
            if queueURLs.rewritesAnswers && decoded.action.answersQueueURLs {
                clientOrigin = queueURLs.clientOrigin(hostHeader: request.head.headers.first(name: "host"))
                guard clientOrigin != nil else {
                    throw .invalidParameterValue(
                        "The request's Host header names no host that queue URLs could point at.")
                }
            }
        } catch {
            logger.debug("rejected", metadata: ["error": "\(error)"])
            return Self.refusal(error, context: context)
        }
        // A client that goes away abandons a request that changes nothing (a long poll included).
        if decoded.action.changesNothing { ClientPresence.current?.allowAbandoning() }
        var response = await answer(decoded, client: client, context: context, stored: read?.stored ?? [:])
        if let clientOrigin { response = pointAtProxy(response, of: decoded, origin: clientOrigin) }
        return response
    }

    /// Decodes a request held whole. What its parse may build is taken of the memory lease first
    /// (``ParseCost/limit(forLength:)``), and what it did not build is given back.
    private func decode(_ request: ClientRequest, context: RequestContext) throws(SQSError) -> SQSRequest {
        let limit = ParseCost.limit(forLength: request.body.readableBytes + request.queryString.utf8.count)
        try MemoryLease.reserveInCurrent(limit)
        let decoded = try request.body.withUnsafeReadableBytes { bytes throws(SQSError) in
            try SQSRequestDecoder.decode(
                target: context.target, contentType: context.contentType, path: request.path,
                queryString: request.queryString, body: bytes)
        }
        MemoryLease.current?.release(limit - decoded.heldBytes)
        return decoded
    }

    /// Points the request's queue URL at SQS when it names another host; the request is then
    /// written again: a JSON one with that member's value replaced and every other byte kept.
    private func pointUpstream(_ decoded: inout SQSRequest, client: inout ClientRequest) throws(SQSError) {
        guard let url = decoded.queueURL, let upstreamURL = queueURLs.upstreamURL(for: url) else { return }
        decoded.setQueueURL(upstreamURL)
        // A request read as a stream is encoded again from what was decoded.
        guard !client.streamed else { return }
        switch decoded.input {
        case .json:
            // The decoder found the member; a name given twice (which parsers read differently) is refused.
            guard
                let spliced = client.body.withUnsafeReadableBytes({
                    JSONMemberRange.replacing("QueueUrl", withString: upstreamURL, in: $0)
                })
            else { throw .malformedRequest("The request names QueueUrl more than once.") }
            client.body = try ClientRequest.heldBody(spliced)
            client.bodySHA256 = nil
        case .query(let parameters):
            client = try client.formPost(parameters)
        }
    }

    /// A successful answer whose queue URLs are pointed at `origin`. An answer that cannot be read
    /// is passed on as it came.
    private func pointAtProxy(_ response: ProxyResponse, of request: SQSRequest, origin: String) -> ProxyResponse {
        guard response.status == .ok else { return response }
        guard
            let result = response.body.withUnsafeReadableBytes({
                ResponseCodec.decode($0, action: request.action, wireProtocol: request.wireProtocol)
            })
        else {
            logger.warning(
                "unreadable answer; its queue URLs were not rewritten", metadata: ["action": "\(request.action)"])
            return response
        }
        var rewritten = response
        let tree = queueURLs.clientResult(result.tree, action: request.action, origin: origin)
        rewritten.body = ByteBuffer(
            bytes: ResponseCodec.encode(
                ResponseCodec.Result(tree: tree, requestID: result.requestID), action: request.action,
                wireProtocol: request.wireProtocol))
        return rewritten
    }

    /// Answers a decoded request: through the extended client for the actions it rewrites,
    /// forwarded as it came for the others.
    private func answer(
        _ decoded: SQSRequest, client: ClientRequest, context: RequestContext, stored: [Int: StoredPayload]
    ) async -> ProxyResponse {
        var response: ProxyResponse
        do throws(SQSError) {
            if let extendedClient, let tree = decoded.tree {
                response = try await extendedClient.handle(decoded, tree: tree, client: client, stored: stored)
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
        guard !contentType.containsBytes(of: expected) else { return response }
        var error = SQSError.serviceUnavailable("The upstream SQS endpoint failed.")
        error.status = Int(response.status.code)
        return .error(error, wireProtocol: wireProtocol)
    }
}
