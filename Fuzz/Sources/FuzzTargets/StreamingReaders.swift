import FuzzSupport
import SQSWire

/// The streaming send-request reader (the JSON object reader and the form reader under it): cut
/// anywhere, it reports the same bodies and builds the same request as from the whole input, and
/// that request is the one the whole-request decoder builds; what it collected, even from a
/// request it refused, stays within the memory budget's reservation for the input's length.
func fuzzStreamingReaders(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = FuzzInput(start, count)
    let wireProtocol: SQSProtocol = input.choice & 1 == 0 ? .json : .query
    let action: SQSAction = input.choice & 2 == 0 ? .sendMessage : .sendMessageBatch
    let whole = Reading(wireProtocol: wireProtocol, action: action, pieces: [input.payload])
    let cut = Reading(wireProtocol: wireProtocol, action: action, pieces: input.pieces)
    // A request refused part-way may have handed over more or fewer bytes first (they are dropped
    // with the request); one read to its end must not depend on the cut.
    checkParseCost(whole.heldBytes, length: input.payload.count)
    checkParseCost(cut.heldBytes, length: input.payload.count)
    guard !whole.failed || !cut.failed else { return 0 }
    invariant(whole == cut, "reading depends on where the input was cut: \(whole) against \(cut)")
    guard let request = whole.request, case .decoded(let streamedAction, let tree) = request else { return 0 }
    let decoded = try? SQSRequestDecoder.decode(
        target: wireProtocol == .json ? "AmazonSQS." + action.rawValue : nil,
        contentType: wireProtocol == .json ? "application/x-amz-json-1.0" : "application/x-www-form-urlencoded",
        path: "/", queryString: nil, body: input.payload)
    invariant(decoded?.action == streamedAction, "the whole-request decoder disagrees on the action")
    invariant(decoded?.tree == tree, "the whole-request decoder builds another request")
    return 0
}

/// What reading a request in the given pieces gave.
struct Reading: Equatable, CustomStringConvertible {
    enum Built: Equatable {
        case decoded(SQSAction, JSONValue?)
        case refused
    }

    /// The body events, adjacent bytes joined.
    var events: [StreamingSendRequestReader.Event] = []
    var failed = false
    var request: Built?
    /// What the reader collected, as `ParseCost` counts it.
    var heldBytes = 0

    init(wireProtocol: SQSProtocol, action: SQSAction, pieces: [[UInt8]]) {
        var reader = StreamingSendRequestReader(wireProtocol: wireProtocol, maxMemberSize: 1 << 20)
        let bodies = BodyCollector()
        failed = !bodies.read(pieces, with: &reader)
        events = bodies.events
        heldBytes = reader.tally.bytes
        guard !failed else { return }
        let texts = bodies.bodies.mapValues { String(decoding: $0, as: UTF8.self) }
        if let built = try? reader.request(bodies: texts, action: action, path: "/", queryString: nil) {
            request = .decoded(built.action, built.tree)
        } else {
            request = .refused
        }
    }

    var description: String { "events \(events), failed \(failed), request \(String(describing: request))" }
}

/// The bodies a reader hands over, and its events with adjacent bytes joined.
final class BodyCollector {
    var events: [StreamingSendRequestReader.Event] = []
    var bodies: [Int: [UInt8]] = [:]
    private var entry = -1

    /// Feeds `pieces` to `reader` and ends the request; false if the reader refused it.
    func read(_ pieces: [[UInt8]], with reader: inout StreamingSendRequestReader) -> Bool {
        for piece in pieces {
            let accepted = piece.withUnsafeBytes { bytes in
                (try? reader.read(bytes, handle)) != nil
            }
            guard accepted else { return false }
        }
        return (try? reader.finish(handle)) != nil
    }

    func handle(_ event: StreamingSendRequestReader.Event) {
        switch event {
        case .bodyStart(let started):
            entry = started
            bodies[entry, default: []] += []
        case .bodyBytes(let bytes): bodies[entry, default: []] += bytes
        case .bodyEnd: break
        }
        if case .bodyBytes(let bytes) = event, case .bodyBytes(let previous)? = events.last {
            events[events.count - 1] = .bodyBytes(previous + bytes)
        } else {
            events.append(event)
        }
    }
}
