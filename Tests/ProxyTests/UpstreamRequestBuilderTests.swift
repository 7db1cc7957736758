import AWSCredentialChain
import AWSSigning
import NIOHTTP1
import Testing
import Upstream

@testable import Proxy

struct UpstreamRequestBuilderTests {
    let builder = UpstreamRequestBuilder(
        endpoint: UpstreamEndpoint("http://127.0.0.1:4566/base/")!,
        signer: SigV4Signer(region: "us-east-1", service: "sqs"))
    let credentials = AWSCredentials(
        accessKeyID: "PROXYKEY", secretAccessKey: "proxysecret", sessionToken: "proxytoken")

    @Test func clientSignatureAndHopByHopHeadersNeverLeak() {
        let client: HTTPHeaders = [
            "Host": "localhost:9324", "Authorization": "AWS4-HMAC-SHA256 Credential=CLIENTKEY/...",
            "X-Amz-Date": "20000101T000000Z", "X-Amz-Security-Token": "clienttoken",
            "X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD", "Connection": "keep-alive", "Content-Length": "2",
            "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.ListQueues",
            "User-Agent": "Boto3/1.43", "x-amzn-query-mode": "true",
        ]
        let head = builder.build(
            method: .POST, path: "/", query: "", clientHeaders: client, contentLength: 2,
            payloadHash: SigV4Signer.emptyPayloadHash, credentials: credentials,
            date: SigningDate(secondsSince1970: 1_764_398_700))
        let headers = head.headers
        #expect(head.uri == "/base/")
        #expect(headers["Host"] == ["127.0.0.1:4566"])
        #expect(headers["X-Amz-Security-Token"] == ["proxytoken"])
        #expect(headers["X-Amz-Date"] == ["20251129T064500Z"])
        #expect(headers["X-Amz-Content-Sha256"].isEmpty)
        #expect(headers["Connection"].isEmpty)
        #expect(headers["Content-Length"] == ["2"])
        // The client's User-Agent names the proxy too; it is not signed.
        #expect(headers["User-Agent"] == ["Boto3/1.43 " + ProxyVersion.product])
        let authorization = headers["Authorization"]
        #expect(authorization.count == 1)
        #expect(
            authorization.first?.hasPrefix("AWS4-HMAC-SHA256 Credential=PROXYKEY/20251129/us-east-1/sqs/aws4_request")
                == true)
        #expect(
            authorization.first?.contains(
                "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target;x-amzn-query-mode")
                == true)
    }

    @Test func queuePathAndQueryStringAreKept() {
        let head = builder.build(
            method: .GET, path: "/123456789012/orders", query: "Action=PurgeQueue", clientHeaders: [:],
            contentLength: 0, payloadHash: SigV4Signer.emptyPayloadHash, credentials: credentials,
            date: SigningDate(secondsSince1970: 0))
        #expect(head.uri == "/base/123456789012/orders?Action=PurgeQueue")
    }
}

struct UpstreamEndpointTests {
    @Test(arguments: [
        ("sqs", "us-east-1", false, false, "sqs.us-east-1.amazonaws.com"),
        ("sqs", "us-east-1", true, false, "sqs-fips.us-east-1.amazonaws.com"),
        ("sqs", "us-east-1", false, true, "sqs.us-east-1.api.aws"),
        ("sqs", "us-east-1", true, true, "sqs-fips.us-east-1.api.aws"),
        ("s3", "eu-west-1", false, true, "s3.dualstack.eu-west-1.amazonaws.com"),
        ("s3", "eu-west-1", true, true, "s3-fips.dualstack.eu-west-1.amazonaws.com"),
        ("s3", "us-gov-west-1", true, false, "s3-fips.us-gov-west-1.amazonaws.com"),
        ("sts", "cn-north-1", false, true, "sts.cn-north-1.api.amazonwebservices.com.cn"),
    ])
    func awsEndpointsAreChosenAsTheSDKsChooseThem(
        _ service: String, _ region: String, _ fips: Bool, _ dualStack: Bool, _ host: String
    ) {
        #expect(UpstreamEndpoint.aws(service: service, region: region, fips: fips, dualStack: dualStack).host == host)
    }

    @Test func parsesEndpoints() throws {
        let plain = try #require(UpstreamEndpoint("http://localhost:4566"))
        #expect(plain.scheme == "http")
        #expect(plain.host == "localhost")
        #expect(plain.port == 4566)
        #expect(plain.hostHeader == "localhost:4566")
        let aws = UpstreamEndpoint.aws(service: "sqs", region: "eu-west-1")
        #expect(aws.origin == "https://sqs.eu-west-1.amazonaws.com")
        #expect(aws.port == 443)
        #expect(UpstreamEndpoint.aws(service: "s3", region: "cn-north-1").host == "s3.cn-north-1.amazonaws.com.cn")
        let v6 = try #require(UpstreamEndpoint("http://[::1]:9000/"))
        #expect(v6.host == "[::1]")
        #expect(v6.hostHeader == "[::1]:9000")
        #expect(UpstreamEndpoint("HTTPS://Example.com:443")?.hostHeader == "Example.com")
    }

    @Test func rejectsNonsense() {
        for bad in [
            "localhost:4566", "http:/x", "x:http://h", "ftp://x", "http://", "http://h:0", "http://h:99999",
            "http://h:x",
            "http://user@evil.example", "http://a b", "http://h/base path", "http://[zz]:1", "http://h\u{0}x",
        ] {
            #expect(UpstreamEndpoint(bad) == nil)
        }
    }

    @Test func regionNamesCanGoInAHostName() {
        for good in ["us-east-1", "us-gov-west-1", "cn-north-1", "local"] {
            #expect(UpstreamEndpoint.isRegionName(good))
        }
        for bad in ["", "us east 1", "us-east-1:", "eu/west", "US-EAST-1", "us--east", "-us", "us-"] {
            #expect(!UpstreamEndpoint.isRegionName(bad))
        }
    }
}
