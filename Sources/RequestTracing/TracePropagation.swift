import NIOHTTP1

/// Which trace-context headers the proxy reads from clients and writes upstream: the
/// `OTEL_PROPAGATORS` it supports. `tracecontext` reads W3C `traceparent` and `tracestate`; `xray`
/// reads `X-Amzn-Trace-Id` and writes one on sends whose client sent none, so that a message's
/// `AWSTraceHeader` continues the trace. When a request carries both, `traceparent` wins.
public struct TracePropagation: Equatable, Sendable {
    public var readsTraceContext: Bool
    public var usesXRay: Bool

    public init(readsTraceContext: Bool, usesXRay: Bool) {
        self.readsTraceContext = readsTraceContext
        self.usesXRay = usesXRay
    }

    /// W3C's limits on `tracestate`: a longer one (or one of more members) is dropped whole.
    public static let maxTraceStateLength = 512
    public static let maxTraceStateMembers = 32

    /// What the tracer extracts the client's context from, in W3C's two headers: the client's own
    /// `traceparent` (one, not several) with its `tracestate` within W3C's limits, or else the
    /// context of its `X-Amzn-Trace-Id`. Empty when the request continues no trace.
    public func carrier(from headers: HTTPHeaders) -> [String: String] {
        if readsTraceContext {
            let parents = headers["traceparent"]
            if parents.count == 1, Self.mayBeTraceParent(parents[0]) {
                var carrier = ["traceparent": parents[0]]
                let states = headers["tracestate"]
                // Measured before it is joined: over the limit, it is not copied again.
                if !states.isEmpty,
                    states.reduce(states.count - 1, { $0 + $1.utf8.count }) <= Self.maxTraceStateLength
                {
                    let state = states.joined(separator: ",")
                    if state.utf8.count(where: { $0 == UInt8(ascii: ",") }) < Self.maxTraceStateMembers {
                        carrier["tracestate"] = state
                    }
                }
                return carrier
            }
        }
        if usesXRay, let header = headers.first(name: "x-amzn-trace-id"), let xray = XRayTraceHeader(header) {
            return ["traceparent": xray.traceParent]
        }
        return [:]
    }

    /// Whether a `traceparent` is one of version 00, or of a later version (which W3C reads by
    /// its first 55 characters): a malformed one gives way to an X-Ray header.
    static func mayBeTraceParent(_ value: String) -> Bool {
        XRayTraceHeader(traceParent: value) != nil || (!value.hasPrefix("00-") && value.utf8.count >= 55)
    }
}
