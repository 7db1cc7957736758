/// A fuzzer's input read as a choice, the lengths of the pieces to cut the rest into, and the rest.
///
/// Layout: byte 0 is the choice (a target uses it to pick a protocol or an action); byte 1 is the
/// number of cut bytes that follow (mod 16); each cut byte `c` is a piece of `c + 1` bytes, used in
/// turn until the payload is cut whole. No cut bytes: one piece. Seeds are `[choice, 0] + payload`.
public struct FuzzInput {
    public let choice: UInt8
    public let payload: [UInt8]
    private let cuts: [UInt8]

    public init(_ start: UnsafeRawPointer?, _ count: Int) {
        let bytes = count > 0 && start != nil ? Array(UnsafeRawBufferPointer(start: start, count: count)) : []
        choice = bytes.first ?? 0
        let cutCount = bytes.count > 1 ? Int(bytes[1] % 16) : 0
        let cutsEnd = min(bytes.count, 2 + cutCount)
        cuts = bytes.count > 2 ? Array(bytes[2..<cutsEnd]) : []
        payload = bytes.count > cutsEnd ? Array(bytes[cutsEnd...]) : []
    }

    /// The payload cut into pieces at the input's own cut points.
    public var pieces: [[UInt8]] {
        guard !cuts.isEmpty else { return [payload] }
        var pieces: [[UInt8]] = []
        var start = 0
        var turn = 0
        while start < payload.count {
            let end = min(payload.count, start + Int(cuts[turn % cuts.count]) + 1)
            pieces.append(Array(payload[start..<end]))
            start = end
            turn += 1
        }
        return pieces
    }
}

/// Stops the fuzzer with an invariant that did not hold: libFuzzer keeps the input as a crash.
public func invariant(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    guard condition() else { fatalError("invariant failed: \(message())") }
}
