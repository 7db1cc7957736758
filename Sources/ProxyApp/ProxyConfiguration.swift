import AWSSigning
import ExtendedPayload
import Logging
import NIOCore
import ObjectStore
import Proxy
import RequestLimits
import ServerEdge
import TextCoding
import Upstream

/// Everything the proxy needs to run, resolved from the command line, the environment and the
/// configuration file (``ConfigurationResolver``, through the table of ``Setting/all``). Each
/// property holds its default.
public struct ProxyConfiguration: Sendable {
    /// The address the SQS listener binds.
    public var listenHost = "127.0.0.1"
    /// The port the SQS listener binds (0 picks a free one).
    public var listenPort = defaultListenPort
    /// The address the admin listener (`/healthz`, `/readyz`, `/metrics`) binds.
    public var adminHost = "127.0.0.1"
    /// The port the admin listener binds (0 picks a free one).
    public var adminPort = defaultAdminPort
    /// The AWS region requests are signed for.
    public var region: String
    /// The SQS endpoint requests are forwarded to.
    public var sqsEndpoint: UpstreamEndpoint
    /// The S3 endpoint payloads are stored at.
    public var s3Endpoint: UpstreamEndpoint
    /// The STS endpoint of web identity and assumed-role credentials.
    public var stsEndpoint: UpstreamEndpoint
    /// The origin of the queue URLs given to clients; nil: the origin each client reached the proxy at.
    public var advertisedOrigin: String?
    /// Give clients the queue URLs SQS returns, not URLs that point at the proxy.
    public var upstreamQueueURLs = false
    /// The forward proxies of upstream calls, from `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`.
    public var egressProxies = EgressProxies()
    /// Tracing, from the OpenTelemetry variables (`OTEL_*`); nil: off.
    public var tracing: TracingSettings?
    /// The bucket payloads are stored in (used by the extended-client behaviour).
    public var bucket: String?
    /// The buckets whose objects the proxy reads and deletes for clients (default: `bucket` alone).
    public var payloadLocations: PayloadLocations
    /// A shared-credentials file of the access keys clients must sign with; nil: clients are not
    /// authenticated.
    public var clientCredentials: String?
    /// How long to wait for an upstream connection.
    public var upstreamConnectTimeout: Duration = .seconds(5)
    /// How long to wait for an upstream response; must be well above 20 s for long polls.
    public var upstreamReadTimeout: Duration = .seconds(60)
    /// How long an unused upstream connection stays in the pool.
    public var upstreamIdleTimeout: Duration = .seconds(30)
    /// Connections to SQS per event loop for calls that do not long-poll; more calls wait.
    public var upstreamMaxConnections = 64
    /// Attempts of an upstream call in all (1: no retries).
    public var upstreamMaxAttempts = 3
    /// A PEM file of certificate authorities to trust upstream instead of the system's.
    public var caBundle: String?
    /// Client connections served at once; more wait in the listener's backlog until one closes.
    public var maxConnections = 1024
    /// Admin listener connections served at once: probes and scrapers get through while slow
    /// clients hold some.
    public var adminMaxConnections = 512
    /// The largest request head (request line and headers), in bytes; a larger one gets a 431.
    public var maxRequestHeadSize = 64 * 1024
    /// How long a request head may take to arrive once its first byte did (a client trickling its
    /// headers is closed).
    public var requestHeadTimeout: Duration = .seconds(10)
    /// How long a request body may stop arriving (while the proxy waits for it) before the
    /// connection is closed and what the request started in S3 aborted.
    public var requestBodyTimeout: Duration = .seconds(20)
    /// How long a client connection may stay idle between requests before it is closed.
    public var clientIdleTimeout: Duration = .seconds(60)
    /// How long requests in progress may take to finish after SIGTERM.
    public var shutdownGracePeriod: Duration = .seconds(25)
    /// The largest request body held in memory, in bytes: every request but a send whose bodies
    /// stream (whose bodies are limited by `maxPayloadSize`, unescaped).
    public var maxRequestBodySize = defaultMaxRequestBodySize
    /// The bytes of request and response bodies held in memory across all requests; past it, new
    /// requests get a 503.
    public var memoryBudget = 128 * 1024 * 1024
    /// The level of the log lines written.
    public var logLevel = Logger.Level.info
    /// How log lines are written.
    public var logFormat = LineLogHandler.Format.text
    /// Messages larger than this (body plus attributes, in bytes) go through S3.
    public var threshold = defaultThreshold
    /// The threshold is each queue's `MaximumMessageSize` (`--threshold auto`); `threshold` is then
    /// SQS's largest message, which decides whether a send streams.
    public var thresholdFollowsQueue = false
    /// Every message goes through S3, whatever its size.
    public var alwaysThroughS3 = false
    /// Write the legacy reserved attribute `SQSLargePayloadSize` instead of `ExtendedPayloadSize`.
    public var legacyAttributeName = false
    /// Keep S3 objects when their messages are deleted.
    public var retainPayloads = false
    /// Prefix of the S3 keys of payloads.
    public var s3KeyPrefix = ""
    /// Server-side encryption of stored payloads (`aws:kms`, `AES256`).
    public var serverSideEncryption: String?
    /// The KMS key of `aws:kms` encryption.
    public var kmsKeyID: String?
    /// A canned ACL for stored payloads.
    public var cannedACL: String?
    /// Delete a received message whose payload is missing, instead of failing the receive.
    public var ignorePayloadNotFound = false
    /// The largest message body accepted, in bytes.
    public var maxPayloadSize = defaultMaxPayloadSize
    /// Payloads larger than this go to S3 in a multipart upload of parts this size (at least 5 MiB).
    public var partSize = 8 * 1024 * 1024
    /// How many parts of one payload upload at once.
    public var partsInFlight = 4
    /// Default AWS endpoints are the FIPS ones.
    public var useFIPSEndpoint = false
    /// Default AWS endpoints are the dual-stack (IPv4 and IPv6) ones.
    public var useDualStackEndpoint = false
    /// Payloads larger than this are read from S3 in ranges this size, several at once; 0: in one GET.
    public var getRangeSize = 1024 * 1024
    /// How many ranges of one payload are read at once.
    public var getRangesInFlight = 8

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

