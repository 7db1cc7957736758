import Crypto
import NIOCore
import ObjectStore
import RequestLimits
import SQSWire
import ServerEdge
import TextCoding

/// The state of reading one streamed send request: the events of the last piece not yet taken,
/// and the current body's bytes not yet handed on, digests and length.
struct StreamingSendReading {
    let body: RequestBody
    /// The request's declared length, if it has one.
    let declaredLength: Int?
    let partSize: Int
    let maxPayloadSize: Int
    /// The most bytes held of everything but the bodies stored in S3.
    let maxHeldBytes: Int
    private(set) var reader: StreamingSendRequestReader
    private var events: [StreamingSendRequestReader.Event] = []
    private var nextEventIndex = 0
    private var requestEnded = false
    /// Unescaped bytes of the current body read but not yet handed on.
    private var held = ByteBuffer()
    private var heldBodiesBytes = 0
    /// What the reader built, as far as the memory lease counts it.
    private var countedTally = 0
    private(set) var bodyLength = 0
    private(set) var bodyEnded = false
    private var md5 = Insecure.MD5()
    private var sha256: SHA256?
    /// The part being streamed, not yet full.
    private var streamedPart: StreamedPart?
    /// Buffers of the current body's streamed pieces, reused once their part is in S3.
    private var pieceBuffers = PieceBuffers()
    /// The current body's entry: 0 for SendMessage's, from 1 for a batch's.
    private var entry = 0

    init(body: RequestBody, declaredLength: Int?, wireProtocol: SQSProtocol, partSize: Int, limits: RequestLimits) {
        self.body = body
        self.declaredLength = declaredLength
        self.partSize = partSize
        self.maxPayloadSize = limits.maxPayloadSize
        self.maxHeldBytes = limits.maxHeldRequestSize
        self.reader = StreamingSendRequestReader(
            wireProtocol: wireProtocol, maxMemberSize: RequestLimits.maxStreamedMemberSize)
    }

    var md5Hex: String { Hex.lowercase(md5.finalize()) }
    var sha256Hex: String { sha256.map { Hex.lowercase($0.finalize()) } ?? "" }

    /// Reads up to the next body; returns its entry, or nil once the request ended.
    mutating func nextBody() async throws -> Int? {
        while let event = try await nextEvent() {
            guard case .bodyStart(let entry) = event else { continue }
            self.entry = entry
            // Pages are only touched as the body arrives: a small body costs little of this.
            held = ByteBuffer()
            held.reserveCapacity(partSize + RequestLimits.pieceAllowance)
            bodyLength = 0
            bodyEnded = false
            pieceBuffers = PieceBuffers()
            md5 = Insecure.MD5()
            // Only a FIFO queue needs the body's SHA-256; SDKs send the queue URL first.
            sha256 = reader.queueURL?.hasSuffix(".fifo") ?? true ? SHA256() : nil
            return entry
        }
        return nil
    }

    /// Reads the current body until it ends or more than `limit` bytes of it are held.
    mutating func readBody(whileHeldAtMost limit: Int) async throws {
        while !bodyEnded && held.readableBytes <= limit {
            switch try await nextEvent() {
            case .bodyBytes(let bytes):
                bodyLength += bytes.count
                guard bodyLength <= maxPayloadSize else {
                    throw SQSError.invalidParameterValue(
                        "The message body is larger than the maximum payload size of \(maxPayloadSize) bytes.")
                }
                md5.update(data: bytes)
                sha256?.update(data: bytes)
                held.writeBytes(bytes)
            case .bodyEnd:
                bodyEnded = true
                pieceBuffers.close()
            case .bodyStart, nil:
                throw SQSError.malformedRequest("The request ended inside a message body.")
            }
        }
    }

    /// Whether the current body may still fill a part from what is held: the request's declared
    /// length leaves room for it (a body's bytes are never more than their encoding's). Only
    /// SendMessage's body: in a batch, the rest of the request is shared by several entries.
    var mayFillPart: Bool {
        guard let declaredLength, entry == 0 else { return false }
        return held.readableBytes + (declaredLength - body.received) >= partSize
    }

