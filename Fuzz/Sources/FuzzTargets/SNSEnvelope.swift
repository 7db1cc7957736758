import ExtendedPayload
import FuzzSupport
import SQSWire

/// SNS envelopes of pointers (message bodies anyone who can send to the queue writes): one the
/// recogniser accepts takes any payload into `Message` and stays the same JSON otherwise.
func fuzzSNSEnvelope(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    // The envelope, then after a NUL byte (never in a JSON text) the payload to restore into it.
    let bytes = FuzzInput(start, count).payload
    let split = bytes.firstIndex(of: 0) ?? bytes.endIndex
    let body = String(decoding: bytes[..<split], as: UTF8.self)
    guard let envelope = SNSEnvelope(body: body) else { return 0 }
    let payload = String(decoding: bytes[min(split + 1, bytes.endIndex)...], as: UTF8.self)
    let original = try? JSONValue.parse(Array(body.utf8))
    invariant(original != nil, "an envelope that does not parse: \(body)")
    let restored = try? JSONValue.parse(Array(envelope.wrapping(payload).utf8))
    invariant(restored?["Message"] == .string(payload), "the payload did not become Message: \(body)")
    var others = restored
    others?["Message"] = original?["Message"]
    invariant(others == original, "members other than Message changed: \(body)")
    return 0
}
