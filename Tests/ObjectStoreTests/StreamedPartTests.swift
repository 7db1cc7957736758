import NIOCore
import Testing

@testable import ObjectStore

/// A part streamed while it arrives: what its upload reads, and what is left for an upload from memory.
struct StreamedPartTests {
    static func read(_ part: StreamedPart) async throws -> [String] {
        var pieces: [String] = []
        for try await piece in part.stream { pieces.append(String(buffer: piece)) }
        return pieces
    }

    @Test func aFullPartStreamsItsPiecesAndEnds() async throws {
        let part = StreamedPart(length: 6)
        part.append(ByteBuffer(string: "abc"))
        part.append(ByteBuffer(string: "def"))
        part.finish()
        #expect(try await Self.read(part) == ["abc", "def"])
        #expect(String(buffer: try await part.whole()) == "abcdef")
    }

    @Test func aShortPartFailsItsStreamButIsWholeInMemory() async throws {
        let part = StreamedPart(length: 6)
        part.append(ByteBuffer(string: "abc"))
        part.finish()
        await #expect(throws: StreamedPart.EndedShort.self) { try await Self.read(part) }
        #expect(String(buffer: try await part.whole()) == "abc")
    }

    @Test func wholeWaitsUntilTheReaderFinishes() async throws {
        let part = StreamedPart(length: 4)
        part.append(ByteBuffer(string: "ab"))
        async let whole = part.whole()
        try await Task.sleep(for: .milliseconds(50))
        part.append(ByteBuffer(string: "cd"))
        part.finish()
        #expect(String(buffer: try await whole) == "abcd")
    }

    struct ClientGone: Error {}

    @Test func aFailedPartFailsItsStreamAndItsWaiters() async throws {
        let part = StreamedPart(length: 4)
        let waiter = Task { try await part.whole() }
        try await Task.sleep(for: .milliseconds(50))
        part.append(ByteBuffer(string: "ab"))
        part.fail(ClientGone())
        await #expect(throws: ClientGone.self) { try await waiter.value }
        await #expect(throws: ClientGone.self) { try await Self.read(part) }
    }

    @Test func aCancelledWaiterFailsThePart() async throws {
        let part = StreamedPart(length: 4)
        let waiter = Task { try await part.whole() }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        part.append(ByteBuffer(string: "abcd"))
        part.finish()
        await #expect(throws: CancellationError.self) { try await part.whole() }
    }

    @Test func anUploadedPartHandsItsPiecesBackForTheNextOnes() async throws {
        let buffers = PieceBuffers()
        var piece = buffers.buffer(capacity: 4)
        piece.writeString("abcd")
        let storage = piece.withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        let part = StreamedPart(length: 4, pieceBuffers: buffers)
        part.append(piece)
        part.finish()
        #expect(try await Self.read(part) == ["abcd"])
        piece = ByteBuffer()
        part.uploaded()
        let next = buffers.buffer(capacity: 4)
        #expect(next.readableBytes == 0)
        #expect(next.withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) } == storage)
        #expect(buffers.buffer(capacity: 4).withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) } != storage)
    }

    @Test func closedPieceBuffersKeepNothing() async throws {
        let buffers = PieceBuffers()
        let part = StreamedPart(length: 4, pieceBuffers: buffers)
        var piece = buffers.buffer(capacity: 4)
        piece.writeString("abcd")
        let storage = piece.withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) }
        part.append(piece)
        piece = ByteBuffer()
        part.finish()
        buffers.close()
        part.uploaded()
        #expect(buffers.buffer(capacity: 4).withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) } != storage)
    }
}
