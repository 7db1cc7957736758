import SQSWire
import Synchronization

/// The bytes of request and response bodies held in memory across all requests, and the most
/// that may be: a request whose body would not fit, or that arrives while the budget is spent,
/// gets a 503 instead of growing the process.
///
/// Bodies are counted as they are held: a request body as it arrives (up to what its kind of
/// request can hold at once), what parsing it builds (``ParseCost``), a body encoded again for
/// SQS, an answer from SQS, a payload read whole from S3, and the response until it is written (an
/// answer passed on as it came is counted twice: an overestimate).
public final class MemoryBudget: Sendable {
    /// The most bytes held.
    public let limit: Int
    private let used = Atomic<Int>(0)

    public init(limit: Int) {
        self.limit = limit
    }

    /// The bytes held now.
    public var inUse: Int { used.load(ordering: .relaxed) }

    /// Takes `bytes` if they fit within the limit.
    func reserve(_ bytes: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while true {
            guard current + bytes <= limit else { return false }
            let (exchanged, original) = used.compareExchange(
                expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// Takes `bytes` whether they fit or not: they are in memory already.
    func charge(_ bytes: Int) {
        used.add(bytes, ordering: .relaxed)
    }

    /// Gives back `bytes`.
    func release(_ bytes: Int) {
        used.subtract(bytes, ordering: .relaxed)
    }
}

/// What one request holds of a ``MemoryBudget``, all given back when the request was answered.
/// The request path reaches its request's lease through ``current``.
public final class MemoryLease: Sendable {
    /// The lease of the request the current task works for; nil without a budget.
    @TaskLocal public static var current: MemoryLease?

    let budget: MemoryBudget
    private let held = Atomic<Int>(0)

    init(budget: MemoryBudget) {
        self.budget = budget
    }

    /// The bytes this request holds.
    var bytes: Int { held.load(ordering: .relaxed) }

    /// Whether a request that expects to hold `bytes` may start: the budget is not spent and has
    /// room for them now. Nothing is taken: its bytes are, as they arrive, so that a client that
    /// declares a large body and sends it slowly holds only what it sent.
    func admits(_ bytes: Int) -> Bool {
        let inUse = budget.inUse
        return inUse < budget.limit && bytes <= budget.limit - inUse
    }

    /// Takes `bytes` more if they fit.
    public func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        guard budget.reserve(bytes) else { return false }
        held.add(bytes, ordering: .relaxed)
        return true
    }

    /// Takes `bytes` more whether they fit or not: they are in memory already.
    public func charge(_ bytes: Int) {
        guard bytes > 0 else { return }
        budget.charge(bytes)
        held.add(bytes, ordering: .relaxed)
    }

    /// Gives back `bytes` this request no longer holds.
    public func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        budget.release(bytes)
        held.subtract(bytes, ordering: .relaxed)
    }

    /// Gives back everything this request held.
    func end() {
        budget.release(held.exchange(0, ordering: .relaxed))
    }
}

extension MemoryLease {
    /// Takes `bytes` more of the current request's lease, if it has one; refused with
    /// ``SQSError/overMemoryBudget`` when they do not fit.
    public static func reserveInCurrent(_ bytes: Int) throws(SQSError) {
        guard current?.reserve(bytes) ?? true else { throw .overMemoryBudget }
    }
}

extension SQSError {
    /// The answer to a request the memory budget has no room for; SDKs retry it with backoff.
    public static let overMemoryBudget = SQSError.serviceUnavailable(
        "The proxy holds as much request and response data as its memory budget allows; retry later.")
}
