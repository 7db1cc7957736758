import Metrics

/// Runs upstream calls under a ``RetryPolicy`` and a shared ``RetryBudget``.
public struct UpstreamRetrier: Sendable {
    public let policy: RetryPolicy
    public let budget: RetryBudget

    public init(policy: RetryPolicy = RetryPolicy(), budget: RetryBudget = RetryBudget()) {
        self.policy = policy
        self.budget = budget
    }

    /// Calls `operation` until it reports no retryable failure, the policy gives up or the budget
    /// is spent; returns its last result. Retries are counted in `sqs_proxy_upstream_retries_total`.
    /// - Parameters:
    ///   - service: `sqs` or `s3`, for the retry count.
    ///   - repeatable: whether the call may be repeated after the service may have acted on it.
    ///   - operation: one attempt: its result, and how it failed if it may be tried again.
    public func run<Result>(
        service: String, repeatable: Bool, _ operation: () async -> (result: Result, failure: UpstreamFailure?)
    ) async -> Result {
        var attempt = 1
        while true {
            let (result, failure) = await operation()
            guard let failure else {
                budget.refund()
                return result
            }
            guard
                let delay = policy.delay(
                    after: attempt, failure: failure, repeatable: repeatable, random: Double.random(in: 0..<1)),
                budget.spend()
            else { return result }
            Counter(label: "sqs_proxy_upstream_retries_total", dimensions: [("service", service)]).increment()
            do {
                try await Task.sleep(for: delay)
            } catch {
                return result
            }
            attempt += 1
        }
    }
}
