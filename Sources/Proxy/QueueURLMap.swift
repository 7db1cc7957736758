import AWSSigning
import SQSWire

/// Where queue URLs point. SQS checks the host of the queue URLs it is sent, and some SDKs (Ruby,
/// older Java and .NET) send each call to its queue URL's host rather than to their endpoint: a
/// queue URL a client is given must point at the proxy, and one SQS is sent must point at SQS.
/// The path of a queue URL (account and queue name) is kept both ways.
public struct QueueURLMap: Sendable {
    /// The upstream SQS endpoint: the origin and base path of every queue URL sent to it.
    public var upstream: UpstreamEndpoint
    /// The origin of every queue URL given to clients; nil: the origin the client reached the proxy at.
    public var advertisedOrigin: String?
    /// Whether queue URLs in answers are rewritten at all (`--upstream-queue-urls` turns it off).
    public var rewritesAnswers: Bool

    public init(upstream: UpstreamEndpoint, advertisedOrigin: String? = nil, rewritesAnswers: Bool = true) {
        self.upstream = upstream
        self.advertisedOrigin = advertisedOrigin
        self.rewritesAnswers = rewritesAnswers
    }

    /// The queue URL to send SQS for `url`, which a client sent: the upstream's origin and base path
    /// with `url`'s path. Nil when `url` already has the upstream's origin, or is no URL at all (SQS
    /// then judges it).
    public func upstreamURL(for url: String) -> String? {
        guard let (origin, path) = Self.split(url), !Self.sameOrigin(origin, upstream.origin) else { return nil }
        return upstream.origin + upstream.basePath + path
    }

    /// The queue URL to give a client for `url`, which SQS returned: `origin` with `url`'s path,
    /// the upstream's base path taken off. `url` itself when it is no URL.
    public func clientURL(for url: String, origin: String) -> String {
        guard let (_, path) = Self.split(url) else { return url }
        let base = upstream.basePath
        let relative = !base.isEmpty && path.hasPrefix(base + "/") ? path.dropFirst(base.count) : path
        return origin + relative
    }

    /// The result `tree` of `action` (one of ``SQSAction/answersQueueURLs``) with its queue URLs
    /// pointed at `origin`.
    public func clientResult(_ tree: JSONValue, action: SQSAction, origin: String) -> JSONValue {
        var tree = tree
        if let url = tree["QueueUrl"]?.stringValue { tree["QueueUrl"] = .string(clientURL(for: url, origin: origin)) }
        if let list = ResponseCodec.queueURLList(action), let urls = tree[list]?.arrayValue {
            tree[list] = .array(urls.map { $0.stringValue.map { .string(clientURL(for: $0, origin: origin)) } ?? $0 })
        }
        return tree
    }

    /// The origin queue URLs in an answer point at: the advertised one, else `http://` and the
    /// request's `Host` header. Nil when the header is missing or names no host (`host[:port]`).
    public func clientOrigin(hostHeader: String?) -> String? {
        if let advertisedOrigin { return advertisedOrigin }
        guard let hostHeader, !hostHeader.contains(where: { "/?#".contains($0) }),
            let endpoint = UpstreamEndpoint("http://" + hostHeader)
        else { return nil }
        return endpoint.origin
    }

    /// The origin of an advertised URL (`http(s)://host[:port]`, a trailing `/` allowed); nil when
    /// it is not one or has a path.
    public static func advertisedOrigin(_ url: String) -> String? {
        guard let endpoint = UpstreamEndpoint(url), endpoint.basePath.isEmpty,
            !url.utf8.contains(UInt8(ascii: "?")), !url.utf8.contains(UInt8(ascii: "#"))
        else { return nil }
        return endpoint.origin
    }

    /// `scheme://authority` and the rest (from the first `/` after the authority, possibly empty).
    /// Read as bytes: it runs on every request that names a queue.
    private static func split(_ url: String) -> (origin: Substring, path: Substring)? {
        let utf8 = url.utf8
        guard let colon = utf8.firstIndex(of: UInt8(ascii: ":")), colon > utf8.startIndex,
            utf8[colon...].starts(with: "://".utf8)
        else { return nil }
        let authority = utf8.index(colon, offsetBy: 3)
        let pathStart = utf8[authority...].firstIndex(of: UInt8(ascii: "/")) ?? utf8.endIndex
        guard pathStart > authority else { return nil }
        return (url[..<pathStart], url[pathStart...])
    }

    /// Whether two origins are the same, ASCII letters compared without case.
    private static func sameOrigin(_ origin: Substring, _ other: String) -> Bool {
        origin.utf8.count == other.utf8.count
            && zip(origin.utf8, other.utf8).allSatisfy {
                $0 == $1 || ($0 | 0x20 == $1 | 0x20 && $0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A)
            }
    }
}

extension SQSAction {
    /// Whether a successful answer to the action holds queue URLs.
    public var answersQueueURLs: Bool {
        switch self {
        case .createQueue, .getQueueUrl, .listQueues, .listDeadLetterSourceQueues: return true
        default: return false
        }
    }
}
