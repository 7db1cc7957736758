import AWSCredentialChain
import AWSSigning
import ExtendedPayload
import Yams

/// A setting that could not be used, with what was wrong.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// Resolves ``ProxyConfiguration`` from its three sources. For every setting the command line wins,
/// then the environment (`SQS_PROXY_<NAME>`), then the configuration file, then the default. The
/// region falls back further to `AWS_REGION`, `AWS_DEFAULT_REGION` and the profile's `region`.
public struct ConfigurationResolver: Sendable {
    /// A setting: its name in the file and on the command line (`--name`), and its variable.
    public struct Setting: Sendable {
        public var name: String
        public var environmentVariable: String {
            "SQS_PROXY_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
        }
    }

    /// The names of every setting, as the file and the command line spell them.
    public static let settingNames = [
        "listen", "admin-listen", "region", "sqs-endpoint", "s3-endpoint", "sts-endpoint", "bucket",
        "payload-buckets", "client-credentials",
        "upstream-connect-timeout", "upstream-read-timeout", "upstream-idle-timeout", "upstream-max-attempts",
        "ca-bundle", "client-idle-timeout", "shutdown-grace-period", "max-request-size", "log-level", "log-format",
        "threshold",
        "always-through-s3",
        "legacy-attribute-name", "retain-payloads", "s3-key-prefix", "sse", "sse-kms-key-id", "s3-acl",
        "ignore-payload-not-found", "max-payload-size", "part-size", "parts-in-flight",
    ]

    /// The variable that sets `name` (`sqs-endpoint` → `SQS_PROXY_SQS_ENDPOINT`).
    public static func environmentVariable(for name: String) -> String {
        Setting(name: name).environmentVariable
    }

    public var commandLine: [String: String]
    public var environment: [String: String]
    public var file: [String: String]

    public init(commandLine: [String: String], environment: [String: String], file: [String: String]) {
        self.commandLine = commandLine
        self.environment = environment
        self.file = file
    }

    /// The value of `name` from the first source that has it.
    public func value(_ name: String) -> String? {
        commandLine[name] ?? environment[Self.environmentVariable(for: name)] ?? file[name]
    }

    /// The resolved configuration, or the first setting that is wrong.
    public func resolve(profileRegion: String? = nil) throws(ConfigurationError) -> ProxyConfiguration {
        guard
            let region = value("region") ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"]
                ?? profileRegion, !region.isEmpty
        else {
            throw ConfigurationError(
                "No region: pass --region, or set SQS_PROXY_REGION, AWS_REGION or AWS_DEFAULT_REGION.")
        }
        guard UpstreamEndpoint.isRegionName(region) else {
            throw ConfigurationError(
                "region must be lowercase letters and digits in groups joined by hyphens (us-east-1): \(region)")
        }
        var configuration = ProxyConfiguration(region: region)
        if let listen = value("listen") {
            (configuration.listenHost, configuration.listenPort) = try Self.hostAndPort(listen, setting: "listen")
        }
        if let listen = value("admin-listen") {
            (configuration.adminHost, configuration.adminPort) = try Self.hostAndPort(listen, setting: "admin-listen")
        }
        if let url = value("sqs-endpoint") {
            configuration.sqsEndpoint = try Self.endpoint(url, setting: "sqs-endpoint")
        }
        if let url = value("s3-endpoint") { configuration.s3Endpoint = try Self.endpoint(url, setting: "s3-endpoint") }
        if let url = value("sts-endpoint") ?? environment["AWS_ENDPOINT_URL_STS"] {
            configuration.stsEndpoint = try Self.endpoint(url, setting: "sts-endpoint")
        }
        if let bucket = value("bucket"), !bucket.isEmpty {
            guard PayloadBuckets.isBucketName(bucket) else {
                throw ConfigurationError("bucket must be an S3 bucket name: \(bucket)")
            }
            configuration.bucket = bucket
        }
        try resolvePayloadBuckets(&configuration)
        if let path = value("client-credentials"), !path.isEmpty { configuration.clientCredentials = path }
        if let text = value("upstream-connect-timeout") {
            configuration.upstreamConnectTimeout = try Self.seconds(text, setting: "upstream-connect-timeout")
        }
        if let text = value("upstream-read-timeout") {
            configuration.upstreamReadTimeout = try Self.seconds(text, setting: "upstream-read-timeout")
        }
        if let text = value("upstream-idle-timeout") {
            configuration.upstreamIdleTimeout = try Self.seconds(text, setting: "upstream-idle-timeout")
        }
        if let text = value("upstream-max-attempts") {
            guard let attempts = Int(text), (1...10).contains(attempts) else {
                throw ConfigurationError("upstream-max-attempts must be a whole number from 1 to 10: \(text)")
            }
            configuration.upstreamMaxAttempts = attempts
        }
        if let path = value("ca-bundle") ?? environment["AWS_CA_BUNDLE"], !path.isEmpty {
            configuration.caBundle = path
        }
        if let text = value("client-idle-timeout") {
            configuration.clientIdleTimeout = try Self.seconds(text, setting: "client-idle-timeout")
        }
        if let text = value("shutdown-grace-period") {
            configuration.shutdownGracePeriod = try Self.seconds(text, setting: "shutdown-grace-period")
        }
        try resolveExtended(&configuration)
        if let text = value("max-request-size") {
            guard let bytes = Int(text), bytes >= 1024 else {
                throw ConfigurationError("max-request-size must be a whole number of bytes, at least 1024: \(text)")
            }
            configuration.maxRequestBodySize = bytes
        }
        return configuration
    }

