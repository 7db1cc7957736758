import AWSSigning
import ExtendedPayload
import Logging
import Proxy
import ServerEdge

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One setting of the proxy: its name on the command line (`--name`), in the environment
/// (`SQS_PROXY_NAME`) and in the configuration file (`name:`), its help, and what its text does to
/// the configuration. ``all`` is the one table of them: a new setting is a property of
/// ``ProxyConfiguration`` and a line here.
///
/// The table is read by a resolver of the proxy's own rather than swift-configuration's providers:
/// the file must refuse unknown keys (a typo is an error, not a silent default), the AWS SDKs'
/// variables stand in for some settings after the proxy's own sources, a setting's source must be
/// told (for a `check` command), and `--help` is generated from the same lines.
public struct Setting: Sendable {
    /// The setting's name, as the command line and the file spell it.
    public let name: String
    /// What the value looks like (`HOST:PORT`, `SECONDS`); nil for a switch, which the command line
    /// gives without a value and the environment and the file as `true` or `false`.
    public let placeholder: String?
    /// One line of help, with the default.
    public let help: String
    let apply: @Sendable (inout ProxyConfiguration, String) throws(ConfigurationError) -> Void
    /// The setting's value in a resolved configuration, as text; nil when it has none.
    public let show: @Sendable (ProxyConfiguration) -> String?

    /// The variable that sets it: `SQS_PROXY_` and the name in upper case, `-` as `_`.
    public var environmentVariable: String { Self.environmentVariable(for: name) }

    /// The variable that sets the setting `name` (`sqs-endpoint`: `SQS_PROXY_SQS_ENDPOINT`).
    public static func environmentVariable(for name: String) -> String {
        "SQS_PROXY_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 })
    }

    /// Whether the setting is a switch.
    public var isSwitch: Bool { placeholder == nil }

    init(
        _ name: String, _ placeholder: String?, _ help: String,
        show: @escaping @Sendable (ProxyConfiguration) -> String?,
        apply: @escaping @Sendable (inout ProxyConfiguration, String) throws(ConfigurationError) -> Void
    ) {
        self.name = name
        self.placeholder = placeholder
        self.help = help
        self.show = show
        self.apply = apply
    }

    /// The setting called `name`.
    public static func named(_ name: String) -> Setting? { all.first { $0.name == name } }

