import InMemoryTracing
import NIOHTTP1
import Testing
import Tracing

@testable import RequestTracing

struct XRayTraceHeaderTests {
    static let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"

    @Test func aHeaderNamesItsRootParentAndSampling() throws {
        let xray = try #require(XRayTraceHeader(Self.header))
        #expect(xray.traceID == "5759e988bd862e3fe1be46a994272793")
        #expect(xray.parentID == "53995c3f42cd8ad8")
        #expect(xray.sampled)
        #expect(xray.traceParent == "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01")
        #expect(xray.headerValue == Self.header)
    }

    @Test func fieldsComeInAnyOrderWithSpacesAndOthersBetween() throws {
        let xray = try #require(
            XRayTraceHeader(
                "Sampled=0; Lineage=a87bd80c:1 ;Parent=53995C3F42CD8AD8; Root=1-5759e988-bd862e3fe1be46a994272793"))
        #expect(xray.parentID == "53995c3f42cd8ad8")
        #expect(!xray.sampled)
        #expect(
            XRayTraceHeader("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?")?.sampled
                == false)
    }

    @Test(arguments: [
        "Root=1-5759e988-bd862e3fe1be46a994272793",  // no parent: nothing to continue
        "Parent=53995c3f42cd8ad8;Sampled=1",
        "Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
        "Root=1-5759e98-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
        "Root=1-5759e988-bd862e3fe1be46a99427279z;Parent=53995c3f42cd8ad8",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad",
        "Root=1-00000000-000000000000000000000000;Parent=53995c3f42cd8ad8",
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000000",
        "", ";;;", "Root=;Parent=",
    ])
    func aHeaderThatNamesNoValidContextIsNone(_ value: String) {
        #expect(XRayTraceHeader(value) == nil)
    }

    @Test func aTraceParentOfVersion00BecomesAHeader() throws {
        let xray = try #require(XRayTraceHeader(traceParent: "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"))
        #expect(xray.headerValue == Self.header)
        #expect(
            XRayTraceHeader(traceParent: "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-00")?.sampled == false)
        #expect(XRayTraceHeader(traceParent: "01-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01") == nil)
        #expect(XRayTraceHeader(traceParent: "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8") == nil)
    }
}

struct TracePropagationTests {
    static let both = TracePropagation(readsTraceContext: true, usesXRay: true)
    static let traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    @Test func aTraceParentIsPassedWithItsTraceState() {
        let carrier = Self.both.carrier(
            from: [
                "traceparent": Self.traceParent, "tracestate": "congo=t61rcWkgMzE",
                "TraceState": "rojo=00f067aa0ba902b7",
            ])
        #expect(carrier == ["traceparent": Self.traceParent, "tracestate": "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"])
    }

    @Test func aTraceStateOverW3CsLimitsIsDroppedAndTheParentKept() {
        let long = "a=" + String(repeating: "b", count: 511)
        #expect(
            Self.both.carrier(from: ["traceparent": Self.traceParent, "tracestate": long]) == [
                "traceparent": Self.traceParent
            ])
        let members = (0..<33).map { "k\($0)=v" }.joined(separator: ",")
        #expect(
            Self.both.carrier(from: ["traceparent": Self.traceParent, "tracestate": members]) == [
                "traceparent": Self.traceParent
            ])
        let thirtyTwo = (0..<32).map { "k\($0)=v" }.joined(separator: ",")
        #expect(
            Self.both.carrier(from: ["traceparent": Self.traceParent, "tracestate": thirtyTwo])["tracestate"]
                == thirtyTwo)
    }

    @Test func traceParentWinsOverAnXRayHeader() {
        let headers: HTTPHeaders = ["traceparent": Self.traceParent, "X-Amzn-Trace-Id": XRayTraceHeaderTests.header]
        #expect(Self.both.carrier(from: headers) == ["traceparent": Self.traceParent])
    }

    @Test func anXRayHeaderIsReadWhenNoValidTraceParentCame() {
        let fromXRay = ["traceparent": "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"]
        #expect(Self.both.carrier(from: ["X-Amzn-Trace-Id": XRayTraceHeaderTests.header]) == fromXRay)
        #expect(
            Self.both.carrier(from: ["traceparent": "00-junk", "X-Amzn-Trace-Id": XRayTraceHeaderTests.header])
                == fromXRay)
        #expect(
            Self.both.carrier(from: [
                "traceparent": Self.traceParent, "Traceparent": Self.traceParent,
                "X-Amzn-Trace-Id": XRayTraceHeaderTests.header,
            ]) == fromXRay)
    }

    @Test func onlyTheFormatsConfiguredAreRead() {
        let headers: HTTPHeaders = ["traceparent": Self.traceParent, "X-Amzn-Trace-Id": XRayTraceHeaderTests.header]
        let xrayOnly = TracePropagation(readsTraceContext: false, usesXRay: true)
        #expect(
            xrayOnly.carrier(from: headers)["traceparent"] == "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01")
        let none = TracePropagation(readsTraceContext: false, usesXRay: false)
        #expect(none.carrier(from: headers).isEmpty)
        let traceContextOnly = TracePropagation(readsTraceContext: true, usesXRay: false)
        #expect(traceContextOnly.carrier(from: ["X-Amzn-Trace-Id": XRayTraceHeaderTests.header]).isEmpty)
    }

    @Test func aLaterVersionOfTraceParentIsLeftToTheTracer() {
        let later = "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-whatever"
        #expect(Self.both.carrier(from: ["traceparent": later]) == ["traceparent": later])
    }
}