    /// `payload-buckets`: `*` or names; by default the bucket alone. It must hold the bucket, or the
    /// proxy could not read back what it stores.
    private func resolvePayloadBuckets(_ configuration: inout ProxyConfiguration) throws(ConfigurationError) {
        if let text = value("payload-buckets") {
            do {
                configuration.payloadBuckets = try PayloadBuckets(parsing: text)
            } catch {
                throw ConfigurationError("payload-buckets: \(error.description)")
            }
        } else {
            configuration.payloadBuckets = PayloadBuckets(configuration.bucket.map { [$0] } ?? [])
        }
        if let bucket = configuration.bucket, !configuration.payloadBuckets.allowsBucket(bucket) {
            throw ConfigurationError(
                "payload-buckets must include the bucket \(bucket): \(configuration.payloadBuckets)")
        }
    }

    private func resolveExtended(_ configuration: inout ProxyConfiguration) throws(ConfigurationError) {
        if let text = value("threshold") {
            guard let bytes = Int(text), (0...1_048_576).contains(bytes) else {
                throw ConfigurationError("threshold must be a whole number of bytes from 0 to 1048576: \(text)")
            }
            configuration.threshold = bytes
        }
        if let text = value("max-payload-size") {
            guard let bytes = Int(text), bytes >= 1 else {
                throw ConfigurationError("max-payload-size must be a positive whole number of bytes: \(text)")
            }
            configuration.maxPayloadSize = bytes
        }
        if let text = value("part-size") {
            guard let bytes = Int(text), bytes >= 5 * 1024 * 1024, bytes <= 5 * 1024 * 1024 * 1024 else {
                throw ConfigurationError("part-size must be a whole number of bytes from 5 MiB to 5 GiB: \(text)")
            }
            configuration.partSize = bytes
        }
        if let text = value("parts-in-flight") {
            guard let count = Int(text), (1...64).contains(count) else {
                throw ConfigurationError("parts-in-flight must be a whole number from 1 to 64: \(text)")
            }
            configuration.partsInFlight = count
        }
        configuration.alwaysThroughS3 = try flag("always-through-s3")
        configuration.legacyAttributeName = try flag("legacy-attribute-name")
        configuration.retainPayloads = try flag("retain-payloads")
        configuration.ignorePayloadNotFound = try flag("ignore-payload-not-found")
        if let prefix = value("s3-key-prefix") {
            do {
                _ = try PayloadKeyGenerator(prefix: prefix)
            } catch {
                throw ConfigurationError("s3-key-prefix: \(error.description)")
            }
            configuration.s3KeyPrefix = prefix
        }
        if let sse = value("sse"), !sse.isEmpty {
            guard sse == "aws:kms" || sse == "AES256" else {
                throw ConfigurationError("sse must be aws:kms or AES256: \(sse)")
            }
            configuration.serverSideEncryption = sse
        }
        if let keyID = value("sse-kms-key-id"), !keyID.isEmpty {
            guard configuration.serverSideEncryption == "aws:kms" else {
                throw ConfigurationError("sse-kms-key-id needs sse aws:kms.")
            }
            configuration.kmsKeyID = keyID
        }
        if let acl = value("s3-acl"), !acl.isEmpty {
            let canned: Set = [
                "private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read",
                "bucket-owner-read", "bucket-owner-full-control",
            ]
            guard canned.contains(acl) else { throw ConfigurationError("s3-acl must be a canned ACL: \(acl)") }
            configuration.cannedACL = acl
        }
    }

    /// A switch: absent is false; `true`/`false`, `1`/`0`, `yes`/`no` otherwise.
    private func flag(_ name: String) throws(ConfigurationError) -> Bool {
        guard let text = value(name)?.lowercased() else { return false }
        switch text {
        case "true", "1", "yes", "on": return true
        case "false", "0", "no", "off", "": return false
        default: throw ConfigurationError("\(name) must be true or false: \(text)")
        }
    }

    /// Parses `HOST:PORT`, `[V6]:PORT` or `:PORT` (loopback).
    public static func hostAndPort(_ text: String, setting: String) throws(ConfigurationError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ConfigurationError("\(setting) must be HOST:PORT: \(text)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    static func endpoint(_ text: String, setting: String) throws(ConfigurationError) -> UpstreamEndpoint {
        guard let endpoint = UpstreamEndpoint(text) else {
            throw ConfigurationError(
                "\(setting) must be an http:// or https:// URL with a host name or address: \(text)")
        }
        return endpoint
    }

    static func seconds(_ text: String, setting: String) throws(ConfigurationError) -> Double {
        guard let seconds = Double(text), seconds > 0, seconds.isFinite else {
            throw ConfigurationError("\(setting) must be a positive number of seconds: \(text)")
        }
        return seconds
    }

    /// Reads a YAML configuration file's top-level settings as strings.
    public static func parseFile(_ text: String) throws(ConfigurationError) -> [String: String] {
        let document: Any?
        do {
            document = try Yams.load(yaml: text)
        } catch {
            throw ConfigurationError("The configuration file is not valid YAML: \(error)")
        }
        guard let document else { return [:] }
        guard let mapping = document as? [String: Any] else {
            throw ConfigurationError("The configuration file must be a mapping of setting names to values.")
        }
        var settings: [String: String] = [:]
        for (key, value) in mapping {
            guard settingNames.contains(key) else {
                throw ConfigurationError("Unknown setting in the configuration file: \(key)")
            }
            switch value {
            case let string as String: settings[key] = string
            case let number as Int: settings[key] = String(number)
            case let number as Double: settings[key] = String(number)
            case let flag as Bool: settings[key] = String(flag)
            default: throw ConfigurationError("The setting \(key) must be a single value.")
            }
        }
        return settings
    }
}
