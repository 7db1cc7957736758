import FuzzSupport
import SQSWire

/// The streaming unescapers: cut anywhere, they give what they give the whole input, and the JSON
/// one agrees with the JSON parser on a string literal.
func fuzzUnescapers(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    if input.choice & 1 == 0 {
        let whole = unescapeJSON([input.payload])
        invariant(whole == unescapeJSON(input.pieces), "JSON unescaping depends on where the input was cut")
        // A literal the parser reads: the same string, ended where the unescaper ended it.
        if case .finished(let bytes, let consumed) = whole {
            let literal = [UInt8(ascii: "\"")] + input.payload[..<consumed]
            let parsed = try? JSONValue.parse(literal)
            invariant(parsed == .string(String(decoding: bytes, as: UTF8.self)), "unescaper and parser disagree")
        } else if case .needMore = whole {
        } else {
            let literal = [UInt8(ascii: "\"")] + input.payload
            invariant((try? JSONValue.parse(literal)) == nil, "the parser accepts a string the unescaper refuses")
        }
    } else {
        invariant(decodeForm([input.payload]) == decodeForm(input.pieces), "form decoding depends on the cut")
    }
    return 0
}

enum Outcome: Equatable {
    case finished([UInt8], consumed: Int)
    case needMore
    case failed
}

func unescapeJSON(_ pieces: [[UInt8]]) -> Outcome {
    var unescaper = JSONStringUnescaper()
    var output: [UInt8] = []
    var offset = 0
    for piece in pieces {
        do {
            let progress = try piece.withUnsafeBytes { try unescaper.consume($0, into: &output) }
            if case .finished(let consumed) = progress { return .finished(output, consumed: offset + consumed) }
        } catch {
            return .failed
        }
        offset += piece.count
    }
    return .needMore
}

func decodeForm(_ pieces: [[UInt8]]) -> Outcome {
    var decoder = FormValueDecoder()
    var output: [UInt8] = []
    var offset = 0
    for piece in pieces {
        do {
            let progress = try piece.withUnsafeBytes { try decoder.consume($0, into: &output) }
            if case .finished(let consumed) = progress { return .finished(output, consumed: offset + consumed) }
        } catch {
            return .failed
        }
        offset += piece.count
    }
    // The body ended without an `&`: the value ends there.
    do {
        try decoder.finish()
    } catch {
        return .failed
    }
    return .finished(output, consumed: offset)
}
