import SQSTransport
import Testing
import Upstream

/// How the SQS transport's failures count for retries: a request that never left may go again
/// (a send too), one that may have arrived only if it is repeatable, and a timeout not at all.
struct TransportFailureTests {
    @Test(arguments: [
        (SQSTransportError.connectFailed("refused"), UpstreamFailure?.some(.notSent)),
        (.connectionClosed(written: false), .notSent),
        (.connectionFailed(written: false, "handshake"), .notSent),
        (.connectionClosed(written: true), .serverError),
        (.connectionFailed(written: true, "reset"), .serverError),
        (.timedOut, nil),
        (.timedOutWaiting, nil),
        (.responseTooLarge(limit: 1), nil),
        (.cancelled, nil),
        (.shutDown, nil),
    ])
    func transportFailuresAreClassified(error: SQSTransportError, expected: UpstreamFailure?) {
        #expect(UpstreamFailure.of(error) == expected)
    }

    @Test func whetherTheRequestMayHaveArrived() {
        #expect(!SQSTransportError.connectFailed("refused").mayHaveArrived)
        #expect(!SQSTransportError.timedOutWaiting.mayHaveArrived)
        #expect(!SQSTransportError.connectionClosed(written: false).mayHaveArrived)
        #expect(SQSTransportError.connectionClosed(written: true).mayHaveArrived)
        #expect(SQSTransportError.timedOut.mayHaveArrived)
    }
}
