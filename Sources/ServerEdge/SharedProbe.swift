import Synchronization

/// A check that callers arriving while it runs share: one run at a time, its result handed to
/// every caller that waited for it (readiness probes from many scrapers make one upstream call).
final class SharedProbe<Result: Sendable>: Sendable {
    private let check: @Sendable () async -> Result
    private let running = Mutex<Task<Result, Never>?>(nil)

    init(_ check: @escaping @Sendable () async -> Result) {
        self.check = check
    }

    /// The result of the run in progress, or of a new one.
    func result() async -> Result {
        let task = running.withLock { running in
            if let task = running { return task }
            let task = Task { [check] in
                let result = await check()
                self.running.withLock { $0 = nil }
                return result
            }
            running = task
            return task
        }
        return await task.value
    }
}