    /// Every setting, in the order `--help` lists them. The region is resolved first (the default
    /// endpoints depend on it); settings that depend on others are checked after all were applied.
    public static let all: [Setting] = [
        Setting(
            "listen", "HOST:PORT", "Address of the SQS listener (default 127.0.0.1:9324).",
            show: { address($0.listenHost, $0.listenPort) },
            apply: {
                config, text throws(ConfigurationError) in
                (config.listenHost, config.listenPort) = try hostAndPort(text, setting: "listen")
            }),
        Setting(
            "admin-listen", "HOST:PORT",
            "Address of the admin listener: /healthz, /readyz, /metrics (default 127.0.0.1:9325).",
            show: { address($0.adminHost, $0.adminPort) },
            apply: { config, text throws(ConfigurationError) in
                (config.adminHost, config.adminPort) = try hostAndPort(text, setting: "admin-listen")
            }),
        Setting(
            "region", "REGION",
            "AWS region to sign for (default AWS_REGION, AWS_DEFAULT_REGION, the profile's region).",
            show: { $0.region },
            apply: { config, text throws(ConfigurationError) in
                guard UpstreamEndpoint.isRegionName(text) else {
                    throw ConfigurationError(
                        "region must be lowercase letters and digits in groups joined by hyphens (us-east-1): \(text)")
                }
                config = ProxyConfiguration(region: text)
            }),
        Setting(
            "sqs-endpoint", "URL",
            "Upstream SQS (default https://sqs.REGION.amazonaws.com, or its FIPS or dual-stack form; never AWS_ENDPOINT_URL_SQS, which clients use to reach the proxy).",
            show: { $0.sqsEndpoint.description },
            apply: {
                config, text throws(ConfigurationError) in
                config.sqsEndpoint = try endpoint(text, setting: "sqs-endpoint")
            }),
        Setting(
            "s3-endpoint", "URL",
            "S3 for payloads (default AWS_ENDPOINT_URL_S3, then https://s3.REGION.amazonaws.com or its FIPS or dual-stack form; http:// uses path-style).",
            show: { $0.s3Endpoint.description },
            apply: { config, text throws(ConfigurationError) in
                config.s3Endpoint = try endpoint(text, setting: "s3-endpoint")
            }),
        Setting(
            "sts-endpoint", "URL",
            "STS for web identity and assumed roles (default AWS_ENDPOINT_URL_STS, then https://sts.REGION.amazonaws.com).",
            show: { $0.stsEndpoint.description },
            apply: { config, text throws(ConfigurationError) in
                config.stsEndpoint = try endpoint(text, setting: "sts-endpoint")
            }),
        Setting(
            "advertised-url", "URL",
            "Origin (http(s)://host[:port]) of the queue URLs given to clients (default: http:// and the Host the client sent).",
            show: { $0.advertisedOrigin },
            apply: { config, text throws(ConfigurationError) in
                guard !text.isEmpty else {
                    config.advertisedOrigin = nil
                    return
                }
                guard let origin = QueueURLMap.advertisedOrigin(text) else {
                    throw ConfigurationError("advertised-url must be http(s)://HOST[:PORT] without a path: \(text)")
                }
                config.advertisedOrigin = origin
            }),
        toggle(
            "upstream-queue-urls",
            "Give clients the queue URLs SQS returns instead of URLs that point at the proxy.",
            \.upstreamQueueURLs),
        Setting(
            "bucket", "NAME", "S3 bucket for offloaded payloads.", show: { $0.bucket },
            apply: {
                config, text throws(ConfigurationError) in
                guard !text.isEmpty else { return }
                guard PayloadLocations.isBucketName(text) else {
                    throw ConfigurationError("bucket must be an S3 bucket name: \(text)")
                }
                config.bucket = text
            }),
        Setting(
            "payload-buckets", "LIST",
            "Where the proxy reads and deletes payloads for clients: buckets or bucket/prefix, comma-separated; * for any bucket (default: the bucket with the key prefix).",
            show: { $0.payloadLocations.description },
            apply: { config, text throws(ConfigurationError) in
                do throws(PayloadLocationsError) {
                    config.payloadLocations = try PayloadLocations(parsing: text)
                } catch {
                    throw ConfigurationError("payload-buckets: \(error.description)")
                }
            }),
        Setting(
            "client-credentials", "FILE",
            "Shared-credentials file of the keys clients must sign with; read again when it changes (default: clients are not authenticated).",
            show: { $0.clientCredentials },
            apply: { config, text throws(ConfigurationError) in
                config.clientCredentials = text.isEmpty ? nil : text
            }),
        seconds(
            "upstream-connect-timeout", "Seconds to wait for an upstream connection (default 5).",
            \.upstreamConnectTimeout),
        seconds(
            "upstream-read-timeout",
            "Seconds to wait for an upstream answer; keep well above 20 for long polls (default 60).",
            \.upstreamReadTimeout),
        seconds(
            "upstream-idle-timeout", "Seconds an unused upstream connection stays in the pool (default 30).",
            \.upstreamIdleTimeout),
        number(
            "upstream-max-connections",
            "Keep-alive connections to SQS per event loop (one loop a core) for calls that do not long-poll; more calls wait in order; 1 to 10000 (default 64).",
            1...10000, \.upstreamMaxConnections),
        number(
            "upstream-max-attempts",
            "Attempts of an upstream call in all, retries with jittered backoff included; 1 to 10 (default 3).", 1...10,
            \.upstreamMaxAttempts),
        Setting(
            "ca-bundle", "FILE",
            "PEM certificate authorities to trust upstream (default AWS_CA_BUNDLE, then the system's).",
            show: { $0.caBundle },
            apply: { config, text throws(ConfigurationError) in
                config.caBundle = text.isEmpty ? nil : text
            }),
        number(
            "max-request-head-size",
            "Bytes of the largest request head (request line and headers); a larger one gets a 431 and its connection closes; 4096 to 1048576 (default 65536).",
            4096...1_048_576, \.maxRequestHeadSize),
        number(
            "max-connections",
            "Client connections served at once; more wait in the listener's backlog (512) until one closes; 1 to 1000000 (default 1024).",
            1...1_000_000, \.maxConnections),
        number(
            "admin-max-connections",
            "Admin listener connections served at once; more wait in its backlog (256) until one closes; 1 to 1000000 (default 512).",
            1...1_000_000, \.adminMaxConnections),
        seconds(
            "request-head-timeout",
            "Seconds a request head may take to arrive once its first byte did; a client trickling its headers is closed (default 10).",
            \.requestHeadTimeout),
        seconds(
            "request-body-timeout",
            "Seconds a request body may stop arriving, while the proxy waits for it, before the connection is closed and what it started in S3 aborted (default 20).",
            \.requestBodyTimeout),
        seconds(
            "client-idle-timeout",
            "Seconds a client connection may stay idle between requests before it is closed (default 60).",
            \.clientIdleTimeout),
        seconds(
            "shutdown-grace-period",
            "Seconds requests in progress (long polls included) may take to finish after SIGTERM (default 25).",
            \.shutdownGracePeriod),
        number(
            "max-request-size",
            "Largest request body held in memory, in bytes: every request but a send that streams (default 16777216).",
            1024...Int.max, \.maxRequestBodySize),
        number(
            "memory-budget",
            "Bytes of request and response bodies held in memory across all requests; past it new requests get a 503 ServiceUnavailable, which SDKs retry (default 134217728).",
            1024 * 1024...Int.max, \.memoryBudget),
        Setting(
            "log-level", "LEVEL", "trace, debug, info, notice, warning, error or critical (default info).",
            show: { $0.logLevel.rawValue },
            apply: {
                config, text throws(ConfigurationError) in
                guard let level = Logger.Level(rawValue: text) else {
                    throw ConfigurationError("Unknown log level \(text).")
                }
                config.logLevel = level
            }),
        Setting(
            "log-format", "FORMAT", "text or json, one JSON object per line (default text).",
            show: { $0.logFormat.rawValue },
            apply: {
                config, text throws(ConfigurationError) in
                guard let format = LineLogHandler.Format(rawValue: text) else {
                    throw ConfigurationError("log-format must be text or json: \(text)")
                }
                config.logFormat = format
            }),
        Setting(
            "threshold", "N|auto",
            "Messages larger than this many bytes (body plus attributes) go through S3; 0 to 1048576, or auto: those that would not fit their queue's MaximumMessageSize (default 262144).",
            show: { $0.thresholdFollowsQueue ? "auto" : String($0.threshold) },
            apply: { config, text throws(ConfigurationError) in
                if text == "auto" {
                    // Whether a send streams is decided from its head: one that could fit SQS's
                    // largest message is held and decided per queue once decoded.
                    config.thresholdFollowsQueue = true
                    config.threshold = OffloadPolicy.sqsMessageLimit
                    return
                }
                guard let number = Int(text), (0...1_048_576).contains(number) else {
                    throw ConfigurationError("threshold must be a whole number from 0 to 1048576, or auto: \(text)")
                }
                config.thresholdFollowsQueue = false
                config.threshold = number
            }),
        toggle("always-through-s3", "Send every message body through S3, whatever its size.", \.alwaysThroughS3),
        toggle(
            "legacy-attribute-name",
            "Mark offloaded messages with SQSLargePayloadSize (Java's default) instead of ExtendedPayloadSize.",
            \.legacyAttributeName),
        toggle(
            "retain-payloads", "Keep S3 objects when their messages are deleted (default: delete them).",
            \.retainPayloads),
        Setting(
            "s3-key-prefix", "PREFIX", "Prefix of payload keys (A-Z a-z 0-9 . / _ -, at most 988 characters).",
            show: { $0.s3KeyPrefix },
            apply: {
                config, text throws(ConfigurationError) in
                do throws(PayloadKeyError) {
                    _ = try PayloadKeyGenerator(prefix: text)
                } catch {
                    throw ConfigurationError("s3-key-prefix: \(error.description)")
                }
                config.s3KeyPrefix = text
            }),
        Setting(
            "sse", "MODE", "Server-side encryption of payloads: aws:kms or AES256.", show: { $0.serverSideEncryption },
            apply: {
                config, text throws(ConfigurationError) in
                guard !text.isEmpty else { return }
                guard text == "aws:kms" || text == "AES256" else {
                    throw ConfigurationError("sse must be aws:kms or AES256: \(text)")
                }
                config.serverSideEncryption = text
            }),
        Setting(
            "sse-kms-key-id", "ID", "KMS key for --sse aws:kms.", show: { $0.kmsKeyID },
            apply: {
                config, text throws(ConfigurationError) in
                config.kmsKeyID = text.isEmpty ? nil : text
            }),
        Setting(
            "s3-acl", "ACL", "Canned ACL of stored payloads (e.g. bucket-owner-full-control).", show: { $0.cannedACL },
            apply: {
                config, text throws(ConfigurationError) in
                guard !text.isEmpty else { return }
                guard cannedACLs.contains(text) else {
                    throw ConfigurationError("s3-acl must be a canned ACL: \(text)")
                }
                config.cannedACL = text
            }),
        toggle(
            "ignore-payload-not-found",
            "Delete a received message whose payload is missing from S3 and leave it out, instead of failing the receive.",
            \.ignorePayloadNotFound),
        number(
            "max-payload-size",
            "Largest message body accepted, in bytes; larger bodies stream through S3 (default 2147483648).",
            1...Int.max, \.maxPayloadSize),
        number(
            "part-size",
            "Payloads larger than this go to S3 in a multipart upload of parts this size, in bytes; 5 MiB to 5 GiB (default 8388608).",
            5 * 1024 * 1024...5 * 1024 * 1024 * 1024, \.partSize),
        number(
            "parts-in-flight", "Parts of one payload uploading at once, 1 to 64 (default 4).", 1...64, \.partsInFlight),
        toggle(
            "use-fips-endpoint",
            "Default SQS, S3 and STS endpoints are the FIPS ones (default AWS_USE_FIPS_ENDPOINT, then the profile's use_fips_endpoint, then false).",
            \.useFIPSEndpoint),
        toggle(
            "use-dualstack-endpoint",
            "Default SQS, S3 and STS endpoints are the dual-stack ones (default AWS_USE_DUALSTACK_ENDPOINT, then the profile's use_dualstack_endpoint, then false).",
            \.useDualStackEndpoint),
        number(
            "get-range-size",
            "Payloads streamed into a receive are read from S3 in byte ranges this size, several at once, in bytes; up to 5 GiB, or 0 for one GET (default 1048576).",
            0...5 * 1024 * 1024 * 1024, \.getRangeSize),
        number(
            "get-ranges-in-flight",
            "Ranges of one payload read from S3 at once, as the memory budget allows, 1 to 64 (default 8).", 1...64,
            \.getRangesInFlight),
    ]

