import NIOHTTP1
import Synchronization
import Tracing

/// The trace of the request being answered: the tracer, the span that upstream calls are children
/// of, and how contexts travel. Bound as a task local only while tracing is on, so that with
/// tracing off an upstream call costs one task-local read.
public struct RequestTrace: Sendable {
    public let tracer: any Tracer
    public let span: any Span
    public let propagation: TracePropagation
    /// The counts of the request's work, shared by its upstream calls' traces.
    public let tally: TraceTally

    /// The trace of the request (or upstream call) this task works for; nil when tracing is off.
    @TaskLocal public static var current: RequestTrace?

    public init(tracer: any Tracer, span: any Span, propagation: TracePropagation, tally: TraceTally = TraceTally()) {
        self.tracer = tracer
        self.span = span
        self.propagation = propagation
        self.tally = tally
    }

    /// Adds `amount` to the request's count `name` (an attribute of its server span), when a
    /// request is traced.
    public static func count(_ amount: Int, as name: String) {
        current?.tally.add(amount, to: name)
    }

    /// Runs one upstream call in a child span of the current trace's span, named `name` (AWS's
    /// `Service.Operation`) and bound as the current trace while `body` runs. Without a current
    /// trace, `body` runs alone and is given nil.
    /// Inlined into callers, so that with tracing off a call costs the task-local read alone.
    @inlinable
    public static func withClientSpan<Result>(
        _ name: @autoclosure () -> String, _ body: (RequestTrace?) async -> Result
    ) async -> Result {
        guard let parent = current else { return await body(nil) }
        return await parent.withChildSpan(name(), body)
    }

    /// Runs `body` in a child span of this trace's span, bound as the current trace.
    @usableFromInline
    func withChildSpan<Result>(_ name: String, _ body: (RequestTrace?) async -> Result) async -> Result {
        let span = tracer.startSpan(name, context: self.span.context, ofKind: .client)
        defer { span.end() }
        let child = RequestTrace(tracer: tracer, span: span, propagation: propagation, tally: tally)
        return await Self.$current.withValue(child) { await body(child) }
    }

    /// An `X-Amzn-Trace-Id` value naming this trace's span as the parent, when X-Ray headers are
    /// written; nil otherwise.
    public var xrayHeader: String? {
        guard propagation.usesXRay else { return nil }
        var carrier: [String: String] = [:]
        tracer.inject(span.context, into: &carrier, using: DictionaryInjector())
        return carrier["traceparent"].flatMap { XRayTraceHeader(traceParent: $0) }?.headerValue
    }

    /// Records an upstream call's answer on its span (the last attempt's wins): its HTTP status,
    /// AWS's request id, and for an error status its `error.type` (`errorCode`, else the status).
    public func answered(status: Int, requestID: String?, errorCode: String? = nil) {
        span.updateAttributes { attributes in
            attributes["http.response.status_code"] = status
            attributes["aws.request_id"] = requestID.map(SpanText.bounded)
            attributes["error.type"] = status >= 400 ? SpanText.bounded(errorCode ?? String(status)) : nil
        }
    }

    /// Records an attempt that got no answer: the error's type is its `error.type`.
    public func unanswered(_ error: any Error) {
        span.updateAttributes { attributes in
            attributes["http.response.status_code"] = nil
            attributes["aws.request_id"] = nil
            attributes["error.type"] = String(describing: type(of: error))
        }
        span.addEvent(
            SpanEvent(name: "attempt failed", attributes: ["exception.message": SpanText.bounded("\(error)")]))
    }

    /// Ends what an upstream call's span says: how many times it was sent again
    /// (`http.request.resend_count`), and failed when its last attempt was.
    public func callEnded(attempts: Int) {
        if attempts > 1 { span.attributes["http.request.resend_count"] = attempts - 1 }
        if span.attributes["error.type"] != nil { span.setStatus(SpanStatus(code: .error)) }
    }
}

/// Starts the trace of each request: made once at start-up, when tracing is on.
public struct RequestTracer: Sendable {
    public let tracer: any Tracer
    public let propagation: TracePropagation

    public init(tracer: any Tracer, propagation: TracePropagation) {
        self.tracer = tracer
        self.propagation = propagation
    }

    /// The trace of a request whose headers are `headers`: a server span named `name` that
    /// continues the client's trace when the headers carry one.
    public func start(_ name: String, headers: HTTPHeaders) -> RequestTrace {
        var context = ServiceContext.topLevel
        let carrier = propagation.carrier(from: headers)
        if !carrier.isEmpty { tracer.extract(carrier, into: &context, using: DictionaryExtractor()) }
        let span = tracer.startSpan(name, context: context, ofKind: .server)
        return RequestTrace(tracer: tracer, span: span, propagation: propagation)
    }
}

/// Reads a header carrier made of a dictionary.
struct DictionaryExtractor: Extractor {
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

/// Writes a header carrier made of a dictionary.
struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}

/// What a traced request's work adds up to (payloads and bytes stored or read back), from any of
/// its tasks, written on its server span when it ends.
public final class TraceTally: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    public init() {}

    /// Adds `amount` to the count named `name`.
    public func add(_ amount: Int, to name: String) {
        counts.withLock { $0[name, default: 0] += amount }
    }

    /// Every count by its name.
    public var all: [String: Int] { counts.withLock { $0 } }
}