    /// The next part of the current body for an upload, once the part before it (if streamed) was
    /// fed whole. A part that may be full is streamed: it is returned at once and fed by the next
    /// call. Otherwise `partSize` bytes, or the rest once the body ended. Bytes read past a part
    /// move to a new buffer, so that each part in flight holds one part's memory.
    mutating func nextPart() async throws -> MultipartUploader.Part? {
        if let part = streamedPart {
            streamedPart = nil
            do {
                try await feed(part)
            } catch {
                part.fail(error)
                throw error
            }
        }
        if !bodyEnded && mayFillPart {
            let part = StreamedPart(length: partSize, pieceBuffers: pieceBuffers)
            streamedPart = part
            return .streamed(part)
        }
        try await readBody(whileHeldAtMost: partSize - 1)
        guard held.readableBytes > 0 else { return nil }
        let part = held.readSlice(length: min(partSize, held.readableBytes))
        moveHeldToNewBuffer()
        return part.map(MultipartUploader.Part.bytes)
    }

    /// Hands the held bytes and those that follow to `part` until it is full or the body ended, in
    /// pieces of `RequestLimits.streamedPieceSize` copied to buffers of that size: a part in flight holds its
    /// own bytes and no more, and pieces that large are unmapped when freed (smaller ones would
    /// fragment the heap), or reused once their part is in S3. `held` is reused for the next piece.
    private mutating func feed(_ part: StreamedPart) async throws {
        while true {
            let wanted = min(RequestLimits.streamedPieceSize, partSize - part.received)
            try await readBody(whileHeldAtMost: wanted - 1)
            let count = min(held.readableBytes, wanted)
            if count > 0 {
                var exact = pieceBuffers.buffer(capacity: count)
                _ = held.withUnsafeReadableBytes {
                    exact.writeBytes(UnsafeRawBufferPointer(rebasing: $0.prefix(count)))
                }
                held.moveReaderIndex(forwardBy: count)
                held.discardReadBytes()
                part.append(exact)
            }
            if part.received == partSize || bodyEnded {
                part.finish()
                return
            }
        }
    }

    /// Moves what is left of `held` to a new buffer of a part's size: the slice handed on keeps the
    /// old one.
    private mutating func moveHeldToNewBuffer() {
        var next = ByteBuffer()
        next.reserveCapacity(partSize + RequestLimits.pieceAllowance)
        next.writeBuffer(&held)
        held = next
    }

    /// The current body, ended and held whole, as text to put back in the request.
    mutating func takeHeldBody() throws(SQSError) -> String {
        heldBodiesBytes += held.readableBytes
        try checkHeldBytes()
        return String(buffer: takeHeldBuffer())
    }

    /// The current body's held bytes.
    mutating func takeHeldBuffer() -> ByteBuffer {
        defer { held = ByteBuffer() }
        return held
    }

    /// Refuses a request that holds more than `maxHeldBytes` besides the bodies stored in S3, and
    /// takes what the reader built of the request's memory lease.
    private mutating func checkHeldBytes() throws(SQSError) {
        guard reader.tally.bytes + heldBodiesBytes <= maxHeldBytes else {
            throw .invalidParameterValue("The request holds more than \(maxHeldBytes) bytes besides stored payloads.")
        }
        let grown = reader.tally.bytes - countedTally
        try MemoryLease.reserveInCurrent(grown)
        countedTally += grown
    }

    private mutating func nextEvent() async throws -> StreamingSendRequestReader.Event? {
        while nextEventIndex == events.count {
            guard !requestEnded else { return nil }
            events.removeAll(keepingCapacity: true)
            nextEventIndex = 0
            if let piece = try await body.next() {
                try piece.withUnsafeReadableBytes { bytes throws(SQSError) in
                    try reader.read(bytes) { events.append($0) }
                }
                try checkHeldBytes()
            } else {
                try reader.finish { events.append($0) }
                try checkHeldBytes()
                requestEnded = true
            }
        }
        defer { nextEventIndex += 1 }
        return events[nextEventIndex]
    }
}
