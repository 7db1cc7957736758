import ExtendedPayload
import FuzzSupport

/// The pointer and marked receipt-handle codecs: what they read, written again, reads the same.
func fuzzPayloadCodecs(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    let text = String(decoding: input.payload, as: UTF8.self)
    if input.choice & 1 == 0 {
        guard let pointer = PayloadPointer(body: text) else { return 0 }
        invariant(PayloadPointer(body: pointer.encoded) == pointer, "pointer changed: \(pointer.encoded)")
    } else {
        guard let handle = MarkedReceiptHandle(text) else { return 0 }
        invariant(MarkedReceiptHandle(handle.marked) == handle, "handle changed: \(handle.marked)")
    }
    return 0
}
