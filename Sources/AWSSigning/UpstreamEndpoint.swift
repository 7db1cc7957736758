/// An upstream service endpoint: `http(s)://host[:port][/base]`.
public struct UpstreamEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var scheme: String
    public var host: String
    public var port: Int
    /// The path prefix of the endpoint without a trailing slash (usually empty).
    public var basePath: String

    /// Parses an endpoint URL; nil unless it is `http` or `https` with a host.
    public init?(_ url: String) {
        // The scheme ends at the first colon (a byte search: the proxy parses endpoints at start,
        // and a string search would bring the string-processing library's code in).
        guard let colon = url.utf8.firstIndex(of: UInt8(ascii: ":")), url.utf8[colon...].starts(with: "://".utf8)
        else { return nil }
        let scheme = url[..<colon].lowercased()
        guard scheme == "http" || scheme == "https" else { return nil }
        let rest = url[url.utf8.index(colon, offsetBy: 3)...]
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
        guard Self.isHost(host), path.utf8.allSatisfy(Self.isPathByte) else { return nil }
        var base = String(path)
        while base.hasSuffix("/") { base.removeLast() }
        self.init(scheme: scheme, host: String(host), port: port, basePath: base)
    }

    private init(scheme: String, host: String, port: Int, basePath: String) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
    }

    /// A DNS name or IPv4 address (letters, digits, `.`, `-`, `_`), or an IPv6 address in brackets.
    static func isHost(_ host: Substring) -> Bool {
        if host.hasPrefix("[") {
            let inner = host.dropFirst().dropLast()
            return host.hasSuffix("]") && !inner.isEmpty
                && inner.utf8.allSatisfy { $0 == 0x3A || $0 == 0x2E || $0.isASCIIHexDigit }
        }
        return !host.isEmpty
            && host.utf8.allSatisfy { $0.isASCIILetterOrDigit || $0 == 0x2E || $0 == 0x2D || $0 == 0x5F }
    }

    /// A byte a base path may hold as it goes on the wire: RFC 3986's unreserved and sub-delimiter
    /// characters, `:`, `@`, `/` and `%` escapes.
    static func isPathByte(_ byte: UInt8) -> Bool {
        byte.isASCIILetterOrDigit || "-._~!$&'()*+,;=:@/%".utf8.contains(byte)
    }

    /// Whether the port is the scheme's default.
    public var usesDefaultPort: Bool { port == (scheme == "https" ? 443 : 80) }

    /// The `Host` header value: the host, with the port unless it is the default.
    public var hostHeader: String { usesDefaultPort ? host : "\(host):\(port)" }

    /// `scheme://host[:port]` without the base path.
    public var origin: String { "\(scheme)://\(hostHeader)" }

    public var description: String { origin + basePath }

    /// The AWS endpoint of `service` in `region` (a name as ``isRegionName(_:)`` checks it), as the
    /// AWS SDKs choose it: `service-fips` for FIPS, `api.aws` (China: `api.amazonwebservices.com.cn`)
    /// for dual-stack, S3's own `s3[-fips].dualstack.REGION.amazonaws.com`.
    public static func aws(service: String, region: String, fips: Bool = false, dualStack: Bool = false)
        -> UpstreamEndpoint
    {
        let china = region.hasPrefix("cn-")
        let suffix = china ? "amazonaws.com.cn" : "amazonaws.com"
        let name = fips ? service + "-fips" : service
        let host: String
        if service == "s3" {
            // S3 names its dual-stack endpoints in its own way.
            host = dualStack ? "\(name).dualstack.\(region).\(suffix)" : "\(name).\(region).\(suffix)"
        } else {
            host = "\(name).\(region)." + (dualStack ? (china ? "api.amazonwebservices.com.cn" : "api.aws") : suffix)
        }
        return UpstreamEndpoint(scheme: "https", host: host, port: 443, basePath: "")
    }

    /// Whether `region` can name an AWS region in a host name: lowercase letters and digits in
    /// groups joined by single hyphens (`us-east-1`, `us-gov-west-1`).
    public static func isRegionName(_ region: String) -> Bool {
        let groups = region.split(separator: "-", omittingEmptySubsequences: false)
        return region.utf8.count <= 64
            && groups.allSatisfy {
                !$0.isEmpty && $0.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) }
            }
    }
}

extension UInt8 {
    fileprivate var isASCIILetterOrDigit: Bool {
        (self >= 0x61 && self <= 0x7A) || (self >= 0x41 && self <= 0x5A) || (self >= 0x30 && self <= 0x39)
    }

    fileprivate var isASCIIHexDigit: Bool {
        (self >= 0x30 && self <= 0x39) || (self >= 0x61 && self <= 0x66) || (self >= 0x41 && self <= 0x46)
    }
}
