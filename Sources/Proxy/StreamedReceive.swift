import Crypto
import ExtendedPayload
import NIOCore
import ObjectStore
import SQSWire
import ServerEdge
import TextCoding

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A payload streamed from S3 into a ReceiveMessage response. The response document is written
/// with tokens where its body and digest go; the body is escaped on the way and its MD5, known once
/// it has passed, replaces the digest token, which follows the body in both protocols. A payload
/// that goes into an SNS envelope is escaped for the envelope's JSON string first.
struct StreamedPayload: Sendable {
    let body: ObjectBody
    let envelope: SNSEnvelope?
    let bodyToken: String
    let digestToken: String

    init(body: ObjectBody, envelope: SNSEnvelope? = nil) {
        self.body = body
        self.envelope = envelope
        let id = String(UUID().uuidString.filter { $0 != "-" })
        bodyToken = "SQSXPROXYBODY" + id
        digestToken = "SQSXPROXYMD5" + id
    }

    /// The message body the document holds: the body token, inside its envelope if it has one.
    var restoredBody: String { envelope.map { $0.prefix + bodyToken + $0.suffix } ?? bodyToken }
}

/// Writes a ReceiveMessage response whose document holds the tokens of streamed payloads. A
/// payload read in ranges reads as many at once as the request's memory lease has room for, up to
/// `rangesInFlight`.
struct StreamedReceive: Sendable {
    let document: [UInt8]
    let payloads: [StreamedPayload]
    let wireProtocol: SQSProtocol
    let lease: MemoryLease?
    let rangesInFlight: Int

    func write(to writer: ResponseBodyWriter) async throws {
        var rest = document[...]
        var digests: [(token: [UInt8], value: [UInt8])] = []
        for payload in payloads {
            guard let start = rest.firstRange(ofBytes: payload.bodyToken.utf8) else { continue }
            try await writer.write(ByteBuffer(bytes: Self.replacing(digests, in: rest[..<start.lowerBound])))
            rest = rest[start.upperBound...]
            var md5 = Insecure.MD5()
            // The envelope's text around the body token is in the document already: only digested here.
            if let envelope = payload.envelope { md5.update(data: Array(envelope.prefix.utf8)) }
            var length = 0
            var escaped: [UInt8] = []
            var inEnvelope: [UInt8] = []
            let xml = wireProtocol == .query
            // The first range is counted since the payload was opened; the others as they fit.
            let extra = extraRanges(for: payload.body)
            defer { lease?.release(extra * (payload.body.rangeSize ?? 0)) }
            try await payload.body.forEachPiece(window: 1 + extra) { chunk in
                length += chunk.readableBytes
                var piece = chunk
                // Inside an envelope, escaped for its JSON string first: copied only when that changes it.
                if payload.envelope != nil
                    && chunk.withUnsafeReadableBytes({ TextEscaping.firstNeedingEscape($0, xml: false) != nil })
                {
                    inEnvelope.removeAll(keepingCapacity: true)
                    chunk.withUnsafeReadableBytes { bytes in TextEscaping.escape(bytes, xml: false, into: &inEnvelope) }
                    piece = ByteBuffer(bytes: inEnvelope)
                }
                // A piece with nothing to escape (the usual case) is passed on as it is.
                let needsEscaping = piece.withUnsafeReadableBytes { bytes in
                    md5.update(bufferPointer: bytes)
                    return TextEscaping.firstNeedingEscape(bytes, xml: xml) != nil
                }
                guard needsEscaping else {
                    try await writer.write(piece)
                    return
                }
                escaped.removeAll(keepingCapacity: true)
                piece.withUnsafeReadableBytes { bytes in TextEscaping.escape(bytes, xml: xml, into: &escaped) }
                try await writer.write(ByteBuffer(bytes: escaped))
            }
            if let envelope = payload.envelope { md5.update(data: Array(envelope.suffix.utf8)) }
            digests.append((Array(payload.digestToken.utf8), Array(Hex.lowercase(md5.finalize()).utf8)))
            ProxyMetrics.payloadRestored(bytes: length)
        }
        try await writer.write(ByteBuffer(bytes: Self.replacing(digests, in: rest)))
    }

    /// How many ranges besides the first a payload read in ranges may hold at once: as many of
    /// `rangesInFlight` - 1 as the memory lease has room for, taken from it.
    private func extraRanges(for body: ObjectBody) -> Int {
        guard let rangeSize = body.rangeSize else { return 0 }
        var extra = 0
        while extra < rangesInFlight - 1, lease?.reserve(rangeSize) ?? true { extra += 1 }
        return extra
    }

    /// `bytes` with every digest token that occurs in it replaced by its value.
    private static func replacing(_ digests: [(token: [UInt8], value: [UInt8])], in bytes: ArraySlice<UInt8>)
        -> [UInt8]
    {
        var output = Array(bytes)
        for digest in digests {
            while let range = output.firstRange(ofBytes: digest.token) {
                output.replaceSubrange(range, with: digest.value)
            }
        }
        return output
    }
}
