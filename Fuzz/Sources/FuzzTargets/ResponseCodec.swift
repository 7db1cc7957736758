import FuzzSupport
import SQSWire

/// The response codec the proxy applies to SQS's answers, XML and JSON: a result it decodes,
/// encoded again, decodes to the same result.
func fuzzResponseCodec(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    let actions: [SQSAction] = [
        .sendMessage, .sendMessageBatch, .receiveMessage, .deleteMessage, .deleteMessageBatch,
        .changeMessageVisibility, .changeMessageVisibilityBatch,
    ]
    let action = actions[Int(input.choice >> 1) % actions.count]
    let wireProtocol: SQSProtocol = input.choice & 1 == 0 ? .json : .query
    guard let result = ResponseCodec.decode(input.payload, action: action, wireProtocol: wireProtocol) else {
        return 0
    }
    let encoded = ResponseCodec.encode(result, action: action, wireProtocol: wireProtocol)
    guard let again = ResponseCodec.decode(encoded, action: action, wireProtocol: wireProtocol) else {
        invariant(false, "an encoded result does not decode: \(String(decoding: encoded, as: UTF8.self))")
        return 0
    }
    invariant(again.tree == result.tree, "the result changed through encode and decode: \(result.tree), \(again.tree)")
    invariant(again.requestID == result.requestID, "the request id changed: \(String(describing: result.requestID))")
    return 0
}
