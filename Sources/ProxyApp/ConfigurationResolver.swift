import ExtendedPayload
import Proxy
import Upstream

/// Resolves ``ProxyConfiguration`` from its three sources through the table of ``Setting/all``.
/// For every setting the command line wins, then the environment (`SQS_PROXY_<NAME>`), then the
/// configuration file, then the AWS SDKs' own variable where there is one (`AWS_ENDPOINT_URL_STS`,
/// `AWS_CA_BUNDLE`), then the default. The region falls back further to `AWS_REGION`,
/// `AWS_DEFAULT_REGION` and the profile's `region`.
public struct ConfigurationResolver: Sendable {
    /// Where a setting's value came from.
    public enum Source: String, Sendable {
        case commandLine = "flag"
        case environment = "env"
        case file
        case awsVariable = "aws-env"
        case profile
    }

    /// The AWS SDKs' variables that stand in for a setting given nowhere else. Not
    /// `AWS_ENDPOINT_URL_SQS` or `AWS_ENDPOINT_URL`: applications set them to reach the proxy, and
    /// in a shared environment they would point the proxy at itself.
    static let awsVariables = [
        "region": ["AWS_REGION", "AWS_DEFAULT_REGION"], "sts-endpoint": ["AWS_ENDPOINT_URL_STS"],
        "s3-endpoint": ["AWS_ENDPOINT_URL_S3"], "ca-bundle": ["AWS_CA_BUNDLE"],
        "use-fips-endpoint": ["AWS_USE_FIPS_ENDPOINT"], "use-dualstack-endpoint": ["AWS_USE_DUALSTACK_ENDPOINT"],
    ]

    /// The keys of the AWS profile that stand in for a setting given nowhere else, not even by an
    /// AWS variable.
    static let profileKeys = [
        "use-fips-endpoint": "use_fips_endpoint", "use-dualstack-endpoint": "use_dualstack_endpoint",
    ]

    public var commandLine: [String: String]
    public var environment: [String: String]
    public var file: [String: String]
    /// The settings of the AWS profile in use (`AWS_PROFILE`, else `default`).
    public var profile: [String: String] = [:]

    public init(commandLine: [String: String], environment: [String: String], file: [String: String]) {
        self.commandLine = commandLine
        self.environment = environment
        self.file = file
    }

    /// The value of `name` from the first source that has it.
    public func value(_ name: String) -> String? {
        lookup(name)?.value
    }

    /// The value of `name` and its source; nil when no source has it.
    public func lookup(_ name: String) -> (value: String, source: Source)? {
        if let value = commandLine[name] { return (value, .commandLine) }
        if let value = environment[Setting.environmentVariable(for: name)] { return (value, .environment) }
        if let value = file[name] { return (value, .file) }
        for variable in Self.awsVariables[name] ?? [] {
            if let value = environment[variable], !value.isEmpty { return (value, .awsVariable) }
        }
        if let key = Self.profileKeys[name], let value = profile[key] { return (value, .profile) }
        return nil
    }

    /// The resolved configuration, or the first setting that is wrong.
    public func resolve(profileRegion: String? = nil) throws(ConfigurationError) -> ProxyConfiguration {
        guard let region = value("region") ?? profileRegion, !region.isEmpty else {
            throw ConfigurationError(
                "No region: pass --region, or set SQS_PROXY_REGION, AWS_REGION or AWS_DEFAULT_REGION.")
        }
        var configuration = ProxyConfiguration(region: region)
        try Setting.named("region")!.apply(&configuration, region)
        for setting in Setting.all where setting.name != "region" {
            if let (text, _) = lookup(setting.name) { try setting.apply(&configuration, text) }
        }
        // Endpoints given nowhere are the region's, FIPS or dual-stack as asked.
        let fips = configuration.useFIPSEndpoint
        let dualStack = configuration.useDualStackEndpoint
        if lookup("sqs-endpoint") == nil {
            configuration.sqsEndpoint = .aws(service: "sqs", region: region, fips: fips, dualStack: dualStack)
        }
        if lookup("s3-endpoint") == nil {
            configuration.s3Endpoint = .aws(service: "s3", region: region, fips: fips, dualStack: dualStack)
        }
        if lookup("sts-endpoint") == nil {
            configuration.stsEndpoint = .aws(service: "sts", region: region, fips: fips, dualStack: dualStack)
        }
        if configuration.sqsIsOwnListener {
            throw ConfigurationError(
                "sqs-endpoint \(configuration.sqsEndpoint) is this proxy's own listener (listen \(configuration.listenHost):\(configuration.listenPort)): it would forward every request to itself."
            )
        }
        if value("payload-buckets") == nil {
            configuration.payloadLocations = configuration.ownPayloadLocations
        }
        if let bucket = configuration.bucket,
            !configuration.payloadLocations.covers(bucket: bucket, prefix: configuration.s3KeyPrefix)
        {
            throw ConfigurationError(
                "payload-buckets must include where payloads are stored, \(bucket) with the prefix \"\(configuration.s3KeyPrefix)\": \(configuration.payloadLocations)"
            )
        }
        guard configuration.memoryBudget >= configuration.requestLimits.largestHold else {
            throw ConfigurationError(
                "memory-budget must hold the largest request at least: \(configuration.requestLimits.largestHold) bytes with these max-request-size, part-size and parts-in-flight."
            )
        }
        do throws(EgressProxyError) {
            configuration.egressProxies = try EgressProxies(environment: environment)
        } catch {
            throw ConfigurationError(error.description)
        }
        configuration.tracing = try TracingSettings(environment: environment)
        if configuration.kmsKeyID != nil && configuration.serverSideEncryption != "aws:kms" {
            throw ConfigurationError("sse-kms-key-id needs sse aws:kms.")
        }
        return configuration
    }

    /// Reads a configuration file's settings as strings (see ``ConfigurationFile``).
    public static func parseFile(_ text: String) throws(ConfigurationError) -> [String: String] {
        let settings = try ConfigurationFile.parse(text)
        for key in settings.keys where Setting.named(key) == nil {
            throw ConfigurationError("Unknown setting in the configuration file: \(key)")
        }
        return settings
    }
}
