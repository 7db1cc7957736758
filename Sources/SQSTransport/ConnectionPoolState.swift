import NIOCore

/// The keep-alive connections of one event loop, as a value: which connection a request gets,
/// when one is made or closed, who waits. No I/O; ``EventLoopConnectionPool`` carries out what it
/// returns.
///
/// Bounded requests share at most `maxConnections` connections (idle, busy and being made);
/// past that they wait, first come first served. A request that may long-poll takes an idle
/// connection or a new one of its own and is never counted or kept waiting; its connection joins
/// the bounded ones when it is done, if there is room.
struct ConnectionPoolState {
    struct ConnectionID: Hashable, Sendable {
        let value: Int
    }

    struct RequestID: Hashable, Sendable {
        let value: Int
    }

    enum LeaseAction: Equatable {
        /// Run the request on this idle connection.
        case use(ConnectionID)
        /// Make a connection; it goes to the first waiting request (the request waits meanwhile).
        case connect
        /// Make a connection for this request alone (a long poll).
        case connectDedicated
        /// Wait for a connection to come free.
        case wait
        case failShutDown
    }

    enum Action: Equatable {
        case none
        case run(RequestID, on: ConnectionID)
        case connect
        case close(ConnectionID)
    }

    let maxConnections: Int
    /// Idle connections, the most recently used last.
    private(set) var idle: [ConnectionID] = []
    /// Connections in use, and whether each counts toward the bound.
    private(set) var leased: [ConnectionID: Bool] = [:]
    /// Bounded connections: idle, leased under the bound, and being made.
    private(set) var counted = 0
    private(set) var connecting = 0
    private(set) var waiting = CircularBuffer<RequestID>()
    private(set) var isShutDown = false

    init(maxConnections: Int) {
        precondition(maxConnections > 0)
        self.maxConnections = maxConnections
    }

    /// A request wants a connection.
    /// - Parameter bounded: false for a request that may long-poll.
    mutating func lease(_ request: RequestID, bounded: Bool) -> LeaseAction {
        guard !isShutDown else { return .failShutDown }
        if let connection = idle.popLast() {
            leased[connection] = bounded
            if !bounded { counted -= 1 }
            return .use(connection)
        }
        guard bounded else { return .connectDedicated }
        waiting.append(request)
        guard counted < maxConnections else { return .wait }
        counted += 1
        connecting += 1
        return .connect
    }

    /// A bounded connection was made.
    mutating func connected(_ connection: ConnectionID) -> Action {
        connecting -= 1
        guard !isShutDown else {
            counted -= 1
            return .close(connection)
        }
        return assign(connection)
    }

    /// A bounded connection could not be made: the first waiting request, which fails with its error.
    mutating func connectFailed() -> RequestID? {
        connecting -= 1
        counted -= 1
        return waiting.popFirst()
    }

    /// A connection made for a long poll is in use.
    mutating func connectedDedicated(_ connection: ConnectionID) {
        leased[connection] = false
    }

    /// A request is done with its connection; `reusable` when the connection can carry another.
    mutating func release(_ connection: ConnectionID, reusable: Bool) -> Action {
        guard let wasCounted = leased.removeValue(forKey: connection) else { return .none }
        guard reusable, !isShutDown else {
            if wasCounted { counted -= 1 }
            guard !isShutDown, !waiting.isEmpty, counted < maxConnections else {
                return reusable ? .close(connection) : .none
            }
            counted += 1
            connecting += 1
            return .connect
        }
        if !wasCounted {
            guard counted < maxConnections else { return .close(connection) }
            counted += 1
        }
        return assign(connection)
    }

    /// A connection closed with no request on it (the server closed it, its idle time ran out);
    /// it leaves the idle ones if it was there.
    mutating func connectionClosed(_ connection: ConnectionID) {
        guard let index = idle.firstIndex(of: connection) else { return }
        idle.remove(at: index)
        counted -= 1
    }

    /// A waiting request gave up (its deadline passed); true if it was still waiting.
    mutating func cancel(_ request: RequestID) -> Bool {
        guard let index = waiting.firstIndex(of: request) else { return false }
        waiting.remove(at: index)
        return true
    }

    /// No more requests: the idle connections to close and the waiting requests to fail. Busy
    /// connections close when released.
    mutating func shutDown() -> (close: [ConnectionID], fail: [RequestID]) {
        isShutDown = true
        let closing = idle
        counted -= idle.count
        idle.removeAll()
        let failing = Array(waiting)
        waiting.removeAll()
        return (closing, failing)
    }

    private mutating func assign(_ connection: ConnectionID) -> Action {
        if let request = waiting.popFirst() {
            leased[connection] = true
            return .run(request, on: connection)
        }
        idle.append(connection)
        return .none
    }
}
