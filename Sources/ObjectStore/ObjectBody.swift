import AsyncHTTPClient
import NIOCore

/// An object's bytes as they are read from S3: one GET's body as it arrives, or an object read in
/// ranges (``RangedRead``), several at once, each retried on its own, handed on in order.
public struct ObjectBody: Sendable {
    /// Reads one range of the object whole.
    typealias RangeFetch = @Sendable (_ index: Int) async throws(ObjectStoreError) -> ByteBuffer

    enum Source: Sendable {
        case stream(HTTPClientResponse.Body)
        case ranged(RangedRead, first: ByteBuffer, fetch: RangeFetch)
    }

    let source: Source

    /// The body of one GET.
    public init(stream body: HTTPClientResponse.Body) {
        source = .stream(body)
    }

    /// An object read in ranges, its first range read already.
    init(ranged read: RangedRead, first: ByteBuffer, fetch: @escaping RangeFetch) {
        source = .ranged(read, first: first, fetch: fetch)
    }

    /// The size of the ranges it is read in; nil for the body of one GET.
    public var rangeSize: Int? {
        guard case .ranged(let read, _, _) = source else { return nil }
        return read.rangeSize
    }

    /// Hands every piece on to `consume`, in order. A body read in ranges holds up to `window` of
    /// them at once (at least one), the first and the one being handed on included.
    public func forEachPiece(window: Int, _ consume: (ByteBuffer) async throws -> Void) async throws {
        switch source {
        case .stream(let body):
            for try await piece in body { try await consume(piece) }
        case .ranged(let read, let first, let fetch):
            var plan = RangedRead(length: read.length, rangeSize: read.rangeSize, window: max(window, 1))
            try await withThrowingTaskGroup(of: (Int, ByteBuffer).self) { group in
                var fetched = [0: first]
                while let awaited = plan.awaited {
                    while let index = plan.startNext() {
                        group.addTask { (index, try await fetch(index)) }
                    }
                    if let buffer = fetched.removeValue(forKey: awaited) {
                        try await consume(buffer)
                        plan.delivered(awaited)
                        continue
                    }
                    guard let (index, buffer) = try await group.next() else { break }
                    fetched[index] = buffer
                }
            }
        }
    }
}
