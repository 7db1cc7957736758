import NIOCore
import Synchronization
import Testing

@testable import ObjectStore

/// Ranged reads: the plan's ranges and window, and the body handed on in order whatever order the
/// ranges arrive in.
struct RangedReadTests {
    @Test(arguments: [
        (10, 4, ["bytes=0-3", "bytes=4-7", "bytes=8-9"]), (8, 4, ["bytes=0-3", "bytes=4-7"]),
        (1, 4, ["bytes=0-0"]),
    ])
    func anObjectIsCutIntoRangesOfTheSizeTheLastShorter(_ length: Int, _ rangeSize: Int, _ headers: [String]) {
        let read = RangedRead(length: length, rangeSize: rangeSize, window: 2)
        #expect(read.rangeCount == headers.count)
        #expect((0..<read.rangeCount).map(read.header(of:)) == headers)
        #expect((0..<read.rangeCount).map { read.bytes(of: $0).count }.reduce(0, +) == length)
    }

    @Test func rangesStartOnlyWhileTheWindowHasRoom() {
        var read = RangedRead(length: 100, rangeSize: 10, window: 3)
        // The first range was asked for when the object was opened.
        #expect(read.startNext() == 1 && read.startNext() == 2 && read.startNext() == nil)
        #expect(read.awaited == 0)
        read.delivered(0)
        #expect(read.startNext() == 3 && read.startNext() == nil)
        for index in 1...3 { read.delivered(index) }
        var started: [Int] = []
        while let index = read.startNext() { started.append(index) }
        #expect(started == [4, 5, 6])
    }

    /// Ranges that complete in reverse order are handed on in order, with no more than the window
    /// fetched or held at once.
    @Test(arguments: [1, 2, 5])
    func piecesAreHandedOnInOrderWithinTheWindow(_ window: Int) async throws {
        let bytes = (0..<1000).map { UInt8($0 % 251) }
        let read = RangedRead(length: bytes.count, rangeSize: 64, window: 1)
        let held = Mutex((now: 1, most: 1))
        let body = ObjectBody(ranged: read, first: ByteBuffer(bytes: bytes[read.bytes(of: 0)])) {
            index throws(ObjectStoreError) in
            held.withLock {
                $0.now += 1
                $0.most = max($0.most, $0.now)
            }
            // Later ranges answer sooner.
            try? await Task.sleep(for: .milliseconds(2 * (read.rangeCount - index)))
            return ByteBuffer(bytes: bytes[read.bytes(of: index)])
        }
        var received: [UInt8] = []
        try await body.forEachPiece(window: window) { piece in
            received += piece.readableBytesView
            held.withLock { $0.now -= 1 }
        }
        #expect(received == bytes)
        #expect(held.withLock { $0.most } <= window)
        #expect(held.withLock { $0.most } == min(window, read.rangeCount))
    }

    @Test func aRangeThatCannotBeHadFailsTheBody() async {
        let read = RangedRead(length: 300, rangeSize: 100, window: 1)
        let body = ObjectBody(ranged: read, first: ByteBuffer(repeating: 1, count: 100)) {
            index throws(ObjectStoreError) in
            guard index != 2 else { throw ObjectStoreError(.objectNotFound, bucket: "b", key: "k", detail: "gone") }
            return ByteBuffer(repeating: 2, count: 100)
        }
        var received = 0
        await #expect(throws: ObjectStoreError.self) {
            try await body.forEachPiece(window: 3) { received += $0.readableBytes }
        }
        #expect(received <= 200)
    }

    @Test func theCompleteLengthIsReadFromContentRange() {
        #expect(S3ObjectStore.completeLength("bytes 0-1023/4096") == 4096)
        #expect(S3ObjectStore.completeLength("bytes 0-1023/*") == nil)
        #expect(S3ObjectStore.completeLength(nil) == nil)
        #expect(S3ObjectStore.completeLength("items 0-1/2") == nil)
    }
}
