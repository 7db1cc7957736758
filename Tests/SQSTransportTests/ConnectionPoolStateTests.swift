import Testing

@testable import SQSTransport

@Suite struct ConnectionPoolStateTests {
    typealias Connection = ConnectionPoolState.ConnectionID
    typealias Request = ConnectionPoolState.RequestID

    static func connection(_ value: Int) -> Connection { Connection(value: value) }
    static func request(_ value: Int) -> Request { Request(value: value) }

    @Test func aRequestMakesAConnectionThenReusesIt() {
        var pool = ConnectionPoolState(maxConnections: 2)
        #expect(pool.lease(Self.request(1), bounded: true) == .connect)
        #expect(pool.connected(Self.connection(1)) == .run(Self.request(1), on: Self.connection(1)))
        #expect(pool.release(Self.connection(1), reusable: true) == .none)
        #expect(pool.idle == [Self.connection(1)])
        #expect(pool.lease(Self.request(2), bounded: true) == .use(Self.connection(1)))
        #expect(pool.counted == 1)
    }

    @Test func pastTheBoundRequestsWaitInOrder() {
        var pool = ConnectionPoolState(maxConnections: 1)
        #expect(pool.lease(Self.request(1), bounded: true) == .connect)
        #expect(pool.lease(Self.request(2), bounded: true) == .wait)
        #expect(pool.lease(Self.request(3), bounded: true) == .wait)
        #expect(pool.connected(Self.connection(1)) == .run(Self.request(1), on: Self.connection(1)))
        #expect(pool.release(Self.connection(1), reusable: true) == .run(Self.request(2), on: Self.connection(1)))
        #expect(pool.release(Self.connection(1), reusable: true) == .run(Self.request(3), on: Self.connection(1)))
        #expect(pool.release(Self.connection(1), reusable: true) == .none)
        #expect(pool.counted == 1)
    }

    @Test func aConnectionThatClosesMakesRoomForAWaitingRequest() {
        var pool = ConnectionPoolState(maxConnections: 1)
        _ = pool.lease(Self.request(1), bounded: true)
        _ = pool.connected(Self.connection(1))
        #expect(pool.lease(Self.request(2), bounded: true) == .wait)
        #expect(pool.release(Self.connection(1), reusable: false) == .connect)
        #expect(pool.connected(Self.connection(2)) == .run(Self.request(2), on: Self.connection(2)))
        #expect(pool.release(Self.connection(2), reusable: false) == .none)
        #expect(pool.counted == 0)
    }

    @Test func aFailedConnectFailsTheFirstWaitingRequest() {
        var pool = ConnectionPoolState(maxConnections: 2)
        _ = pool.lease(Self.request(1), bounded: true)
        _ = pool.lease(Self.request(2), bounded: true)
        #expect(pool.connectFailed() == Self.request(1))
        #expect(pool.counted == 1)
        #expect(pool.connected(Self.connection(1)) == .run(Self.request(2), on: Self.connection(1)))
    }

    @Test func aLongPollTakesAnIdleConnectionOutsideTheBound() {
        var pool = ConnectionPoolState(maxConnections: 1)
        _ = pool.lease(Self.request(1), bounded: true)
        _ = pool.connected(Self.connection(1))
        _ = pool.release(Self.connection(1), reusable: true)
        #expect(pool.lease(Self.request(2), bounded: false) == .use(Self.connection(1)))
        #expect(pool.counted == 0)
        // The bound is free for other requests while the long poll waits.
        #expect(pool.lease(Self.request(3), bounded: true) == .connect)
        #expect(pool.connected(Self.connection(2)) == .run(Self.request(3), on: Self.connection(2)))
        _ = pool.release(Self.connection(2), reusable: true)
        // Done, the long poll's connection finds the bound full and closes.
        #expect(pool.release(Self.connection(1), reusable: true) == .close(Self.connection(1)))
        #expect(pool.idle == [Self.connection(2)])
        #expect(pool.counted == 1)
    }

