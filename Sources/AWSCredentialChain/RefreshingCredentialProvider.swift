import AWSSigning
import Logging
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// When temporary credentials are fetched again. Pure, so the rule is tested without clocks.
public struct CredentialRefreshSchedule: Sendable {
    /// How long before expiry a refresh starts (botocore's 15 minutes); for credentials that live
    /// shorter than twice this, half their lifetime, but at least twice `expiryMargin`.
    public var lead: TimeInterval = 15 * 60
    /// Credentials this close to expiry are no longer used (a request signed now must arrive in time).
    public var expiryMargin: TimeInterval = 10
    /// The wait after a first failed fetch; it doubles with every further failure.
    public var firstRetryDelay: TimeInterval = 1
    /// The longest wait between failed fetches.
    public var maxRetryDelay: TimeInterval = 60

    public init() {}

    /// When to fetch again after `credentials` were fetched at `now`; nil if they never expire.
    /// Never sooner than `firstRetryDelay` after the fetch, however short their life.
    public func refreshTime(for credentials: AWSCredentials, fetchedAt now: Date) -> Date? {
        guard let expiration = credentials.expiration else { return nil }
        let lifetime = expiration.timeIntervalSince(now)
        let refresh = expiration.addingTimeInterval(-min(lead, max(lifetime / 2, 2 * expiryMargin)))
        return max(refresh, now.addingTimeInterval(firstRetryDelay))
    }

    /// Whether `credentials` may sign a request at `now`.
    public func isUsable(_ credentials: AWSCredentials, at now: Date) -> Bool {
        guard let expiration = credentials.expiration else { return true }
        return now.addingTimeInterval(expiryMargin) < expiration
    }

    /// The wait before the next fetch after `failures` failed ones in a row, shorter when the
    /// credentials still held expire sooner.
    public func retryDelay(afterFailures failures: Int, holding current: AWSCredentials?, at now: Date)
        -> TimeInterval
    {
        var delay = min(maxRetryDelay, firstRetryDelay * Double(1 << min(max(failures - 1, 0), 30)))
        if let current, let expiration = current.expiration, isUsable(current, at: now) {
            delay = min(delay, max(firstRetryDelay, expiration.timeIntervalSince(now) / 2))
        }
        return delay
    }
}

/// Temporary credentials kept fresh by one background task (``run()``): requests read the
/// current credentials and never fetch, so a thousand requests at expiry cause one fetch, not a
/// thousand. Credentials are replaced ahead of expiry; requests already signed are not affected.
/// Requests that arrive while the first fetch is under way wait for it; when the source fails
/// and nothing usable is held, they fail at once with the reason.
public final class RefreshingCredentialProvider: CredentialProvider {
    private struct State {
        var current: AWSCredentials?
        var fetching = true
        var lastError: CredentialError?
        var waiters: [CheckedContinuation<AWSCredentials, any Error>] = []
    }

    public let source: any CredentialSource
    let schedule: CredentialRefreshSchedule
    let logger: Logger
    private let state: Mutex<State>

    /// - Parameter initial: credentials already fetched from `source`, used until their refresh time.
    public init(
        source: any CredentialSource, initial: AWSCredentials? = nil,
        schedule: CredentialRefreshSchedule = CredentialRefreshSchedule(), logger: Logger
    ) {
        self.source = source
        self.schedule = schedule
        self.logger = logger
        self.state = Mutex(State(current: initial, fetching: initial == nil))
    }

    public var name: String { source.name }

    public var isReady: Bool {
        state.withLock { state in state.current.map { schedule.isUsable($0, at: Date()) } ?? false }
    }

    public func credentials() async throws -> AWSCredentials {
        if let current = usableCredentials() { return current }
        return try await withCheckedThrowingContinuation { continuation in
            let answer: Result<AWSCredentials, any Error>? = state.withLock { state in
                if let current = state.current, schedule.isUsable(current, at: Date()) { return .success(current) }
                if state.fetching {
                    state.waiters.append(continuation)
                    return nil
                }
                return .failure(state.lastError ?? CredentialError.fetchFailed("No credentials from \(source.name)."))
            }
            if let answer { continuation.resume(with: answer) }
        }
    }

    private func usableCredentials() -> AWSCredentials? {
        state.withLock { state in
            guard let current = state.current, schedule.isUsable(current, at: Date()) else { return nil }
            return current
        }
    }

    /// Fetches, then fetches again at each refresh time (sooner after a failure), until cancelled.
    public func run() async {
        var failures = 0
        var next = state.withLock { state in
            state.current.flatMap { schedule.refreshTime(for: $0, fetchedAt: Date()) } ?? .distantPast
        }
        defer {
            let waiters = state.withLock { state in
                state.fetching = false
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(throwing: CancellationError()) }
        }
        while true {
            let wait = next.timeIntervalSinceNow
            if wait > 0 {
                do {
                    try await Task.sleep(for: .milliseconds(Int64(min(wait, 86_400) * 1000)))
                } catch {
                    return
                }
                if next.timeIntervalSinceNow > 0 { continue }
            }
            state.withLock { $0.fetching = $0.current.map { !schedule.isUsable($0, at: Date()) } ?? true }
            do {
                let fresh = try await source.fetch()
                failures = 0
                let waiters = state.withLock { state in
                    state.current = fresh
                    state.lastError = nil
                    state.fetching = false
                    defer { state.waiters = [] }
                    return state.waiters
                }
                for waiter in waiters { waiter.resume(returning: fresh) }
                logger.debug(
                    "credentials fetched",
                    metadata: ["source": "\(source.name)", "expires": "\(fresh.expiration.map { "\($0)" } ?? "never")"])
                next = schedule.refreshTime(for: fresh, fetchedAt: Date()) ?? .distantFuture
            } catch {
                if Task.isCancelled { return }
                failures += 1
                let (waiters, current) = state.withLock { state in
                    state.lastError = error
                    state.fetching = false
                    defer { state.waiters = [] }
                    return (state.waiters, state.current.flatMap { schedule.isUsable($0, at: Date()) ? $0 : nil })
                }
                for waiter in waiters {
                    if let current { waiter.resume(returning: current) } else { waiter.resume(throwing: error) }
                }
                let delay = schedule.retryDelay(afterFailures: failures, holding: current, at: Date())
                logger.warning(
                    "credential fetch failed",
                    metadata: [
                        "source": "\(source.name)", "error": "\(error)", "retry_in_seconds": "\(delay)",
                        "holding_valid_credentials": "\(current != nil)",
                    ])
                next = Date().addingTimeInterval(delay)
            }
        }
    }
}