    static let cannedACLs: Set = [
        "private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read", "bucket-owner-read",
        "bucket-owner-full-control",
    ]

    /// A whole number in `range`.
    static func number(
        _ name: String, _ help: String, _ range: ClosedRange<Int>,
        _ property: WritableKeyPath<ProxyConfiguration, Int> & Sendable
    ) -> Setting {
        Setting(
            name, "N", help, show: { String($0[keyPath: property]) },
            apply: { config, text throws(ConfigurationError) in
                guard let number = Int(text), range.contains(number) else {
                    let bounds =
                        range.upperBound == .max
                        ? "at least \(range.lowerBound)" : "from \(range.lowerBound) to \(range.upperBound)"
                    throw ConfigurationError("\(name) must be a whole number \(bounds): \(text)")
                }
                config[keyPath: property] = number
            })
    }

    /// A positive number of seconds.
    static func seconds(
        _ name: String, _ help: String, _ property: WritableKeyPath<ProxyConfiguration, Duration> & Sendable
    ) -> Setting {
        Setting(
            name, "SECONDS", help, show: { secondsText($0[keyPath: property]) },
            apply: {
                config, text throws(ConfigurationError) in
                guard let seconds = Double(text), seconds > 0, seconds.isFinite, seconds < 1e9 else {
                    throw ConfigurationError("\(name) must be a positive number of seconds: \(text)")
                }
                config[keyPath: property] = .milliseconds(Int64((seconds * 1000).rounded()))
            })
    }