    @Test func aLongPollWithNoIdleConnectionGetsOneOfItsOwn() {
        var pool = ConnectionPoolState(maxConnections: 1)
        _ = pool.lease(Self.request(1), bounded: true)
        #expect(pool.lease(Self.request(2), bounded: false) == .connectDedicated)
        #expect(pool.waiting.count == 1)
        pool.connectedDedicated(Self.connection(7))
        // Its connection joins the bounded ones when there is room (the connect for request 1 failed).
        _ = pool.connectFailed()
        #expect(pool.release(Self.connection(7), reusable: true) == .none)
        #expect(pool.idle == [Self.connection(7)])
        #expect(pool.counted == 1)
    }

    @Test func aLongPollsConnectionClosesWhenTheBoundIsFull() {
        var pool = ConnectionPoolState(maxConnections: 1)
        _ = pool.lease(Self.request(1), bounded: true)
        _ = pool.connected(Self.connection(1))
        #expect(pool.lease(Self.request(2), bounded: false) == .connectDedicated)
        pool.connectedDedicated(Self.connection(2))
        #expect(pool.release(Self.connection(1), reusable: false) == .none)
        #expect(pool.lease(Self.request(3), bounded: true) == .connect)
        #expect(pool.lease(Self.request(4), bounded: true) == .wait)
        #expect(pool.release(Self.connection(2), reusable: true) == .close(Self.connection(2)))
        #expect(pool.connected(Self.connection(3)) == .run(Self.request(3), on: Self.connection(3)))
        #expect(pool.release(Self.connection(3), reusable: true) == .run(Self.request(4), on: Self.connection(3)))
    }

    @Test func anIdleConnectionThatClosesFreesItsPlace() {
        var pool = ConnectionPoolState(maxConnections: 1)
        _ = pool.lease(Self.request(1), bounded: true)
        _ = pool.connected(Self.connection(1))
        _ = pool.release(Self.connection(1), reusable: true)
        pool.connectionClosed(Self.connection(1))
        #expect(pool.idle.isEmpty)
        #expect(pool.counted == 0)
        #expect(pool.lease(Self.request(2), bounded: true) == .connect)
    }

    @Test func aWaitingRequestCanGiveUp() {
        var pool = ConnectionPoolState(maxConnections: 1)
        _ = pool.lease(Self.request(1), bounded: true)
        _ = pool.lease(Self.request(2), bounded: true)
        let cancelled = pool.cancel(Self.request(2))
        let cancelledAgain = pool.cancel(Self.request(2))
        #expect(cancelled)
        #expect(!cancelledAgain)
        #expect(pool.connected(Self.connection(1)) == .run(Self.request(1), on: Self.connection(1)))
        #expect(pool.release(Self.connection(1), reusable: true) == .none)
    }

    @Test func shutdownFailsWaitersRefusesMoreAndClosesConnectionsWhenReleased() {
        var pool = ConnectionPoolState(maxConnections: 1)
        _ = pool.lease(Self.request(1), bounded: true)
        _ = pool.connected(Self.connection(1))
        #expect(pool.lease(Self.request(2), bounded: true) == .wait)
        let (close, fail) = pool.shutDown()
        #expect(close.isEmpty)
        #expect(fail == [Self.request(2)])
        #expect(pool.lease(Self.request(3), bounded: true) == .failShutDown)
        #expect(pool.lease(Self.request(4), bounded: false) == .failShutDown)
        #expect(pool.release(Self.connection(1), reusable: true) == .close(Self.connection(1)))
        #expect(pool.counted == 0)
    }

    @Test func shutdownClosesIdleConnections() {
        var pool = ConnectionPoolState(maxConnections: 2)
        _ = pool.lease(Self.request(1), bounded: true)
        _ = pool.connected(Self.connection(1))
        _ = pool.release(Self.connection(1), reusable: true)
        let (close, fail) = pool.shutDown()
        #expect(close == [Self.connection(1)])
        #expect(fail.isEmpty)
        #expect(pool.counted == 0)
    }

    @Test func aConnectionMadeAfterShutdownIsClosed() {
        var pool = ConnectionPoolState(maxConnections: 2)
        _ = pool.lease(Self.request(1), bounded: true)
        _ = pool.shutDown()
        #expect(pool.connected(Self.connection(1)) == .close(Self.connection(1)))
        #expect(pool.counted == 0)
        #expect(pool.connecting == 0)
    }
}