    /// Every size limit of a request, from these settings.
    var requestLimits: RequestLimits {
        RequestLimits(
            threshold: threshold, maxPayloadSize: maxPayloadSize, maxHeldRequestSize: maxRequestBodySize,
            partSize: bucket == nil ? nil : max(partSize, MultipartUploader.minimumPartSize),
            partsInFlight: max(partsInFlight, 1), rangeSize: getRangeSize > 0 ? getRangeSize : nil,
            rangesInFlight: getRangesInFlight)
    }

    /// The settings of the extended client's behaviour.
    func extendedClientSettings() throws(ConfigurationError) -> ExtendedClientSettings {
        let keys: PayloadKeyGenerator
        do throws(PayloadKeyError) {
            keys = try PayloadKeyGenerator(prefix: s3KeyPrefix)
        } catch {
            throw ConfigurationError("s3-key-prefix: \(error.description)")
        }
        return ExtendedClientSettings(
            policy: OffloadPolicy(
                threshold: threshold, alwaysThroughS3: alwaysThroughS3,
                reservedAttributeName: OffloadPolicy.reservedAttributeNames[legacyAttributeName ? 1 : 0],
                maxPayloadSize: maxPayloadSize, canOffload: bucket != nil),
            bucket: bucket, keys: keys,
            putOptions: S3ObjectStore.PutOptions(
                serverSideEncryption: serverSideEncryption, kmsKeyID: kmsKeyID, cannedACL: cannedACL),
            retainPayloads: retainPayloads, ignorePayloadNotFound: ignorePayloadNotFound,
            payloadLocations: payloadLocations, thresholdFollowsQueue: thresholdFollowsQueue)
    }

    /// Where queue URLs point: at SQS in requests, at the proxy in answers (unless `upstreamQueueURLs`).
    var queueURLMap: QueueURLMap {
        QueueURLMap(upstream: sqsEndpoint, advertisedOrigin: advertisedOrigin, rewritesAnswers: !upstreamQueueURLs)
    }

    /// The defaults for `region`: AWS endpoints of that region, with `bucket` (alone among the
    /// payload buckets) if one is given.
    public init(region: String, bucket: String? = nil) {
        self.region = region
        sqsEndpoint = .aws(service: "sqs", region: region)
        s3Endpoint = .aws(service: "s3", region: region)
        stsEndpoint = .aws(service: "sts", region: region)
        self.bucket = bucket
        payloadLocations = PayloadLocations(buckets: bucket.map { [$0] } ?? [])
    }

    /// Whether the SQS upstream is this proxy's own listener: the same port on the same host, or on
    /// any loopback host when the listener binds every interface or loopback.
    var sqsIsOwnListener: Bool {
        guard sqsEndpoint.port == listenPort else { return false }
        let upstream = sqsEndpoint.host.lowercased().trimmed { $0 == "[" || $0 == "]" }
        let listen = listenHost.lowercased().trimmed { $0 == "[" || $0 == "]" }
        let local: Set = ["127.0.0.1", "localhost", "::1", "0.0.0.0", "::"]
        return upstream == listen || (local.contains(upstream) && local.contains(listen))
    }

    /// Where this proxy stores payloads: the bucket under the key prefix (none without a bucket).
    var ownPayloadLocations: PayloadLocations {
        PayloadLocations(bucket.map { [PayloadLocations.Location(bucket: $0, prefix: s3KeyPrefix)] } ?? [])
    }
}
