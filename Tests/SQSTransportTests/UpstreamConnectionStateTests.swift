import NIOCore
import NIOHTTP1
import Testing

@testable import SQSTransport

@Suite struct UpstreamConnectionStateTests {
    static func head(_ status: HTTPResponseStatus = .ok, keepAlive: Bool = true) -> HTTPResponseHead {
        var head = HTTPResponseHead(version: .http1_1, status: status, headers: ["content-type": "text/plain"])
        if !keepAlive { head.headers.add(name: "connection", value: "close") }
        return head
    }

    @Test func aKeptAliveResponseLeavesTheConnectionIdle() {
        var state = UpstreamConnectionState(maxResponseSize: 100)
        #expect(state.startRequest(isActive: true) == .writeRequest)
        #expect(state.requestWritten() == .none)
        #expect(state.state == .awaitingHead(written: true))
        #expect(state.responseHead(Self.head()) == .none)
        #expect(state.responseBodyPart(ByteBuffer(string: "hello ")) == .none)
        #expect(state.responseBodyPart(ByteBuffer(string: "world")) == .none)
        let expected = UpstreamResponse(
            status: .ok, headers: ["content-type": "text/plain"], body: ByteBuffer(string: "hello world"))
        #expect(state.responseEnd() == .succeedRequest(expected, reuse: true))
        #expect(state.state == .idle)
        #expect(state.startRequest(isActive: true) == .writeRequest)
    }

    @Test func aResponseThatClosesEndsTheConnection() {
        var state = UpstreamConnectionState(maxResponseSize: 100)
        _ = state.startRequest(isActive: true)
        _ = state.responseHead(Self.head(keepAlive: false))
        let action = state.responseEnd()
        #expect(
            action
                == .succeedRequest(
                    UpstreamResponse(status: .ok, headers: Self.head(keepAlive: false).headers, body: ByteBuffer()),
                    reuse: false))
        #expect(state.state == .closing)
        #expect(state.channelInactive() == .forgetConnection)
    }

    @Test func aRequestThatClosesIsNotReused() {
        var state = UpstreamConnectionState(maxResponseSize: 100)
        _ = state.startRequest(isActive: true, closes: true)
        _ = state.responseHead(Self.head())
        guard case .succeedRequest(_, let reuse) = state.responseEnd() else {
            Issue.record("no response")
            return
        }
        #expect(!reuse)
    }

    @Test func informationalHeadsAreNotTheResponse() {
        var state = UpstreamConnectionState(maxResponseSize: 100)
        _ = state.startRequest(isActive: true)
        #expect(state.responseHead(Self.head(.continue)) == .none)
        #expect(state.state == .awaitingHead(written: false))
        _ = state.responseHead(Self.head(.accepted))
        #expect(state.state == .receivingBody(status: .accepted, keepAlive: true))
    }

    @Test func aClosedConnectionWritesNothing() {
        var state = UpstreamConnectionState(maxResponseSize: 100)
        #expect(state.startRequest(isActive: false) == .failRequest(.connectionClosed(written: false), close: false))
        #expect(state.state == .idle)
    }

    @Test func aBusyConnectionTakesNoSecondRequest() {
        var state = UpstreamConnectionState(maxResponseSize: 100)
        _ = state.startRequest(isActive: true)
        #expect(state.startRequest(isActive: true) == .failRequest(.connectionClosed(written: false), close: false))
    }

    @Test func closingBeforeTheWriteCompletedSaysNothingWasWritten() {
        var state = UpstreamConnectionState(maxResponseSize: 100)
        _ = state.startRequest(isActive: true)
        #expect(state.channelInactive() == .failRequest(.connectionClosed(written: false), close: false))
        #expect(state.state == .closed)
        #expect(state.startRequest(isActive: true) == .failRequest(.connectionClosed(written: false), close: false))
    }

    @Test func closingAfterTheWriteSaysTheRequestMayHaveArrived() {
        var state = UpstreamConnectionState(maxResponseSize: 100)
        _ = state.startRequest(isActive: true)
        _ = state.requestWritten()
        #expect(state.channelInactive() == .failRequest(.connectionClosed(written: true), close: false))
        var receiving = UpstreamConnectionState(maxResponseSize: 100)
        _ = receiving.startRequest(isActive: true)
        _ = receiving.responseHead(Self.head())
        #expect(receiving.channelInactive() == .failRequest(.connectionClosed(written: true), close: false))
    }

    @Test func anIdleConnectionThatClosesIsForgotten() {
        var state = UpstreamConnectionState(maxResponseSize: 100)
        #expect(state.channelInactive() == .forgetConnection)
    }

    @Test func aResponseOverTheLimitFailsAndCloses() {
        var state = UpstreamConnectionState(maxResponseSize: 10)
        _ = state.startRequest(isActive: true)
        _ = state.responseHead(Self.head())
        #expect(state.responseBodyPart(ByteBuffer(string: "0123456789")) == .none)
        #expect(
            state.responseBodyPart(ByteBuffer(string: "x")) == .failRequest(.responseTooLarge(limit: 10), close: true))
        #expect(state.responseBodyPart(ByteBuffer(string: "y")) == .none)
        #expect(state.responseEnd() == .none)
        #expect(state.channelInactive() == .forgetConnection)
    }

    @Test func aTimeoutFailsTheRequestAndCloses() {
        var state = UpstreamConnectionState(maxResponseSize: 10)
        #expect(state.abandon(with: .timedOut) == .none)
        _ = state.startRequest(isActive: true)
        #expect(state.abandon(with: .timedOut) == .failRequest(.timedOut, close: true))
        #expect(state.channelInactive() == .forgetConnection)
        #expect(state.channelInactive() == .none)
    }

    @Test func errorsFailTheRequestWithWhetherItWasWritten() {
        var before = UpstreamConnectionState(maxResponseSize: 10)
        _ = before.startRequest(isActive: true)
        #expect(
            before.errorCaught(ChannelError.eof)
                == .failRequest(.connectionFailed(written: false, "\(ChannelError.eof)"), close: true))
        var after = UpstreamConnectionState(maxResponseSize: 10)
        _ = after.startRequest(isActive: true)
        _ = after.requestWritten()
        #expect(
            after.errorCaught(ChannelError.eof)
                == .failRequest(.connectionFailed(written: true, "\(ChannelError.eof)"), close: true))
        var idle = UpstreamConnectionState(maxResponseSize: 10)
        #expect(idle.errorCaught(ChannelError.eof) == .closeConnection)
    }

    @Test func aResponseNoRequestAskedForClosesTheConnection() {
        var state = UpstreamConnectionState(maxResponseSize: 10)
        #expect(state.responseHead(Self.head()) == .closeConnection)
        #expect(state.state == .closing)
    }

    @Test func onlyAnIdleConnectionClosesWhenAsked() {
        var busy = UpstreamConnectionState(maxResponseSize: 10)
        _ = busy.startRequest(isActive: true)
        #expect(busy.closeIfIdle() == .none)
        var idle = UpstreamConnectionState(maxResponseSize: 10)
        #expect(idle.closeIfIdle() == .closeConnection)
        #expect(idle.startRequest(isActive: true) == .failRequest(.connectionClosed(written: false), close: false))
    }
}