    /// A switch: `true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`; empty is false.
    static func toggle(
        _ name: String, _ help: String, _ property: WritableKeyPath<ProxyConfiguration, Bool> & Sendable
    ) -> Setting {
        Setting(
            name, nil, help, show: { String($0[keyPath: property]) },
            apply: { config, text throws(ConfigurationError) in
                switch text.lowercased() {
                case "true", "1", "yes", "on": config[keyPath: property] = true
                case "false", "0", "no", "off", "": config[keyPath: property] = false
                default: throw ConfigurationError("\(name) must be true or false: \(text)")
                }
            })
    }

    /// The settings given on a command line, by name: `--name VALUE`, `--name=VALUE`, or `--name`
    /// alone for a switch.
    public static func parseCommandLine(_ arguments: [String]) throws(ConfigurationError) -> [String: String] {
        var values: [String: String] = [:]
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("--") else { throw ConfigurationError("Unexpected argument \(argument).") }
            let option = argument.dropFirst(2)
            let name = String(option.prefix { $0 != "=" })
            guard let setting = named(name) else { throw ConfigurationError("Unknown option --\(name).") }
            if let equals = option.firstIndex(of: "=") {
                values[name] = String(option[option.index(after: equals)...])
            } else if setting.isSwitch {
                values[name] = "true"
            } else {
                guard let value = rest.popFirst() else { throw ConfigurationError("--\(name) needs a value.") }
                values[name] = value
            }
        }
        return values
    }

    /// The settings as `--help` lists them: each option, then its help wrapped into a column of its
    /// own, so that the help fits 79 columns (the width `--help` is wrapped to without a terminal)
    /// and its lines stay under their option.
    public static var helpText: String {
        let indent = 37
        return all.map { setting in
            let option = "  --\(setting.name)" + (setting.placeholder.map { " " + $0 } ?? "")
            let lines = wrapped(setting.help, width: 79 - indent)
            let first =
                option.count < indent
                ? option + String(repeating: " ", count: indent - option.count) + lines[0]
                : option + "\n" + String(repeating: " ", count: indent) + lines[0]
            return ([first] + lines.dropFirst().map { String(repeating: " ", count: indent) + $0 }).joined(
                separator: "\n")
        }.joined(separator: "\n")
    }

    /// `text` in lines of at most `width` characters, broken between words (a longer word alone).
    static func wrapped(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += (line.isEmpty ? "" : " ") + word
        }
        return lines + [line]
    }

    /// `HOST:PORT`, an IPv6 address in brackets.
    static func address(_ host: String, _ port: Int) -> String {
        (host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host) + ":\(port)"
    }

    /// A duration as a number of seconds (`2.5`).
    static func secondsText(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? String(milliseconds / 1000) : String(Double(milliseconds) / 1000)
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
}
