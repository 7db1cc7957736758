import TextCoding

/// The code of an SQS error answer, in either protocol: the `x-amzn-query-error` header's (which
/// SQS and the proxy send with JSON errors), else the Query protocol's `<Code>`, else the JSON
/// protocol's `__type` (its shape, after `#`). Nil when none is there, or the body is larger than an
/// error's.
public enum SQSErrorCode {
    /// The largest body read for a code.
    public static let maxBodySize = 64 * 1024

    public static func of(queryErrorHeader: String?, body: UnsafeRawBufferPointer) -> String? {
        if let header = queryErrorHeader, let code = header.split(separator: ";").first, !code.isEmpty {
            return String(code)
        }
        guard !body.isEmpty, body.count <= maxBodySize else { return nil }
        if body.first == UInt8(ascii: "{") {
            guard let type = (try? JSONValue.parse(body, shallow: true))?["__type"]?.stringValue else { return nil }
            return type.split(separator: "#").last.map(String.init)
        }
        return XMLElementNode.parse(Array(body))?.first("Code")?.text
    }
}
