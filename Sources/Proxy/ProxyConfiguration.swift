/// Everything the proxy needs to run, resolved from the command line, the environment and the
/// configuration file.
public struct ProxyConfiguration: Sendable {
    /// The address the SQS listener binds.
    public var listenHost: String
    /// The port the SQS listener binds (0 picks a free one).
    public var listenPort: Int
    /// The AWS region requests are signed for.
    public var region: String
    /// The SQS endpoint requests are forwarded to.
    public var sqsEndpoint: UpstreamEndpoint
    /// The S3 endpoint payloads are stored at.
    public var s3Endpoint: UpstreamEndpoint
    /// The bucket payloads are stored in (used by the extended-client behaviour).
    public var bucket: String?
    /// How long to wait for an upstream connection, in seconds.
    public var upstreamConnectTimeout: Double
    /// How long to wait for an upstream response, in seconds; must be well above 20 for long polls.
    public var upstreamReadTimeout: Double
    /// The largest request body the proxy accepts, in bytes.
    public var maxRequestBodySize: Int

    /// The default SQS listener port.
    public static let defaultListenPort = 9324

    public init(
        listenHost: String = "127.0.0.1", listenPort: Int = defaultListenPort, region: String,
        sqsEndpoint: UpstreamEndpoint? = nil, s3Endpoint: UpstreamEndpoint? = nil, bucket: String? = nil,
        upstreamConnectTimeout: Double = 5, upstreamReadTimeout: Double = 60,
        maxRequestBodySize: Int = 16 * 1024 * 1024
    ) {
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.region = region
        self.sqsEndpoint = sqsEndpoint ?? .aws(service: "sqs", region: region)
        self.s3Endpoint = s3Endpoint ?? .aws(service: "s3", region: region)
        self.bucket = bucket
        self.upstreamConnectTimeout = upstreamConnectTimeout
        self.upstreamReadTimeout = upstreamReadTimeout
        self.maxRequestBodySize = maxRequestBodySize
    }
}
