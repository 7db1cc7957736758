import AsyncHTTPClient
import SQSTransport
import Testing

@testable import Upstream

struct EgressProxiesTests {
    @Test func eachSchemeHasItsProxyTheLowerCaseVariableFirst() throws {
        let proxies = try EgressProxies(environment: [
            "HTTPS_PROXY": "http://secure.proxy:3128", "https_proxy": "http://lower.proxy:8080/",
            "HTTP_PROXY": "plain.proxy",
        ])
        #expect(proxies.https?.proxy == ForwardProxy(host: "lower.proxy", port: 8080))
        #expect(proxies.https?.variable == "https_proxy")
        #expect(proxies.http?.proxy == ForwardProxy(host: "plain.proxy", port: 80))
        #expect(proxies.http?.variable == "HTTP_PROXY")
        #expect(
            proxies.proxy(for: "https://sqs.eu-west-1.amazonaws.com/") == ForwardProxy(host: "lower.proxy", port: 8080))
        #expect(proxies.proxy(for: "http://127.0.0.1:4566/") == ForwardProxy(host: "plain.proxy", port: 80))
        #expect(try EgressProxies(environment: [:]).proxy(for: "https://sqs.eu-west-1.amazonaws.com/") == nil)
        #expect(try EgressProxies(environment: ["HTTPS_PROXY": " "]).https == nil)
    }

    @Test func aUserInTheURLBecomesBasicProxyAuthorization() throws {
        let proxies = try EgressProxies(environment: ["HTTPS_PROXY": "http://me:p%40ss@[::1]:3128"])
        #expect(proxies.https?.proxy == ForwardProxy(host: "::1", port: 3128, authorization: "Basic bWU6cEBzcw=="))
        #expect(proxies.https?.proxy.description == "[::1]:3128")
    }

    @Test(arguments: [
        "https://proxy:3128", "socks5://proxy:1080", "http://proxy:3128/path", "http://:3128", "http://proxy:x",
    ])
    func aProxyThatIsNotPlainHTTPIsRefused(url: String) {
        #expect(throws: EgressProxyError.self) { try EgressProxies(environment: ["HTTPS_PROXY": url]) }
    }

    @Test func noProxyNamesHostsDomainsPortsAndRanges() throws {
        let proxies = try EgressProxies(environment: [
            "HTTPS_PROXY": "http://proxy:3128", "HTTP_PROXY": "http://proxy:3128",
            "NO_PROXY": "internal.example, .corp.example,*.svc.local, 10.0.0.0/8, 127.0.0.1:4566, [::1], 192.168.1.7",
        ])
        for (host, port) in [
            ("internal.example", 443), ("s3.internal.example", 443), ("corp.example", 443), ("a.b.corp.example", 443),
            ("x.svc.local", 80), ("10.1.2.3", 443), ("127.0.0.1", 4566), ("::1", 443), ("192.168.1.7", 80),
            ("INTERNAL.EXAMPLE", 443),
        ] {
            #expect(proxies.excludes(host: host, port: port), "\(host):\(port)")
        }
        for (host, port) in [
            ("sqs.eu-west-1.amazonaws.com", 443), ("notinternal.example", 443), ("11.0.0.1", 443), ("127.0.0.1", 9324),
            ("192.168.1.70", 80), ("example", 443),
        ] {
            #expect(!proxies.excludes(host: host, port: port), "\(host):\(port)")
        }
        #expect(try EgressProxies(environment: ["no_proxy": "*"]).excludes(host: "anything", port: 1))
    }
}

struct UpstreamCallerRoutingTests {
    @Test func aCallIsMadeOnTheClientOfItsSchemesProxyUnlessItsHostIsExcludedOrItFetchesCredentials()
        async throws
    {
        let direct = HTTPClient(eventLoopGroupProvider: .singleton)
        let proxied = HTTPClient(eventLoopGroupProvider: .singleton)
        let egress = try EgressProxies(environment: [
            "HTTPS_PROXY": "http://proxy:3128", "NO_PROXY": "internal.example",
        ])
        let caller = UpstreamCaller(
            client: direct, proxiedClients: ["https": proxied], egress: egress, retrier: UpstreamRetrier())
        #expect(caller.client(for: "https://sqs.eu-west-1.amazonaws.com/", service: "sqs") === proxied)
        #expect(caller.client(for: "https://sts.eu-west-1.amazonaws.com/", service: "sts") === proxied)
        #expect(caller.client(for: "https://s3.internal.example/b/k", service: "s3") === direct)
        #expect(caller.client(for: "http://127.0.0.1:4566/", service: "s3") === direct)
        #expect(caller.client(for: "https://pod-identity.example/creds", service: "container") === direct)
        #expect(caller.client(for: "https://169.254.169.254/latest/api/token", service: "imds") === direct)
        try await caller.shutdown()
    }
}
