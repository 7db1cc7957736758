/// How an object is read in byte ranges, several at once, and handed on in order: which range to
/// ask for next and when. Pure; ``ObjectBody`` carries it out.
public struct RangedRead: Sendable, Hashable {
    /// The object's length, as S3 stated it in the first range's answer.
    public let length: Int
    /// The bytes of each range but the last.
    public let rangeSize: Int
    /// The most ranges fetched or held at once, the one being handed on included.
    public let window: Int
    /// The next range to start.
    private(set) var nextToStart: Int
    /// The next range to hand on.
    private(set) var nextToDeliver = 0

    /// - Parameter firstStarted: the first range was asked for already (it told the length).
    public init(length: Int, rangeSize: Int, window: Int, firstStarted: Bool = true) {
        precondition(length >= 0 && rangeSize > 0 && window > 0, "a ranged read needs a length, a range and a window")
        self.length = length
        self.rangeSize = rangeSize
        self.window = window
        self.nextToStart = firstStarted ? 1 : 0
    }

    /// How many ranges the object is read in.
    public var rangeCount: Int { max(1, (length + rangeSize - 1) / rangeSize) }

    /// The byte offsets of range `index`.
    public func bytes(of index: Int) -> ClosedRange<Int> {
        precondition(index >= 0 && index < rangeCount, "range \(index) of \(rangeCount)")
        let start = index * rangeSize
        return start...(min(start + rangeSize, length) - 1)
    }

    /// The `Range` header value of range `index`.
    public func header(of index: Int) -> String {
        let bytes = bytes(of: index)
        return "bytes=\(bytes.lowerBound)-\(bytes.upperBound)"
    }

    /// The next range to start, if the window has room and one is left.
    public mutating func startNext() -> Int? {
        guard nextToStart < rangeCount, nextToStart - nextToDeliver < window else { return nil }
        defer { nextToStart += 1 }
        return nextToStart
    }

    /// The range to hand on next, or nil once every range was.
    public var awaited: Int? { nextToDeliver < rangeCount ? nextToDeliver : nil }

    /// Range `index` was handed on: it must be the awaited one.
    public mutating func delivered(_ index: Int) {
        precondition(index == nextToDeliver && index < nextToStart, "range \(index) handed on out of order")
        nextToDeliver += 1
    }
}
