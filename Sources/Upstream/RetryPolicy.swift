import Synchronization

/// How an upstream call failed, as far as retrying it is concerned.
public enum UpstreamFailure: Sendable, Hashable {
    /// No connection was made: the request never reached the service.
    case notSent
    /// The service is throttling: it refused the request without acting on it.
    case throttled
    /// A 5xx answer, or a connection lost after the request may have arrived: the service may
    /// have acted on it.
    case serverError
}

/// When a failed upstream call is tried again, and after how long. Pure; the caller supplies the
/// randomness for the jitter.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included; 1 turns retries off.
    public var maxAttempts: Int
    /// The first retry waits up to this long; every further one up to twice as long as the last.
    public var baseDelay: Duration
    /// No retry waits longer than this.
    public var maxDelay: Duration

    public init(maxAttempts: Int = 3, baseDelay: Duration = .milliseconds(50), maxDelay: Duration = .seconds(2)) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The wait before trying again after attempt `attempt` (from 1) failed, or nil to give up.
    /// - Parameters:
    ///   - repeatable: whether the call may be repeated after the service may have acted on it.
    ///     False for a call that creates messages (a send): the client's SDK retries those itself,
    ///     and a retry here as well could enqueue a message more than twice.
    ///   - random: a number in `0..<1`, for full jitter.
    public func delay(after attempt: Int, failure: UpstreamFailure, repeatable: Bool, random: Double) -> Duration? {
        guard attempt < maxAttempts else { return nil }
        if failure == .serverError && !repeatable { return nil }
        let exponent = min(attempt - 1, 20)
        let ceiling = min(maxDelay, baseDelay * (1 << exponent))
        return ceiling * min(max(random, 0), 1)
    }
}

/// A token bucket that bounds retries across all calls, as the AWS SDKs' retry quota does: a
/// retry spends tokens, a success returns one. When the upstream is down for everyone, retries
/// stop after the bucket is empty instead of multiplying the load.
public final class RetryBudget: Sendable {
    private let tokens: Mutex<Int>
    public let capacity: Int
    /// Tokens a retry spends.
    public let retryCost: Int

    public init(capacity: Int = 500, retryCost: Int = 5) {
        self.capacity = capacity
        self.retryCost = retryCost
        self.tokens = Mutex(capacity)
    }

    /// Takes the tokens of one retry; false when the budget is spent.
    public func spend() -> Bool {
        tokens.withLock { tokens in
            guard tokens >= retryCost else { return false }
            tokens -= retryCost
            return true
        }
    }

    /// Returns a token after a successful call.
    public func refund() {
        tokens.withLock { tokens in tokens = min(capacity, tokens + 1) }
    }

    /// The tokens left.
    public var available: Int { tokens.withLock { $0 } }
}
