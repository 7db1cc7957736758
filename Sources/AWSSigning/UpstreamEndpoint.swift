/// An upstream service endpoint: `http(s)://host[:port][/base]`.
public struct UpstreamEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int
    /// The path prefix of the endpoint without a trailing slash (usually empty).
    public var basePath: String

    /// Parses an endpoint URL; nil unless it is `http` or `https` with a host.
    public init?(_ url: String) {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let path = rest.dropFirst(authority.count).prefix { $0 != "?" && $0 != "#" }
        var host = Substring(authority)
        var port = scheme == "https" ? 443 : 80
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let parsed = Int(after.dropFirst()), (1...65535).contains(parsed) else { return nil }
                port = parsed
            }
            host = host[...close]
        } else if let colon = host.lastIndex(of: ":") {
            guard let parsed = Int(host[host.index(after: colon)...]), (1...65535).contains(parsed) else { return nil }
            port = parsed
            host = host[..<colon]
        }
        guard !host.isEmpty else { return nil }
        self.scheme = scheme
        self.host = String(host)
        self.port = port
        var base = String(path)
        while base.hasSuffix("/") { base.removeLast() }
        self.basePath = base
    }

    /// Whether the port is the scheme's default.
    public var usesDefaultPort: Bool { port == (scheme == "https" ? 443 : 80) }

    /// The `Host` header value: the host, with the port unless it is the default.
    public var hostHeader: String { usesDefaultPort ? host : "\(host):\(port)" }

    /// `scheme://host[:port]` without the base path.
    public var origin: String { "\(scheme)://\(hostHeader)" }

    public var description: String { origin + basePath }

    /// The AWS endpoint of `service` in `region`.
    public static func aws(service: String, region: String) -> UpstreamEndpoint {
        let suffix = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return UpstreamEndpoint("https://\(service).\(region).\(suffix)")!
    }
}
