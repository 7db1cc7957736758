import TextCoding

/// An AWS X-Ray trace header (`X-Amzn-Trace-Id`) as far as it names a trace context:
/// `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`. Fields come in any
/// order; others (`Lineage`, `Self`) are ignored. The same context as a W3C `traceparent` is
/// version 00 with the Root's two parts joined.
public struct XRayTraceHeader: Equatable, Sendable {
    /// The trace id: 32 lowercase hex digits, the Root's time and random parts.
    public var traceID: String
    /// The span the request came from: 16 lowercase hex digits.
    public var parentID: String
    /// Whether the trace is recorded (`Sampled=1`); `0`, `?` or no flag is not.
    public var sampled: Bool

    /// The context a header names; nil when it names none (no Root or no Parent, or either malformed).
    public init?(_ value: some StringProtocol) {
        var root: String?
        var parent: String?
        var sampled = false
        for field in value.split(separator: ";", maxSplits: 16) {
            let pair = field.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { continue }
            let name = pair[0].trimmed()
            let fieldValue = pair[1].trimmed()
            switch name {
            case "Root": root = fieldValue
            case "Parent": parent = fieldValue
            case "Sampled": sampled = fieldValue == "1"
            default: continue
            }
        }
        // Measured before it is split: a header is the client's, up to the head's limit.
        guard let root, let parent, root.utf8.count == Self.rootLength else { return nil }
        let parts = root.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "1", parts[1].utf8.count == 8, parts[2].utf8.count == 24 else { return nil }
        let traceID = String(parts[1] + parts[2]).lowercased()
        let parentID = parent.lowercased()
        guard Self.isID(traceID, length: 32), Self.isID(parentID, length: 16) else { return nil }
        self.traceID = traceID
        self.parentID = parentID
        self.sampled = sampled
    }

    /// The context of a W3C `traceparent` of version 00; nil when it is not one.
    public init?(traceParent: some StringProtocol) {
        guard traceParent.utf8.count == Self.traceParentLength else { return nil }
        let parts = traceParent.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "00", parts[3].utf8.count == 2,
            let flags = UInt8(parts[3], radix: 16)
        else { return nil }
        let traceID = String(parts[1])
        let parentID = String(parts[2])
        guard Self.isID(traceID, length: 32), Self.isID(parentID, length: 16) else { return nil }
        self.traceID = traceID
        self.parentID = parentID
        self.sampled = flags & 1 == 1
    }

    /// The header's value: Root, Parent and Sampled.
    public var headerValue: String {
        let time = traceID.prefix(8)
        let random = traceID.dropFirst(8)
        return "Root=1-\(time)-\(random);Parent=\(parentID);Sampled=\(sampled ? "1" : "0")"
    }

    /// The same context as a W3C `traceparent`.
    public var traceParent: String {
        "00-\(traceID)-\(parentID)-\(sampled ? "01" : "00")"
    }

    /// `1-` and the trace id's 8 and 24 digits, apart.
    static let rootLength = 35
    /// A version-00 `traceparent`: version, trace id, parent id and flags.
    static let traceParentLength = 55

    /// Whether `id` is `length` lowercase hex digits, not all zero (which W3C makes invalid).
    private static func isID(_ id: String, length: Int) -> Bool {
        id.utf8.count == length
            && id.utf8.allSatisfy {
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
            }
            && id.utf8.contains { $0 != UInt8(ascii: "0") }
    }
}
