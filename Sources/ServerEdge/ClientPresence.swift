import Synchronization

/// Whether a connection's client is still there, and whether the request in progress may be
/// abandoned when it is not: the request path allows it for a request that changes nothing (a
/// receive, a long poll), so that a client that hung up does not leave its upstream call running,
/// nor a long poll that takes messages nobody waits for.
public final class ClientPresence: Sendable {
    /// The presence of the connection the current task serves; nil outside a served connection.
    @TaskLocal public static var current: ClientPresence?

    private struct State {
        var gone = false
        var abandonable = false
        var waiter: CheckedContinuation<Void, Never>?
        /// The wait was cancelled (perhaps before its waiter was stored).
        var cancelled = false
    }

    private let state = Mutex(State())

    public init() {}

    /// Allows the request in progress to be abandoned should the client leave.
    public func allowAbandoning() {
        update { $0.abandonable = true }
    }

    /// A new request begins (or the last was answered): it may not be abandoned until allowed.
    func requestBegins() {
        update { $0.abandonable = false }
    }

    /// The client's connection closed.
    func clientLeft() {
        update { $0.gone = true }
    }

    /// Returns once the client left while its request may be abandoned, or when cancelled.
    func abandoned() async {
        state.withLock { $0.cancelled = false }
        await withTaskCancellationHandler {
            await withCheckedContinuation { waiter in
                let now = state.withLock { state in
                    guard !state.cancelled, !(state.gone && state.abandonable) else { return true }
                    state.waiter = waiter
                    return false
                }
                if now { waiter.resume() }
            }
        } onCancel: {
            state.withLock { state in
                state.cancelled = true
                return state.waiter.take()
            }?.resume()
        }
    }

    private func update(_ change: (inout State) -> Void) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            change(&state)
            return state.gone && state.abandonable ? state.waiter.take() : nil
        }
        waiter?.resume()
    }
}
