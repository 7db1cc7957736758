import TextCoding

/// The parameters of a Query-protocol request: `application/x-www-form-urlencoded` pairs, in order.
public struct QueryParameters: Sendable, Hashable {
    /// The decoded name/value pairs, in the order they were sent.
    public var pairs: [(name: String, value: String)]

    public init(_ pairs: [(name: String, value: String)] = []) {
        self.pairs = pairs
    }

    public static func == (lhs: QueryParameters, rhs: QueryParameters) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.name == $1.name && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for pair in pairs {
            hasher.combine(pair.name)
            hasher.combine(pair.value)
        }
    }

    /// The first value of `name`, or nil.
    public subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }

    /// Parses a form-encoded string (`a=1&b=x+y&c=%E2%82%AC`).
    public static func parse(_ bytes: some Collection<UInt8>) throws(SQSError) -> QueryParameters {
        try withContiguousBytes(bytes) { buffer throws(SQSError) in try parse(buffer) }
    }

    /// Parses a form-encoded string (`a=1&b=x+y&c=%E2%82%AC`) held in contiguous memory.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(SQSError) -> QueryParameters {
        var uncounted: ParseTally?
        return try parse(bytes, tally: &uncounted)
    }

    /// Parses a request's form-encoded parameters, counting them in `tally`.
    public static func parse(_ bytes: UnsafeRawBufferPointer, tally: inout ParseTally) throws(SQSError)
        -> QueryParameters
    {
        var counted: ParseTally? = tally
        let parameters = try parse(bytes, tally: &counted)
        tally = counted ?? tally
        return parameters
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer, tally: inout ParseTally?) throws(SQSError)
        -> QueryParameters
    {
        var pairs: [(name: String, value: String)] = []
        var start = 0
        while start < bytes.count {
            var end = start
            var separator: Int?
            while end < bytes.count && bytes[end] != UInt8(ascii: "&") {
                if separator == nil && bytes[end] == UInt8(ascii: "=") { separator = end }
                end += 1
            }
            if end > start {
                let nameEnd = separator ?? end
                let valueStart = separator.map { $0 + 1 } ?? end
                guard let name = PercentEncoding.decodeForm(UnsafeRawBufferPointer(rebasing: bytes[start..<nameEnd])),
                    let value = PercentEncoding.decodeForm(UnsafeRawBufferPointer(rebasing: bytes[valueStart..<end]))
                else {
                    throw .malformedRequest("The request is not valid form encoding.")
                }
                try tally?.addParameter(name: name, value: value)
                pairs.append((name, value))
            }
            start = end + 1
        }
        return QueryParameters(pairs)
    }

    /// The form encoding of the pairs, in order.
    public func encoded() -> [UInt8] {
        PercentEncoding.form(pairs)
    }
}
