import Crypto
import NIOCore
import NIOHTTP1
import RequestLimits
import SQSWire
import Testing

@testable import ObjectStore
@testable import Proxy
@testable import ServerEdge

/// The read loop of a streamed send, fed by a testing stream in place of a connection: whatever
/// the pieces the body arrives in, it hands on the same parts, every one full but the last, with
/// the body's digest; and it reads ahead of its parts by about one part at most.
struct StreamingSendReadingTests {
    static let partSize = 64 * 1024
    static let limits = RequestLimits(
        threshold: 1000, maxPayloadSize: 1 << 31, maxHeldRequestSize: 1 << 20, partSize: partSize, partsInFlight: 2)

    /// A JSON SendMessage whose body is `body`, its `MessageBody` unescaped as it is sent.
    static func request(_ body: [UInt8]) -> [UInt8] {
        Array(#"{"QueueUrl":"http://q/1/a","MessageBody":""#.utf8) + body + Array(#""}"#.utf8)
    }

    static func body(_ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(ascii: "a") + UInt8($0 % 26) }
    }

    /// What the reader handed on: the parts, the digest and length it computed, and the most it had
    /// read of the request beyond the parts completed whenever it handed one on.
    struct Outcome {
        var parts: [[UInt8]] = []
        var md5Hex = ""
        var length = 0
        var mostAhead = 0
    }

    /// Feeds `request` in pieces of `pieceSize` (all at once, as a fast client) and reads its one
    /// body as the streamed send does: held while within the threshold, then in parts.
    static func read(_ request: [UInt8], pieceSize: Int) async throws -> Outcome {
        let (stream, source) = NIOAsyncChannelInboundStream<HTTPServerRequestPart>.makeTestingStream()
        for start in stride(from: 0, to: request.count, by: pieceSize) {
            source.yield(.body(ByteBuffer(bytes: request[start..<min(request.count, start + pieceSize)])))
        }
        source.yield(.end(nil))
        source.finish()
        let body = RequestBody(parts: stream.makeAsyncIterator(), limit: request.count)
        var reading = StreamingSendReading(
            body: body, declaredLength: request.count, wireProtocol: .json, partSize: partSize, limits: limits)
        var outcome = Outcome()
        #expect(try await reading.nextBody() == 0)
        try await reading.readBody(whileHeldAtMost: reading.mayFillPart ? limits.threshold : partSize)
        if reading.bodyEnded {
            outcome.parts = [Array(buffer: reading.takeHeldBuffer())]
        } else {
            var pending: StreamedPart?
            var completed = 0
            while true {
                let next = try await reading.nextPart()
                if let part = pending {
                    outcome.parts.append(Array(buffer: try await part.whole()))
                    pending = nil
                }
                completed = outcome.parts.reduce(0) { $0 + $1.count }
                outcome.mostAhead = max(outcome.mostAhead, body.received - completed)
                guard let next else { break }
                switch next {
                case .bytes(let bytes): outcome.parts.append(Array(buffer: bytes))
                case .streamed(let part): pending = part
                }
            }
        }
        #expect(try await reading.nextBody() == nil)
        outcome.md5Hex = reading.md5Hex
        outcome.length = reading.bodyLength
        return outcome
    }

    @Test(arguments: [1, 7, 1000, 4096, 65536, 100_000, 1 << 22])
    func partsAreTheSameWhateverThePiecesTheBodyArrivesIn(_ pieceSize: Int) async throws {
        let body = Self.body(3 * Self.partSize + 123)
        let outcome = try await Self.read(Self.request(body), pieceSize: pieceSize)
        #expect(outcome.parts.map(\.count) == [Self.partSize, Self.partSize, Self.partSize, 123])
        #expect(outcome.parts.flatMap { $0 } == body)
        #expect(outcome.length == body.count)
        #expect(outcome.md5Hex == Insecure.MD5.hash(data: body).map { String(format: "%02x", $0) }.joined())
    }

    @Test(arguments: [Self.partSize - 1, Self.partSize, Self.partSize + 1, 2 * Self.partSize])
    func aBodyCutAtAnyPartBoundaryEndsWithTheRestInTheLastPart(_ count: Int) async throws {
        let body = Self.body(count)
        let outcome = try await Self.read(Self.request(body), pieceSize: 1000)
        #expect(outcome.parts.flatMap { $0 } == body)
        #expect(outcome.parts.dropLast().allSatisfy { $0.count == Self.partSize })
        #expect(outcome.parts.allSatisfy { !$0.isEmpty })
    }

    @Test func theReaderReadsAPartOnlyWhenTheUploadAsksForIt() async throws {
        let pieceSize = 4096
        let outcome = try await Self.read(Self.request(Self.body(8 * Self.partSize)), pieceSize: pieceSize)
        #expect(outcome.parts.count == 8)
        // Each time a part is handed on, the reader has read one piece past those completed at most
        // (and the request's opening): the part it hands on is read while S3 takes it.
        #expect(outcome.mostAhead <= pieceSize + Self.request([]).count)
    }

    @Test func aBodyWithinTheThresholdIsHeldWhole() async throws {
        let outcome = try await Self.read(Self.request(Self.body(900)), pieceSize: 100)
        #expect(outcome.parts == [Self.body(900)])
    }
}

extension Array where Element == UInt8 {
    init(buffer: ByteBuffer) {
        self = buffer.getBytes(at: buffer.readerIndex, length: buffer.readableBytes) ?? []
    }
}
