import NIOCore
import Synchronization

/// One part of a multipart upload, uploaded while its bytes still arrive: the reader appends
/// pieces and finishes the part; the upload streams them with the part's declared length.
///
/// The pieces are also kept until the part is dropped, so that a part that could not be streamed
/// (S3 failed, or the body ended before the part was full: it is then the last, shorter part) is
/// uploaded again from memory once whole. A part in flight holds one part's memory, as a part
/// uploaded from memory does.
public final class StreamedPart: Sendable {
    /// The body ended before the part had its declared length.
    public struct EndedShort: Error {}

    private enum Phase {
        case open
        case finished
        case failed(any Error)
    }

    private struct State {
        var pieces: [ByteBuffer] = []
        var received = 0
        var phase = Phase.open
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// The length the streamed upload declares: the part size.
    public let length: Int
    /// Where the pieces go once the part is in S3.
    private let pieceBuffers: PieceBuffers?
    let stream: AsyncThrowingStream<ByteBuffer, any Error>
    private let continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    private let state = Mutex(State())

    public init(length: Int, pieceBuffers: PieceBuffers? = nil) {
        self.length = length
        self.pieceBuffers = pieceBuffers
        (stream, continuation) = AsyncThrowingStream.makeStream()
    }

    /// How many bytes were appended.
    public var received: Int { state.withLock { $0.received } }

    /// Appends the next piece of the part.
    public func append(_ piece: ByteBuffer) {
        state.withLock { state in
            state.pieces.append(piece)
            state.received += piece.readableBytes
        }
        continuation.yield(piece)
    }

    /// Marks the part complete; if it is shorter than its declared length, its stream fails and
    /// the part is uploaded from memory instead.
    public func finish() {
        let complete = end(.finished)
        if complete { continuation.finish() } else { continuation.finish(throwing: EndedShort()) }
    }

    /// Marks the part failed: the reader cannot complete it.
    public func fail(_ error: any Error) {
        _ = end(.failed(error))
        continuation.finish(throwing: error)
    }

    /// The whole part once the reader finished it; throws the reader's error if it failed (or the
    /// task was cancelled while waiting: the part is then failed).
    func whole() async throws -> ByteBuffer {
        await withTaskCancellationHandler {
            await withCheckedContinuation { waiter in
                let ready = state.withLock { state in
                    guard case .open = state.phase else { return true }
                    state.waiters.append(waiter)
                    return false
                }
                if ready { waiter.resume() }
            }
        } onCancel: {
            fail(CancellationError())
        }
        return try state.withLock { state in
            if case .failed(let error) = state.phase { throw error }
            var whole = ByteBuffer()
            whole.reserveCapacity(state.received)
            for var piece in state.pieces { whole.writeBuffer(&piece) }
            return whole
        }
    }

    /// Hands the pieces to `pieceBuffers` once the part is in S3: nothing reads them any more.
    func uploaded() {
        guard let pieceBuffers else { return }
        let pieces = state.withLock { state in
            defer { state.pieces = [] }
            return state.pieces
        }
        pieceBuffers.handBack(pieces)
    }

    /// Ends the part; whether it has its declared length.
    private func end(_ phase: Phase) -> Bool {
        let (waiters, complete) = state.withLock { state in
            guard case .open = state.phase else { return ([CheckedContinuation<Void, Never>](), false) }
            state.phase = phase
            defer { state.waiters = [] }
            return (state.waiters, state.received == length)
        }
        for waiter in waiters { waiter.resume() }
        return complete
    }
}