struct RequestTraceTests {
    @Test func withoutATraceAnUpstreamCallRunsAlone() async {
        let given = await RequestTrace.withClientSpan("SQS.SendMessage") { trace in trace == nil }
        #expect(given)
    }

    @Test func anUpstreamCallIsAChildOfTheRequestsSpan() async throws {
        let tracer = InMemoryTracer()
        let requestTracer = RequestTracer(tracer: tracer, propagation: TracePropagationTests.both)
        let trace = requestTracer.start("SendMessage", headers: [:])
        await RequestTrace.$current.withValue(trace) {
            await RequestTrace.withClientSpan("S3.PutObject") { call in
                call?.span.attributes["aws.s3.bucket"] = "b"
                #expect(RequestTrace.current?.span.operationName == "S3.PutObject")
            }
        }
        trace.span.end()
        let spans = tracer.finishedSpans
        let server = try #require(spans.first { $0.operationName == "SendMessage" })
        let client = try #require(spans.first { $0.operationName == "S3.PutObject" })
        #expect(server.kind == .server)
        #expect(client.kind == .client)
        #expect(client.parentSpanID == server.spanID)
        #expect(client.traceID == server.traceID)
        #expect(client.attributes["aws.s3.bucket"]?.toSpanAttribute() == "b")
    }

    @Test func theClientsContextIsGivenToTheTracer() throws {
        let tracer = InMemoryTracer(recordExtractions: true)
        let requestTracer = RequestTracer(tracer: tracer, propagation: TracePropagationTests.both)
        _ = requestTracer.start("ReceiveMessage", headers: ["X-Amzn-Trace-Id": XRayTraceHeaderTests.header])
        let extraction = try #require(tracer.performedContextExtractions.first)
        #expect(
            extraction.carrier as? [String: String]
                == ["traceparent": "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01"])
        _ = requestTracer.start("ReceiveMessage", headers: [:])
        #expect(tracer.performedContextExtractions.count == 1)
    }

    @Test func aCallsSpanTellsItsLastAttemptAndMarksAFailure() async throws {
        let tracer = InMemoryTracer()
        let trace = RequestTracer(tracer: tracer, propagation: TracePropagationTests.both).start("X", headers: [:])
        await RequestTrace.$current.withValue(trace) {
            await RequestTrace.withClientSpan("SQS.SendMessage") { call in
                call?.unanswered(CancellationError())
                call?.answered(status: 200, requestID: "r-1")
                call?.callEnded(attempts: 2)
            }
            await RequestTrace.withClientSpan("S3.PutObject") { call in
                call?.answered(status: 503, requestID: "r-2", errorCode: "SlowDown")
                call?.callEnded(attempts: 1)
            }
        }
        let succeeded = try #require(tracer.finishedSpans.first { $0.operationName == "SQS.SendMessage" })
        #expect(succeeded.status?.code != .error)
        #expect(succeeded.attributes["error.type"] == nil)
        #expect(succeeded.attributes["http.request.resend_count"]?.toSpanAttribute() == 1)
        #expect(succeeded.attributes["aws.request_id"]?.toSpanAttribute() == "r-1")
        #expect(succeeded.events.map(\.name) == ["attempt failed"])
        let failed = try #require(tracer.finishedSpans.first { $0.operationName == "S3.PutObject" })
        #expect(failed.status?.code == .error)
        #expect(failed.attributes["error.type"]?.toSpanAttribute() == "SlowDown")
        #expect(failed.attributes["http.request.resend_count"] == nil)
    }

    @Test func theRequestsCountsAreSharedByItsCalls() async {
        let trace = RequestTracer(tracer: InMemoryTracer(), propagation: TracePropagationTests.both)
            .start("X", headers: [:])
        await RequestTrace.$current.withValue(trace) {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<100 {
                    group.addTask {
                        await RequestTrace.withClientSpan("S3.PutObject") { _ in RequestTrace.count(3, as: "bytes") }
                    }
                }
            }
        }
        RequestTrace.count(1, as: "bytes")
        #expect(trace.tally.all == ["bytes": 300])
    }
}

struct SpanTextTests {
    @Test func outsideTextIsCutToItsBound() {
        #expect(SpanText.bounded("orders") == .string("orders"))
        let long = String(repeating: "q", count: 10_000)
        #expect(SpanText.bounded(long) == .string(String(repeating: "q", count: SpanText.maxBytes)))
        // A character cut in two at the bound becomes one replacement character.
        let cut = String(repeating: "a", count: SpanText.maxBytes - 1) + "é"
        #expect(SpanText.bounded(cut) == .string(String(repeating: "a", count: SpanText.maxBytes - 1) + "\u{FFFD}"))
    }
}
