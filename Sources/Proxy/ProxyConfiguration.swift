import AWSCredentialChain
import AWSSigning
import ExtendedPayload

/// Everything the proxy needs to run, resolved from the command line, the environment and the
/// configuration file.
public struct ProxyConfiguration: Sendable {
    /// The address the SQS listener binds.
    public var listenHost: String
    /// The port the SQS listener binds (0 picks a free one).
    public var listenPort: Int
    /// The address the admin listener (`/healthz`, `/readyz`, `/metrics`) binds.
    public var adminHost: String
    /// The port the admin listener binds (0 picks a free one).
    public var adminPort: Int
    /// The AWS region requests are signed for.
    public var region: String
    /// The SQS endpoint requests are forwarded to.
    public var sqsEndpoint: UpstreamEndpoint
    /// The S3 endpoint payloads are stored at.
    public var s3Endpoint: UpstreamEndpoint
    /// The STS endpoint of web identity and assumed-role credentials.
    public var stsEndpoint: UpstreamEndpoint
    /// The bucket payloads are stored in (used by the extended-client behaviour).
    public var bucket: String?
    /// The buckets whose objects the proxy reads and deletes for clients (default: `bucket` alone).
    public var payloadBuckets: PayloadBuckets
    /// A shared-credentials file of the access keys clients must sign with; nil: clients are not
    /// authenticated.
    public var clientCredentials: String?
    /// How long to wait for an upstream connection, in seconds.
    public var upstreamConnectTimeout: Double
    /// How long to wait for an upstream response, in seconds; must be well above 20 for long polls.
    public var upstreamReadTimeout: Double
    /// How long an unused upstream connection stays in the pool, in seconds.
    public var upstreamIdleTimeout: Double
    /// Attempts of an upstream call in all (1: no retries).
    public var upstreamMaxAttempts: Int
    /// A PEM file of certificate authorities to trust upstream instead of the system's.
    public var caBundle: String?
    /// How long a client connection may stay idle between requests before it is closed, in seconds.
    public var clientIdleTimeout: Double
    /// How long requests in progress may take to finish after SIGTERM, in seconds.
    public var shutdownGracePeriod: Double
    /// The largest request body held in memory, in bytes: every request but a send whose bodies
    /// stream (those may carry `maxPayloadSize` bytes plus 1 MiB).
    public var maxRequestBodySize: Int
    /// Messages larger than this (body plus attributes, in bytes) go through S3.
    public var threshold: Int
    /// Every message goes through S3, whatever its size.
    public var alwaysThroughS3: Bool
    /// Write the legacy reserved attribute `SQSLargePayloadSize` instead of `ExtendedPayloadSize`.
    public var legacyAttributeName: Bool
    /// Keep S3 objects when their messages are deleted.
    public var retainPayloads: Bool
    /// Prefix of the S3 keys of payloads.
    public var s3KeyPrefix: String
    /// Server-side encryption of stored payloads (`aws:kms`).
    public var serverSideEncryption: String?
    /// The KMS key of `aws:kms` encryption.
    public var kmsKeyID: String?
    /// A canned ACL for stored payloads.
    public var cannedACL: String?
    /// Delete a received message whose payload is missing, instead of failing the receive.
    public var ignorePayloadNotFound: Bool
    /// The largest message body accepted, in bytes.
    public var maxPayloadSize: Int
    /// Payloads larger than this go to S3 in a multipart upload of parts this size (at least 5 MiB).
    public var partSize: Int
    /// How many parts of one payload upload at once.
    public var partsInFlight: Int

    /// The default SQS listener port.
    public static let defaultListenPort = 9324
    /// The default admin listener port.
    public static let defaultAdminPort = 9325
    /// The default threshold, the libraries' 256 KiB.
    public static let defaultThreshold = 262_144
    /// The default largest body: the libraries' 2 GiB.
    public static let defaultMaxPayloadSize = 2 * 1024 * 1024 * 1024
    /// The default largest request held in memory: room for any SQS request however it is escaped.
    public static let defaultMaxRequestBodySize = 16 * 1024 * 1024

    public init(
        listenHost: String = "127.0.0.1", listenPort: Int = defaultListenPort, adminHost: String = "127.0.0.1",
        adminPort: Int = defaultAdminPort, region: String, sqsEndpoint: UpstreamEndpoint? = nil,
        s3Endpoint: UpstreamEndpoint? = nil, stsEndpoint: UpstreamEndpoint? = nil, bucket: String? = nil,
        payloadBuckets: PayloadBuckets? = nil, clientCredentials: String? = nil,
        upstreamConnectTimeout: Double = 5, upstreamReadTimeout: Double = 60, upstreamIdleTimeout: Double = 30,
        upstreamMaxAttempts: Int = 3, caBundle: String? = nil, clientIdleTimeout: Double = 60,
        shutdownGracePeriod: Double = 25,
        maxRequestBodySize: Int = defaultMaxRequestBodySize,
        threshold: Int = defaultThreshold, alwaysThroughS3: Bool = false, legacyAttributeName: Bool = false,
        retainPayloads: Bool = false, s3KeyPrefix: String = "", serverSideEncryption: String? = nil,
        kmsKeyID: String? = nil, cannedACL: String? = nil, ignorePayloadNotFound: Bool = false,
        maxPayloadSize: Int = defaultMaxPayloadSize, partSize: Int = 8 * 1024 * 1024, partsInFlight: Int = 4
    ) {
        self.listenHost = listenHost
        self.listenPort = listenPort
        self.adminHost = adminHost
        self.adminPort = adminPort
        self.region = region
        self.sqsEndpoint = sqsEndpoint ?? .aws(service: "sqs", region: region)
        self.s3Endpoint = s3Endpoint ?? .aws(service: "s3", region: region)
        self.stsEndpoint = stsEndpoint ?? .aws(service: "sts", region: region)
        self.bucket = bucket
        self.payloadBuckets = payloadBuckets ?? PayloadBuckets(bucket.map { [$0] } ?? [])
        self.clientCredentials = clientCredentials
        self.upstreamConnectTimeout = upstreamConnectTimeout
        self.upstreamReadTimeout = upstreamReadTimeout
        self.upstreamIdleTimeout = upstreamIdleTimeout
        self.upstreamMaxAttempts = upstreamMaxAttempts
        self.caBundle = caBundle
        self.clientIdleTimeout = clientIdleTimeout
        self.shutdownGracePeriod = shutdownGracePeriod
        self.maxRequestBodySize = maxRequestBodySize
        self.threshold = threshold
        self.alwaysThroughS3 = alwaysThroughS3
        self.legacyAttributeName = legacyAttributeName
        self.retainPayloads = retainPayloads
        self.s3KeyPrefix = s3KeyPrefix
        self.serverSideEncryption = serverSideEncryption
        self.kmsKeyID = kmsKeyID
        self.cannedACL = cannedACL
        self.ignorePayloadNotFound = ignorePayloadNotFound
        self.maxPayloadSize = maxPayloadSize
        self.partSize = partSize
        self.partsInFlight = partsInFlight
    }
}
