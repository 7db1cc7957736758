import FuzzSupport
import SQSWire

/// The request decoder of both protocols: what any request's parse holds stays within the limit
/// the memory budget reserves for its length (at most `ParseCost.factor` times it); a request of
/// a rewritten action that decodes, encoded again as the proxy encodes what it sends upstream,
/// decodes to the same input.
func fuzzRequestDecoder(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    let actions = SQSAction.allCases
    let action = actions[Int(input.choice >> 1) % actions.count]
    let wireProtocol: SQSProtocol = input.choice & 1 == 0 ? .json : .query
    guard let request = decode(input.payload, wireProtocol: wireProtocol, action: action) else { return 0 }
    checkParseCost(request.heldBytes, length: input.payload.count)
    guard let tree = request.tree else { return 0 }
    let encoded: [UInt8]
    switch request.input {
    case .json:
        encoded = tree.serialized()
    case .query(let original):
        guard let schema = RequestSchema.forAction(request.action) else {
            invariant(false, "a request with a tree has no schema")
            return 0
        }
        encoded = schema.parameters(from: tree, action: request.action, original: original).encoded()
    }
    let again = decode(encoded, wireProtocol: wireProtocol, action: request.action)
    invariant(again?.action == request.action, "the encoded request names another action")
    invariant(
        again?.tree == tree,
        "the request changed through encode and decode: \(tree) became \(String(describing: again?.tree)) "
            + "from \(String(decoding: encoded, as: UTF8.self))")
    return 0
}

func decode(_ body: [UInt8], wireProtocol: SQSProtocol, action: SQSAction) -> SQSRequest? {
    switch wireProtocol {
    case .json:
        return try? SQSRequestDecoder.decode(
            target: SQSRequestDecoder.targetPrefix + action.rawValue, contentType: "application/x-amz-json-1.0",
            path: "/", queryString: nil, body: body)
    case .query:
        return try? SQSRequestDecoder.decode(
            target: nil, contentType: "application/x-www-form-urlencoded", path: "/", queryString: nil, body: body)
    }
}

/// What a parse of `length` bytes holds is within the memory budget's reservation for it, and that
/// is at most `ParseCost.factor` times the length, counted as at least `ParseCost.minimumLength`.
func checkParseCost(_ heldBytes: Int, length: Int) {
    let limit = ParseCost.limit(forLength: length)
    invariant(heldBytes <= limit, "a parse of \(length) bytes holds \(heldBytes), over its limit of \(limit)")
    invariant(
        limit <= ParseCost.factor * max(length, ParseCost.minimumLength),
        "the limit for \(length) bytes is \(limit), over \(ParseCost.factor) times the length")
}
