import SQSTransport
import TextCoding

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The forward proxies upstream calls go through, read from the environment as the AWS SDKs read
/// it: `HTTPS_PROXY` for `https://` upstreams, `HTTP_PROXY` for `http://` ones, `NO_PROXY` for the
/// hosts reached directly; each in lower or upper case, the lower case first when both are set.
/// Instance metadata and container credential endpoints never go through a proxy (the callers
/// ask for them directly).
public struct EgressProxies: Sendable {
    /// The proxy of `https://` upstreams, and the variable it came from.
    public var https: (proxy: ForwardProxy, variable: String)?
    /// The proxy of `http://` upstreams, and the variable it came from.
    public var http: (proxy: ForwardProxy, variable: String)?
    /// The hosts reached directly, as `NO_PROXY` lists them.
    public var exclusions: [String]

    /// No proxies.
    public init() {
        exclusions = []
    }

    /// The proxies `environment` names.
    /// - Throws: ``EgressProxyError`` for a proxy URL that is not `http://[user:password@]host[:port]`.
    public init(environment: [String: String]) throws(EgressProxyError) {
        func variable(_ name: String) -> (String, String)? {
            for key in [name.lowercased(), name] {
                if let value = environment[key]?.trimmed(), !value.isEmpty {
                    return (value, key)
                }
            }
            return nil
        }
        exclusions = []
        if let (url, name) = variable("HTTPS_PROXY") { https = (try Self.proxy(url, variable: name), name) }
        if let (url, name) = variable("HTTP_PROXY") { http = (try Self.proxy(url, variable: name), name) }
        if let (list, _) = variable("NO_PROXY") {
            exclusions = list.split(separator: ",").map { $0.trimmed().lowercased() }
                .filter { !$0.isEmpty }
        }
    }

    /// The proxy a call to `scheme://host:port` goes through; nil: straight to the host.
    public func proxy(scheme: String, host: String, port: Int) -> ForwardProxy? {
        let proxy = scheme.lowercased() == "https" ? https?.proxy : http?.proxy
        guard let proxy, !excludes(host: host, port: port) else { return nil }
        return proxy
    }

    /// The proxy a call to `url` goes through; nil: straight to its host (or `url` is no URL).
    public func proxy(for url: String) -> ForwardProxy? {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
            let host = components.host
        else { return nil }
        return proxy(scheme: scheme, host: host, port: components.port ?? (scheme.lowercased() == "https" ? 443 : 80))
    }

    /// Whether `NO_PROXY` names the host: `*`; the host itself or a domain it is in (`example.com`
    /// and `.example.com` both match `sqs.example.com`), with `:port` matching that port alone;
    /// an IP address, or an IPv4 range in CIDR notation (`10.0.0.0/8`).
    public func excludes(host: String, port: Int) -> Bool {
        let host = host.lowercased().trimmed { $0 == "[" || $0 == "]" }
        return exclusions.contains { entry in
            if entry == "*" { return true }
            var name = Substring(entry)
            if let range = Self.cidr(entry), let address = Self.ipv4(host) {
                return range.contains(address)
            }
            if !name.hasPrefix("["), let colon = name.lastIndex(of: ":"), name.firstIndex(of: ":") == colon {
                guard Int(name[name.index(after: colon)...]) == port else { return false }
                name = name[..<colon]
            }
            name = name.trimmed { $0 == "[" || $0 == "]" }[...]
            if name.hasPrefix("*.") { name = name.dropFirst() }
            if name.hasPrefix(".") { name = name.dropFirst() }
            return host == name || host.hasSuffix("." + name)
        }
    }

    /// Parses `http://[user:password@]host[:port][/]`, or `host[:port]`.
    static func proxy(_ url: String, variable: String) throws(EgressProxyError) -> ForwardProxy {
        let text = url.containsBytes(of: "://") ? url : "http://" + url
        guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty,
            components.path.isEmpty || components.path == "/", components.query == nil
        else { throw EgressProxyError("\(variable) must be http://[user:password@]host[:port]: \(url)") }
        guard components.scheme?.lowercased() == "http" else {
            throw EgressProxyError("\(variable): only http:// proxies are supported (TLS to the proxy is not): \(url)")
        }
        var authorization: String?
        if let user = components.percentEncodedUser {
            let credentials =
                PercentEncoding.decodeLeniently(user, plusIsSpace: false) + ":"
                + (components.percentEncodedPassword.map { PercentEncoding.decodeLeniently($0, plusIsSpace: false) }
                    ?? "")
            authorization = "Basic " + Data(credentials.utf8).base64EncodedString()
        }
        let bare = host.trimmed { $0 == "[" || $0 == "]" }
        return ForwardProxy(host: bare, port: components.port ?? 80, authorization: authorization)
    }

    /// An IPv4 address as a number.
    private static func ipv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let byte = UInt8(part) else { return nil }
            value = value << 8 | UInt32(byte)
        }
        return value
    }

    /// An IPv4 range in CIDR notation.
    private static func cidr(_ text: String) -> ClosedRange<UInt32>? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let base = ipv4(String(parts[0])), let bits = Int(parts[1]), (0...32).contains(bits)
        else { return nil }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
        return (base & mask)...(base | ~mask)
    }
}

/// A proxy variable that names no usable proxy.
public struct EgressProxyError: Error, Sendable, CustomStringConvertible {
    public let description: String

    init(_ description: String) {
        self.description = description
    }
}
