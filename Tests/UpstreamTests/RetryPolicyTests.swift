import Testing

@testable import Upstream

struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 4, baseDelay: .milliseconds(100), maxDelay: .milliseconds(300))

    @Test func backoffDoublesUpToTheCeilingWithFullJitter() {
        #expect(policy.delay(after: 1, failure: .throttled, repeatable: true, random: 0.999_999)! <= .milliseconds(100))
        #expect(policy.delay(after: 1, failure: .throttled, repeatable: true, random: 0.5) == .milliseconds(50))
        #expect(policy.delay(after: 2, failure: .throttled, repeatable: true, random: 0.5) == .milliseconds(100))
        #expect(policy.delay(after: 3, failure: .throttled, repeatable: true, random: 0.5) == .milliseconds(150))
        #expect(policy.delay(after: 1, failure: .throttled, repeatable: true, random: 0) == .zero)
    }

    @Test func givesUpAfterTheLastAttempt() {
        #expect(policy.delay(after: 3, failure: .notSent, repeatable: false, random: 0.5) != nil)
        #expect(policy.delay(after: 4, failure: .notSent, repeatable: false, random: 0.5) == nil)
        #expect(RetryPolicy(maxAttempts: 1).delay(after: 1, failure: .notSent, repeatable: true, random: 0.5) == nil)
    }

    @Test(arguments: [
        (UpstreamFailure.notSent, false, true), (.throttled, false, true), (.serverError, false, false),
        (.notSent, true, true), (.throttled, true, true), (.serverError, true, true),
    ])
    func aSendIsRepeatedOnlyWhenSQSCannotHaveTakenIt(failure: UpstreamFailure, repeatable: Bool, retried: Bool) {
        #expect((policy.delay(after: 1, failure: failure, repeatable: repeatable, random: 0.5) != nil) == retried)
    }

    @Test func budgetRunsOutAndRefills() {
        let budget = RetryBudget(capacity: 10, retryCost: 5)
        #expect(budget.spend())
        #expect(budget.spend())
        #expect(!budget.spend())
        for _ in 0..<5 { budget.refund() }
        #expect(budget.spend())
        for _ in 0..<100 { budget.refund() }
        #expect(budget.available == 10)
    }

    @Test func retrierStopsAtSuccessAndWhenTheBudgetIsSpent() async {
        let retrier = UpstreamRetrier(
            policy: RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(1), maxDelay: .milliseconds(1)),
            budget: RetryBudget(capacity: 10, retryCost: 5))
        var calls = 0
        let recovered = await retrier.run(service: "sqs", repeatable: true) {
            () -> (result: Int, failure: UpstreamFailure?) in
            calls += 1
            return (calls, calls < 3 ? .serverError : nil)
        }
        #expect(recovered == 3)
        calls = 0
        // 10 - 2 × 5 + 1 = 1 token left: not enough for another retry.
        let failed = await retrier.run(service: "sqs", repeatable: true) {
            () -> (result: Int, failure: UpstreamFailure?) in
            calls += 1
            return (calls, .throttled)
        }
        #expect(failed == 1)
        let notRepeated = await UpstreamRetrier().run(service: "sqs", repeatable: false) {
            () -> (result: String, failure: UpstreamFailure?) in ("5xx", .serverError)
        }
        #expect(notRepeated == "5xx")
    }
}
