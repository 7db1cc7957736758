import AWSCredentialChain
import AWSSigning
import NIOHTTP1
import TextCoding
import Upstream

/// Turns a client's request into the request the proxy sends upstream: the client's signature and
/// hop-by-hop headers removed, `Host` set to the upstream, the proxy named in the User-Agent,
/// signed with the proxy's credentials.
public struct UpstreamRequestBuilder: Sendable {
    /// Headers never forwarded: the client's signature and the hop-by-hop headers.
    public static let droppedHeaders: Set<String> = [
        "authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256",
        "host", "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
        "te", "trailer", "transfer-encoding", "upgrade", "content-length", "expect",
    ]

    /// Forwarded headers that are also signed, when present.
    public static let signedHeaders: Set<String> = ["content-type", "x-amz-target", "x-amzn-query-mode"]

    public var endpoint: UpstreamEndpoint
    public var signer: SigV4Signer

    public init(endpoint: UpstreamEndpoint, signer: SigV4Signer) {
        self.endpoint = endpoint
        self.signer = signer
    }

    /// The upstream request head for a request with the given path, query, headers and body
    /// (its length and hash): `Host` and `Content-Length` set, signed.
    public func build(
        method: HTTPMethod, path: String, query: String, clientHeaders: HTTPHeaders, contentLength: Int,
        payloadHash: String, credentials: AWSCredentials, date: SigningDate
    ) -> HTTPRequestHead {
        let upstreamPath = endpoint.basePath + (path.isEmpty ? "/" : path)
        var headers = HTTPHeaders()
        var toSign: [(name: String, value: String)] = [("host", endpoint.hostHeader)]
        headers.add(name: "Host", value: endpoint.hostHeader)
        for (name, value) in clientHeaders {
            let lowercased = name.asciiLowercased
            if Self.droppedHeaders.contains(lowercased) { continue }
            if lowercased == "user-agent" { continue }
            headers.add(name: name, value: value)
            if Self.signedHeaders.contains(lowercased) { toSign.append((lowercased, value)) }
        }
        // The client's User-Agent (its first, if it sent several) names the proxy too.
        headers.add(
            name: "User-Agent", value: ProxyVersion.userAgent(appendedTo: clientHeaders.first(name: "user-agent")))
        let signature = signer.sign(
            method: method.rawValue, path: upstreamPath, query: query, headers: toSign, payloadHash: payloadHash,
            credentials: credentials, date: date)
        // The client's own date, token and signature were dropped above: the proxy's are added.
        for header in signature.headers { headers.add(name: header.name, value: header.value) }
        headers.add(name: "Content-Length", value: String(contentLength))
        return HTTPRequestHead(
            version: .http1_1, method: method, uri: upstreamPath + (query.isEmpty ? "" : "?" + query), headers: headers)
    }
}
