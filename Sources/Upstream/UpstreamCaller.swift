import AsyncHTTPClient
import Metrics
import NIOCore
import RequestTracing
import Tracing

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Where every upstream call is made, for SQS, S3 and STS alike: each attempt's request built (and
/// signed) anew, executed on the shared client within a deadline, timed in
/// `sqs_proxy_upstream_duration_seconds` under its service and operation, and tried again under
/// the retry policy and the shared budget; in a span of its own when the request it serves is
/// traced.
public struct UpstreamCaller: Sendable {
    /// What a call is, for its metric, its retries and its span.
    public struct Call: Sendable {
        /// `sqs`, `s3` or `sts`: the metric label and the retry count's.
        public var service: String
        /// The operation, as a second metric label (S3), or nil.
        public var operation: String?
        /// Whether the call may be repeated after the service may have acted on it.
        public var repeatable: Bool
        /// Whether it may be tried again at all: not when its body streams once.
        public var retried: Bool
        /// How long one attempt may take, its answer's head included.
        public var timeout: TimeAmount
        /// The AWS operation (`SendMessage`, `PutObject`), for the call's span: `operation` unless told.
        public var method: String?
        /// What the call's span says of it beyond its service and operation: the queue, the bucket
        /// and key, the bytes it carries.
        public var spanAttributes: SpanAttributes

        public init(
            service: String, operation: String? = nil, repeatable: Bool, retried: Bool = true, timeout: TimeAmount,
            method: String? = nil, spanAttributes: SpanAttributes = [:]
        ) {
            self.service = service
            self.operation = operation
            self.repeatable = repeatable
            self.retried = retried
            self.timeout = timeout
            self.method = method ?? operation
            self.spanAttributes = spanAttributes
        }
    }

    /// The client of calls made straight to their host.
    public let client: HTTPClient
    /// The clients of calls through the egress proxy of their scheme (`https`, `http`).
    let proxiedClients: [String: HTTPClient]
    public let egress: EgressProxies
    public let retrier: UpstreamRetrier

    /// Calls made on `client`, straight to their hosts.
    public init(client: HTTPClient, retrier: UpstreamRetrier) {
        self.init(client: client, proxiedClients: [:], egress: EgressProxies(), retrier: retrier)
    }

    /// Calls made on `client`, or on the client of their scheme in `proxiedClients` when `egress`
    /// has a proxy for their host. Instance metadata and container credential calls are never proxied.
    public init(
        client: HTTPClient, proxiedClients: [String: HTTPClient], egress: EgressProxies, retrier: UpstreamRetrier
    ) {
        self.client = client
        self.proxiedClients = proxiedClients
        self.egress = egress
        self.retrier = retrier
    }

    /// The services whose calls never go through a proxy, as in the AWS SDKs: instance metadata and
    /// container credential endpoints.
    public static let neverProxied: Set = ["imds", "container"]

    /// The client a call of `service` to `url` is made on.
    public func client(for url: String, service: String) -> HTTPClient {
        guard !proxiedClients.isEmpty, !Self.neverProxied.contains(service), egress.proxy(for: url) != nil,
            let scheme = URLComponents(string: url)?.scheme?.lowercased(), let proxied = proxiedClients[scheme]
        else { return client }
        return proxied
    }

    /// Shuts every client down.
    public func shutdown() async throws {
        for proxied in proxiedClients.values { try await proxied.shutdown() }
        try await client.shutdown()
    }

    /// Makes one call on the shared client.
    /// - Parameters:
    ///   - request: the request of an attempt, signed for the time it is made.
    ///   - answer: what an answer gives, and how it failed if it may be tried again; an error it
    ///     throws (a body that broke off) counts as a transport failure.
    ///   - failed: the result when no answer came, or `answer` threw.
    public func call<Result>(
        _ call: Call, request: () -> HTTPClientRequest,
        answer: (HTTPClientResponse) async throws -> (result: Result, failure: UpstreamFailure?),
        failed: (any Error) -> Result
    ) async -> Result {
        await self.call(call) {
            do {
                let outgoing = request()
                let client = client(for: outgoing.url, service: call.service)
                let response = try await client.execute(outgoing, deadline: .now() + call.timeout)
                RequestTrace.current?.answered(
                    status: Int(response.status.code),
                    requestID: response.headers.first(name: "x-amz-request-id")
                        ?? response.headers.first(name: "x-amzn-RequestId"))
                return try await answer(response)
            } catch {
                RequestTrace.current?.unanswered(error)
                return (failed(error), UpstreamFailure.of(error))
            }
        }
    }

    /// Makes one call whose attempts are carried some other way (SQS's own transport): each
    /// timed under the call's service and operation, retried under the policy and budget, all in
    /// one client span (`Service.Operation`) when a request is traced.
    /// - Parameter attempt: one attempt: its result, and how it failed if it may be tried again.
    public func call<Result>(
        _ call: Call, attempt: () async -> (result: Result, failure: UpstreamFailure?)
    ) async -> Result {
        let timer = Self.timers.handles(for: UpstreamCaller.TimerKey(service: call.service, operation: call.operation))
        {
            Timer(label: "sqs_proxy_upstream_duration_seconds", dimensions: call.dimensions)
        }
        return await RequestTrace.withClientSpan(call.spanName) { trace in
            trace?.span.attributes.merge(call.tracedAttributes)
            var attempts = 0
            func timed() async -> (result: Result, failure: UpstreamFailure?) {
                attempts += 1
                let started = ContinuousClock.now
                defer { timer.record(duration: ContinuousClock.now - started) }
                return await attempt()
            }
            let result =
                call.retried
                ? await retrier.run(service: call.service, repeatable: call.repeatable, timed) : await timed().result
            trace?.callEnded(attempts: attempts)
            return result
        }
    }
}

extension UpstreamCaller {
    fileprivate struct TimerKey: Hashable {
        var service: String
        var operation: String?
    }

    /// The timers of upstream calls, by service and operation.
    fileprivate static let timers = MetricHandles<TimerKey, Timer>()
}

extension UpstreamCaller.Call {
    /// AWS's name of the service (`SQS`, `S3`, `STS`) and the operation: the call's span's name.
    var spanName: String {
        let service = Self.serviceNames[self.service] ?? self.service.uppercased()
        return method.map { service + "." + $0 } ?? service
    }

    static let serviceNames = ["sqs": "SQS", "s3": "S3", "sts": "STS", "imds": "IMDS", "container": "ECS"]

    /// The span's attributes: `rpc.*` (the OpenTelemetry conventions for AWS calls) and the call's own.
    var tracedAttributes: SpanAttributes {
        var attributes = spanAttributes
        attributes["rpc.system"] = "aws-api"
        attributes["rpc.service"] = Self.serviceNames[service] ?? service
        if let method { attributes["rpc.method"] = method }
        return attributes
    }

    var dimensions: [(String, String)] {
        guard let operation else { return [("service", service)] }
        return [("service", service), ("operation", operation)]
    }
}
