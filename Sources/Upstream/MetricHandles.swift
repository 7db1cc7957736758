import Synchronization

/// Metric handles (swift-metrics counters and timers) kept by their labels, so that a metric
/// recorded on every request is made in the metrics backend once, not looked up each time.
public final class MetricHandles<Key: Hashable & Sendable, Handles: Sendable>: Sendable {
    private let handles = Mutex<[Key: Handles]>([:])

    public init() {}

    /// The handles of `key`, made by `make` the first time.
    public func handles(for key: Key, make: () -> Handles) -> Handles {
        if let found = handles.withLock({ $0[key] }) { return found }
        let made = make()
        handles.withLock { $0[key] = made }
        return made
    }
}
