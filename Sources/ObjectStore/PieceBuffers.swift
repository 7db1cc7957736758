import NIOCore
import Synchronization

/// The buffers of one streamed body's pieces: a streamed part hands its pieces back once S3 has
/// it, and the pieces read next are written into them. Fresh buffers of a piece's size are mapped
/// on allocation and unmapped when freed, so without this every piece would fault its pages in
/// again (about a tenth of a large send's CPU). Once the body is read, ``close()`` drops what is
/// kept and what comes back later.
public final class PieceBuffers: Sendable {
    /// Buffers handed back and not taken again; nil once closed.
    private let free = Mutex<[ByteBuffer]?>([])

    public init() {}

    /// An empty buffer with room for `capacity` bytes: one handed back if it has the room.
    public func buffer(capacity: Int) -> ByteBuffer {
        if var buffer = free.withLock({ $0?.popLast() }), buffer.capacity >= capacity {
            buffer.clear()
            return buffer
        }
        return ByteBufferAllocator().buffer(capacity: capacity)
    }

    /// Stops keeping buffers: no more pieces will be read.
    public func close() {
        free.withLock { $0 = nil }
    }

    /// Takes back buffers nothing reads any more, unless closed.
    func handBack(_ buffers: [ByteBuffer]) {
        free.withLock { $0?.append(contentsOf: buffers) }
    }
}
