import Tracing

/// Text from outside the proxy (a queue's name, a request id, an error code, an object key, an
/// error's description) as a span attribute: at most ``maxBytes`` of it. A span is held until it
/// is exported, after its request has ended and outside the memory budget, so what it holds must
/// not grow with what a client, a queue's messages or an upstream sent.
public enum SpanText {
    /// The most bytes of outside text a span attribute holds (a character cut at the end becomes U+FFFD).
    public static let maxBytes = 256

    /// `text`, cut to ``maxBytes``.
    public static func bounded(_ text: some StringProtocol) -> SpanAttribute {
        guard text.utf8.count > maxBytes else { return .string(String(text)) }
        return .string(String(decoding: text.utf8.prefix(maxBytes), as: UTF8.self))
    }
}
