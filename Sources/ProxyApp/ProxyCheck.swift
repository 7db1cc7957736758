import AWSCredentialChain
import AWSSigning
import Logging
import NIOCore
import NIOPosix
import ObjectStore
import Proxy
import SQSTransport
import SQSWire
import ServerEdge
import Upstream

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// `sqs-extended-proxy check`: the settings as the server would resolve them, each with its source,
/// then everything the proxy needs upstream tried once: credentials, STS, the bucket and SQS. One
/// line per setting and per check; a failed check's line names what failed and why. Never prints a
/// secret: the access key ID is shown by its last four characters.
public struct ProxyCheck: Sendable {
    public var resolver: ConfigurationResolver
    /// The process environment (credentials, profiles).
    public var environment: [String: String]
    /// The queue to look up with GetQueueUrl; nil: SQS is checked with ListQueues.
    public var queue: String?

    public init(resolver: ConfigurationResolver, environment: [String: String], queue: String?) {
        self.resolver = resolver
        self.environment = environment
        self.queue = queue
    }

    /// Runs the checks, writing each line with `print`; whether all passed.
    public mutating func run(print: @Sendable (String) -> Void) async -> Bool {
        let configuration: ProxyConfiguration
        var profileRegion: String?
        do {
            let files = try SharedConfigFiles.load(environment: environment)
            let profile = environment["AWS_PROFILE"] ?? "default"
            profileRegion = files.region(profile: profile)
            resolver.profile = files.settings(profile: profile) ?? [:]
            configuration = try resolver.resolve(profileRegion: profileRegion)
        } catch {
            print("FAIL settings: \(error)")
            return false
        }
        print("version: \(ProxyVersion.current)")
        for line in settingLines(configuration, profileRegion: profileRegion) { print(line) }
        for line in configuration.tracing?.lines ?? [] { print(line) }
        let caller: UpstreamCaller
        do {
            caller = try ProxyRuntime.makeCaller(configuration)
        } catch {
            print("FAIL upstream client: \(error)")
            return false
        }
        let passed = await checkUpstreams(configuration, caller: caller, print: print)
        try? await caller.shutdown()
        return passed
    }

    /// `setting NAME = VALUE (SOURCE)` for every setting, `none` for a setting without a value; then
    /// `egress …` lines for the forward proxies and the hosts reached without them.
    func settingLines(_ configuration: ProxyConfiguration, profileRegion: String?) -> [String] {
        let settings = Setting.all.map { setting in
            var source = resolver.lookup(setting.name)?.source.rawValue ?? "default"
            if setting.name == "region" && source == "default" && profileRegion != nil { source = "profile" }
            if setting.name.hasSuffix("-endpoint") && setting.name != "use-fips-endpoint"
                && setting.name != "use-dualstack-endpoint" && source == "default"
            {
                let forms = [
                    configuration.useFIPSEndpoint ? "FIPS" : nil,
                    configuration.useDualStackEndpoint ? "dual-stack" : nil,
                ]
                source = "default for \(configuration.region)" + forms.compactMap { $0.map { ", " + $0 } }.joined()
            }
            return "setting \(setting.name) = \(setting.show(configuration) ?? "none") (\(source))"
        }
        let egress = configuration.egressProxies
        return settings + [
            "egress https-proxy = " + (egress.https.map { "\($0.proxy) (\($0.variable))" } ?? "none"),
            "egress http-proxy = " + (egress.http.map { "\($0.proxy) (\($0.variable))" } ?? "none"),
            "egress no-proxy = " + (egress.exclusions.isEmpty ? "none" : egress.exclusions.joined(separator: ",")),
        ]
    }

