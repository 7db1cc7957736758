import AWSSigning
import Foundation
import Logging
import Synchronization
import Testing

@testable import AWSCredentialChain

/// A source that hands out numbered credentials living `lifetime` seconds, or fails while told to.
final class CountingSource: CredentialSource {
    let lifetime: TimeInterval
    let delay: Duration
    private let state = Mutex((fetches: 0, failing: false))

    init(lifetime: TimeInterval, delay: Duration = .zero) {
        self.lifetime = lifetime
        self.delay = delay
    }

    var name: String { "counting" }
    var fetches: Int { state.withLock { $0.fetches } }
    func fail(_ failing: Bool) { state.withLock { $0.failing = failing } }

    func fetch() async throws(CredentialError) -> AWSCredentials {
        do {
            try await Task.sleep(for: delay)
        } catch {
            throw .fetchFailed("cancelled")
        }
        let (count, failing) = state.withLock { state in
            state.fetches += 1
            return (state.fetches, state.failing)
        }
        if failing { throw .fetchFailed("source down") }
        return AWSCredentials(
            accessKeyID: "KEY\(count)", secretAccessKey: "secret", sessionToken: "token",
            expiration: Date().addingTimeInterval(lifetime))
    }
}

struct CredentialRefreshTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func expiring(in seconds: TimeInterval) -> AWSCredentials {
        AWSCredentials(
            accessKeyID: "K", secretAccessKey: "S", sessionToken: "T", expiration: now.addingTimeInterval(seconds))
    }

    @Test func refreshStartsFifteenMinutesAheadOrEarlierForShortLives() {
        let schedule = CredentialRefreshSchedule()
        #expect(schedule.refreshTime(for: Self.expiring(in: 3600), fetchedAt: Self.now) == Self.now + 2700)
        #expect(schedule.refreshTime(for: Self.expiring(in: 600), fetchedAt: Self.now) == Self.now + 300)
        // Short lives: refreshed while still usable (twice the 10 s margin ahead), at most once a second.
        #expect(schedule.refreshTime(for: Self.expiring(in: 30), fetchedAt: Self.now) == Self.now + 10)
        #expect(schedule.refreshTime(for: Self.expiring(in: 12), fetchedAt: Self.now) == Self.now + 1)
        #expect(
            schedule.refreshTime(for: AWSCredentials(accessKeyID: "K", secretAccessKey: "S"), fetchedAt: Self.now)
                == nil)
    }

    @Test func credentialsCloseToExpiryAreNotUsed() {
        let schedule = CredentialRefreshSchedule()
        #expect(schedule.isUsable(Self.expiring(in: 11), at: Self.now))
        #expect(!schedule.isUsable(Self.expiring(in: 9), at: Self.now))
        #expect(!schedule.isUsable(Self.expiring(in: -1), at: Self.now))
        #expect(schedule.isUsable(AWSCredentials(accessKeyID: "K", secretAccessKey: "S"), at: Self.now))
    }

    @Test func retriesBackOffButNotPastWhatIsHeld() {
        let schedule = CredentialRefreshSchedule()
        #expect(schedule.retryDelay(afterFailures: 1, holding: nil, at: Self.now) == 1)
        #expect(schedule.retryDelay(afterFailures: 4, holding: nil, at: Self.now) == 8)
        #expect(schedule.retryDelay(afterFailures: 20, holding: nil, at: Self.now) == 60)
        #expect(schedule.retryDelay(afterFailures: 20, holding: Self.expiring(in: 40), at: Self.now) == 20)
        #expect(schedule.retryDelay(afterFailures: 20, holding: Self.expiring(in: 5), at: Self.now) == 60)
    }

    static var fastSchedule: CredentialRefreshSchedule {
        var schedule = CredentialRefreshSchedule()
        schedule.lead = 1
        schedule.expiryMargin = 0.2
        schedule.firstRetryDelay = 0.2
        return schedule
    }

    /// Runs `body` with `provider`'s refresher going, then stops it.
    func whileRefreshing(_ provider: RefreshingCredentialProvider, _ body: () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await provider.run() }
            try await body()
            group.cancelAll()
        }
    }

    func makeProvider(_ source: CountingSource) -> RefreshingCredentialProvider {
        RefreshingCredentialProvider(source: source, schedule: Self.fastSchedule, logger: Logger(label: "test"))
    }

    @Test func callersBeforeTheFirstFetchWaitForOneFetch() async throws {
        let source = CountingSource(lifetime: 3600, delay: .milliseconds(200))
        let provider = RefreshingCredentialProvider(
            source: source, schedule: Self.fastSchedule, logger: Logger(label: "test"))
        #expect(!provider.isReady)
        try await withThrowingTaskGroup(of: String.self) { group in
            group.addTask {
                await provider.run()
                return ""
            }
            for _ in 0..<50 { group.addTask { try await provider.credentials().accessKeyID } }
            var keys: [String] = []
            for _ in 0..<50 { keys.append(try await group.next()!) }
            group.cancelAll()
            #expect(keys.allSatisfy { $0 == "KEY1" })
        }
        #expect(source.fetches == 1)
    }

    @Test func refreshesBeforeExpiryWithoutCallersWaiting() async throws {
        let source = CountingSource(lifetime: 2)
        let provider = makeProvider(source)
        try await whileRefreshing(provider) {
            #expect(try await provider.credentials().accessKeyID == "KEY1")
            // Refreshed one second before expiry; every answer on the way is still valid.
            let deadline = Date().addingTimeInterval(1.6)
            while Date() < deadline {
                let credentials = try await provider.credentials()
                #expect(credentials.expiration! > Date())
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await provider.credentials().accessKeyID == "KEY2")
            #expect(source.fetches == 2)
        }
    }

    @Test func failedFetchFailsCallersAtOnceThenRecovers() async throws {
        let source = CountingSource(lifetime: 3600)
        source.fail(true)
        let provider = makeProvider(source)
        try await whileRefreshing(provider) {
            await #expect(throws: CredentialError.self) { try await provider.credentials() }
            // Between retries callers fail at once: the source is not asked once per caller.
            for _ in 0..<20 { _ = try? await provider.credentials() }
            #expect(source.fetches == 1)
            source.fail(false)
            try await Task.sleep(for: .milliseconds(400))
            #expect(try await provider.credentials().accessKeyID == "KEY2")
            #expect(provider.isReady)
        }
    }

    @Test func failedRefreshKeepsUsingValidCredentials() async throws {
        let source = CountingSource(lifetime: 2)
        let provider = makeProvider(source)
        try await whileRefreshing(provider) {
            #expect(try await provider.credentials().accessKeyID == "KEY1")
            source.fail(true)
            try await Task.sleep(for: .milliseconds(1300))
            #expect(source.fetches >= 2)
            #expect(try await provider.credentials().accessKeyID == "KEY1")
        }
    }

    @Test func waitersAreReleasedWhenTheRefresherStops() async throws {
        let source = CountingSource(lifetime: 3600, delay: .seconds(30))
        let provider = RefreshingCredentialProvider(
            source: source, schedule: Self.fastSchedule, logger: Logger(label: "test"))
        let refresher = Task { await provider.run() }
        let caller = Task { try await provider.credentials() }
        try await Task.sleep(for: .milliseconds(100))
        refresher.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
    }
}
