import Crypto
import NIOCore
import NIOHTTP1
import SQSWire
import TextCoding

/// The body of a client request, read from the connection only as the request path asks for it,
/// so that a slow consumer (an S3 upload) slows the client down instead of filling memory.
///
/// It lives in its connection's task; the server takes the connection's stream back after the
/// request and drains what the handler did not read.
public final class RequestBody {
    /// The body went past the limit, or the connection sent something else than body parts.
    public struct TooLarge: Error {}
    /// The memory budget has no room for more of the body.
    public struct OverBudget: Error {}

    var parts: NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator
    public let limit: Int
    public private(set) var received = 0
    private(set) var isComplete = false
    /// The SHA-256 of the body read so far, when asked for (a client's signature covers it).
    private var digest: SHA256?
    /// Where the body's bytes are counted, as they arrive, up to `heldLimit`; nil: not counted.
    private var lease: MemoryLease?
    /// The most of the body held at once: all of it, or what a streamed send holds.
    private let heldLimit: Int
    /// The bytes of the body counted in `lease`.
    private var counted = 0

    /// - Parameter lease: counts the body's bytes as they arrive, up to `heldLimit`.
    init(
        parts: NIOAsyncChannelInboundStream<HTTPServerRequestPart>.AsyncIterator, limit: Int, hashing: Bool = false,
        lease: MemoryLease? = nil, heldLimit: Int = 0
    ) {
        self.parts = parts
        self.limit = limit
        self.digest = hashing ? SHA256() : nil
        self.lease = lease
        self.heldLimit = heldLimit
    }

    /// The hex SHA-256 of the whole body, once it was read to its end with hashing on.
    public var sha256Hex: String? {
        guard isComplete, let digest else { return nil }
        return Hex.lowercase(digest.finalize())
    }

    /// The next piece of the body, nil at its end.
    public func next() async throws -> ByteBuffer? {
        guard !isComplete else { return nil }
        while let part = try await parts.next() {
            switch part {
            case .body(let chunk):
                received += chunk.readableBytes
                guard received <= limit else { throw TooLarge() }
                try count()
                if digest != nil { chunk.withUnsafeReadableBytes { digest!.update(bufferPointer: $0) } }
                return chunk
            case .end:
                isComplete = true
                return nil
            case .head:
                throw TooLarge()
            }
        }
        isComplete = true
        return nil
    }

    /// Takes what the bytes received need of the budget.
    private func count() throws {
        guard let lease else { return }
        let wanted = min(received, heldLimit)
        guard wanted > counted else { return }
        guard lease.reserve(wanted - counted) else { throw OverBudget() }
        counted = wanted
    }

    /// The whole (rest of the) body; `expectedLength`, when known, is allocated at once.
    public func collect(expectedLength: Int? = nil) async throws -> ByteBuffer {
        var body = ByteBuffer()
        while var chunk = try await next() {
            if body.readableBytes == 0, chunk.readableBytes == expectedLength ?? -1 {
                body = chunk
            } else {
                if body.capacity == 0, let expectedLength { body.reserveCapacity(min(expectedLength, limit)) }
                body.writeBuffer(&chunk)
            }
        }
        return body
    }

    /// Reads and drops what is left of the body, without counting it.
    func drain() async throws {
        lease = nil
        while try await next() != nil {}
    }
}
