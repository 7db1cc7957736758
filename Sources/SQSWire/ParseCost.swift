/// What a parsed request holds in memory, as the memory budget counts it: a model of the
/// allocator's bytes (checked against glibc's own count in `ParseCostTests`). Each item, a JSON
/// value or a Query parameter, costs a fixed amount that covers its slot, its object's table and
/// its node in a rewritten action's tree; each string too long to be held inline costs its length
/// and a header.
///
/// The request path reserves ``limit(forLength:)`` of the memory budget before it parses a body
/// and keeps what the parse built. With SQS's caps on items (``SQSLimits``) that limit is at most
/// ``factor`` times the body's length, counted as at least ``minimumLength``.
public enum ParseCost {
    /// The constant: a parse holds at most this many times its input's length, counted as at
    /// least ``minimumLength``.
    public static let factor = 4
    /// The length a small input is counted as.
    public static let minimumLength = 64 * 1024
    /// One JSON value built: its slot in its array or object (up to twice the slot, as arrays
    /// grow), and an object's own table.
    static let perJSONValue = 192
    /// One Query parameter: its pair, its entry in the check for repeated names, its node in the
    /// tree of a rewritten action.
    static let perQueryParameter = 320
    /// The header of a string held out of line.
    static let stringHeader = 64
    /// The most an item costs besides the bytes of its strings: a Query parameter with its name
    /// and value out of line (a JSON value with its member name costs less).
    static let perItemBound = perQueryParameter + 2 * stringHeader

    /// A string of `utf8Count` bytes: nothing when it is held inline, else its bytes and a header.
    static func string(utf8Count: Int) -> Int {
        utf8Count > 15 ? utf8Count + stringHeader : 0
    }

    /// The most a parse of `length` bytes holds, whatever they are: its strings are never longer
    /// than the bytes they came from, and it has at most one item per byte, and no more than SQS's
    /// caps. At most ``factor`` × max(`length`, ``minimumLength``): 413 items at 448 bytes are
    /// less than three times ``minimumLength``.
    public static func limit(forLength length: Int) -> Int {
        let items = min(length, max(SQSLimits.maxJSONValues, SQSLimits.maxQueryParameters))
        return length + items * perItemBound
    }
}

/// The items a request's parse built and what they hold, counted as they are built; past SQS's
/// cap on items the request is refused.
public struct ParseTally: Sendable, Hashable {
    public let wireProtocol: SQSProtocol
    /// The items built or checked (a JSON value nested in a forwarded request is only checked).
    public private(set) var items = 0
    /// What the items built hold, as ``ParseCost`` counts it.
    public private(set) var bytes = 0

    public init(_ wireProtocol: SQSProtocol) {
        self.wireProtocol = wireProtocol
    }

    /// Counts one more item holding `cost` bytes.
    mutating func add(cost: Int) throws(SQSError) {
        guard items < SQSLimits.maxItems(wireProtocol) else { throw .tooManyItems(wireProtocol) }
        items += 1
        bytes += cost
    }

    /// Counts a JSON value; `built`: it is kept, not only checked.
    mutating func addJSONValue(built: Bool, stringLength: Int = 0) throws(SQSError) {
        try add(cost: built ? ParseCost.perJSONValue + ParseCost.string(utf8Count: stringLength) : 0)
    }

    /// Counts an object member's name, kept with its value.
    mutating func addMemberName(_ name: String) {
        bytes += ParseCost.string(utf8Count: name.utf8.count)
    }

    /// Counts a Query parameter.
    mutating func addParameter(name: String, value: String) throws(SQSError) {
        try add(
            cost: ParseCost.perQueryParameter + ParseCost.string(utf8Count: name.utf8.count)
                + ParseCost.string(utf8Count: value.utf8.count))
    }
}