    private func checkUpstreams(_ configuration: ProxyConfiguration, caller: UpstreamCaller, print: (String) -> Void)
        async -> Bool
    {
        let timeout = configuration.upstreamReadTimeout.timeAmount
        let sts = STSClient(
            endpoint: configuration.stsEndpoint, region: configuration.region, http: caller, timeout: timeout)
        let provider: any CredentialProvider
        let credentials: AWSCredentials
        do {
            provider = try await DefaultCredentialChain(
                environment: environment, http: caller, sts: sts,
                logger: Logger(label: "check", factory: { _ in SwiftLogNoOpLogHandler() })
            ).resolve()
            credentials = try await provider.credentials()
        } catch {
            print("FAIL credentials: \(error)")
            return false
        }
        print("ok   credentials: \(provider.name), access key ID …\(credentials.accessKeyID.suffix(4))")
        var passed = true
        do {
            let identity = try await sts.callerIdentity(with: credentials)
            print("ok   sts: \(identity.arn) (account \(identity.account)) at \(configuration.stsEndpoint)")
        } catch {
            print("FAIL sts: GetCallerIdentity at \(configuration.stsEndpoint): \(error)")
            passed = false
        }
        passed = await checkBucket(configuration, caller: caller, credentials: provider, print: print) && passed
        passed = await checkSQS(configuration, caller: caller, credentials: provider, print: print) && passed
        return passed
    }

    /// Writes, reads back and deletes a probe object under the key prefix.
    private func checkBucket(
        _ configuration: ProxyConfiguration, caller: UpstreamCaller, credentials: any CredentialProvider,
        print: (String) -> Void
    ) async -> Bool {
        guard let bucket = configuration.bucket else {
            print("ok   bucket: none set, nothing is offloaded")
            return true
        }
        let store = S3ObjectStore(
            caller: caller, endpoint: configuration.s3Endpoint, region: configuration.region, credentials: credentials,
            timeout: configuration.upstreamReadTimeout.timeAmount)
        let key = configuration.s3KeyPrefix + "sqs-extended-proxy-check-" + UUID().uuidString.lowercased()
        let probe = "sqs-extended-proxy check \(key)"
        let at = "bucket \(bucket) at \(configuration.s3Endpoint)"
        var step = "write"
        do throws(ObjectStoreError) {
            let options = S3ObjectStore.PutOptions(
                serverSideEncryption: configuration.serverSideEncryption, kmsKeyID: configuration.kmsKeyID,
                cannedACL: configuration.cannedACL)
            try await store.put(bucket: bucket, key: key, body: ByteBuffer(string: probe), options: options)
            step = "read"
            let read = try await store.get(bucket: bucket, key: key, maxSize: 4096)
            guard String(buffer: read) == probe else {
                try? await store.delete(bucket: bucket, key: key)
                print("FAIL \(at): read back \(read.readableBytes) bytes that are not the probe object \(key)")
                return false
            }
            step = "delete"
            try await store.delete(bucket: bucket, key: key)
        } catch {
            if step == "read" { try? await store.delete(bucket: bucket, key: key) }
            print("FAIL \(at): could not \(step) the probe object \(key): \(error.detail)")
            return false
        }
        print("ok   \(at): wrote, read and deleted \(key)")
        return true
    }

    /// ListQueues, or GetQueueUrl of the queue named.
    private func checkSQS(
        _ configuration: ProxyConfiguration, caller: UpstreamCaller, credentials: any CredentialProvider,
        print: (String) -> Void
    ) async -> Bool {
        let endpoint = configuration.sqsEndpoint
        let transport: SQSTransport
        do {
            transport = try ProxyRuntime.makeTransport(configuration, group: MultiThreadedEventLoopGroup.singleton)
        } catch {
            print("FAIL sqs at \(endpoint): \(error)")
            return false
        }
        let upstream = SQSUpstream(
            caller: caller, transport: transport, endpoint: endpoint, region: configuration.region,
            credentials: credentials, readTimeout: configuration.upstreamReadTimeout.timeAmount)
        let (action, input): (SQSAction, JSONValue) =
            queue.map { (.getQueueUrl, .object(["QueueName": .string($0)])) }
            ?? (.listQueues, .object(["MaxResults": .integer(1)]))
        let outcome = await upstream.callResult(action, input: input)
        await transport.shutdown()
        switch outcome {
        case .success(let result):
            let found =
                result["QueueUrl"]?.stringValue ?? "\(result["QueueUrls"]?.arrayValue?.count ?? 0) queue(s) listed"
            print("ok   sqs: \(action.rawValue) at \(endpoint): \(found)")
            return true
        case .failure(let error):
            print("FAIL sqs: \(action.rawValue) at \(endpoint): \(error.shape): \(error.message)")
            return false
        }
    }
}
