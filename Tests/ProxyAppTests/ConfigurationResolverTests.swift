import ExtendedPayload
import Foundation
import Proxy
import Testing

@testable import ProxyApp

struct ConfigurationResolverTests {
    @Test func commandLineBeatsEnvironmentBeatsFile() throws {
        let resolver = ConfigurationResolver(
            commandLine: ["listen": "0.0.0.0:8000"],
            environment: [
                "SQS_PROXY_LISTEN": "127.0.0.1:7000", "SQS_PROXY_BUCKET": "env-bucket", "AWS_REGION": "eu-west-1",
            ],
            file: [
                "listen": "127.0.0.1:6000", "bucket": "file-bucket", "sqs-endpoint": "http://localhost:5000",
                "upstream-read-timeout": "45",
            ])
        let configuration = try resolver.resolve()
        #expect(configuration.listenHost == "0.0.0.0")
        #expect(configuration.listenPort == 8000)
        #expect(configuration.bucket == "env-bucket")
        #expect(configuration.sqsEndpoint.origin == "http://localhost:5000")
        #expect(configuration.s3Endpoint.origin == "https://s3.eu-west-1.amazonaws.com")
        #expect(configuration.region == "eu-west-1")
        #expect(configuration.upstreamReadTimeout == .seconds(45))
    }

    @Test func defaults() throws {
        let configuration = try ConfigurationResolver(
            commandLine: [:], environment: ["AWS_DEFAULT_REGION": "us-west-2"], file: [:]
        ).resolve()
        #expect(configuration.listenHost == "127.0.0.1")
        #expect(configuration.listenPort == 9324)
        #expect(configuration.region == "us-west-2")
        #expect(configuration.sqsEndpoint.origin == "https://sqs.us-west-2.amazonaws.com")
        #expect(configuration.upstreamReadTimeout > .seconds(20))
        #expect(configuration.bucket == nil)
        #expect(configuration.adminHost == "127.0.0.1" && configuration.adminPort == 9325)
        #expect(configuration.stsEndpoint.origin == "https://sts.us-west-2.amazonaws.com")
        #expect(configuration.upstreamMaxAttempts == 3 && configuration.upstreamIdleTimeout == .seconds(30))
        #expect(configuration.caBundle == nil)
        #expect(configuration.clientIdleTimeout == .seconds(60) && configuration.shutdownGracePeriod == .seconds(25))
    }

    @Test func operatingSettings() throws {
        let configuration = try ConfigurationResolver(
            commandLine: ["admin-listen": "0.0.0.0:9999", "upstream-max-attempts": "1"],
            environment: [
                "AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_STS": "http://localhost:4566",
                "AWS_CA_BUNDLE": "/etc/ca.pem",
                "SQS_PROXY_SHUTDOWN_GRACE_PERIOD": "5",
            ],
            file: ["upstream-idle-timeout": "10", "client-idle-timeout": "120"]
        ).resolve()
        #expect(configuration.adminHost == "0.0.0.0" && configuration.adminPort == 9999)
        #expect(configuration.stsEndpoint.origin == "http://localhost:4566")
        #expect(configuration.caBundle == "/etc/ca.pem")
        #expect(configuration.upstreamMaxAttempts == 1 && configuration.upstreamIdleTimeout == .seconds(10))
        #expect(configuration.clientIdleTimeout == .seconds(120) && configuration.shutdownGracePeriod == .seconds(5))
        let explicit = try ConfigurationResolver(
            commandLine: ["sts-endpoint": "http://127.0.0.1:5000"],
            environment: ["AWS_REGION": "eu-west-1", "AWS_ENDPOINT_URL_STS": "http://localhost:4566"], file: [:]
        ).resolve()
        #expect(explicit.stsEndpoint.origin == "http://127.0.0.1:5000")
        for settings in [
            ["upstream-max-attempts": "0"], ["upstream-max-attempts": "11"], ["admin-listen": "nowhere"],
            ["shutdown-grace-period": "-1"], ["client-idle-timeout": "0"], ["sts-endpoint": "ftp://x"],
        ] {
            #expect(throws: ConfigurationError.self, "\(settings)") {
                try ConfigurationResolver(commandLine: settings, environment: ["AWS_REGION": "x"], file: [:]).resolve()
            }
        }
    }

    @Test func regionFallsBackInOrder() throws {
        func region(_ environment: [String: String], file: [String: String] = [:], profile: String? = nil) throws
            -> String
        {
            try ConfigurationResolver(commandLine: [:], environment: environment, file: file)
                .resolve(profileRegion: profile).region
        }
        #expect(try region(["SQS_PROXY_REGION": "a", "AWS_REGION": "b"], file: ["region": "c"]) == "a")
        #expect(try region(["AWS_REGION": "b"], file: ["region": "c"]) == "c")
        #expect(try region(["AWS_REGION": "b", "AWS_DEFAULT_REGION": "d"]) == "b")
        #expect(try region([:], profile: "p") == "p")
        #expect(throws: ConfigurationError.self) { try region([:]) }
    }

    @Test func badValuesAreNamed() {
        let base = ["AWS_REGION": "us-east-1"]
        for (name, value) in [
            ("listen", "nope"), ("listen", "h:70000"), ("sqs-endpoint", "sqs.local"), ("upstream-read-timeout", "-1"),
            ("max-request-size", "12"), ("region", "us east:1"), ("region", "eu/west-1"),
            ("sqs-endpoint", "http://a b"), ("s3-endpoint", "https://user@host"), ("bucket", "a/b"),
            ("payload-buckets", ""), ("payload-buckets", "ok-bucket,../x"), ("payload-buckets", "*,other"),
        ] {
            #expect(throws: ConfigurationError.self) {
                try ConfigurationResolver(commandLine: [name: value], environment: base, file: [:]).resolve()
            }
        }
    }

    @Test func payloadLocationsDefaultToTheBucketAndMustHoldIt() throws {
        let base = ["AWS_REGION": "us-east-1"]
        func resolve(_ commandLine: [String: String]) throws -> ProxyConfiguration {
            try ConfigurationResolver(commandLine: commandLine, environment: base, file: [:]).resolve()
        }
        #expect(try resolve(["bucket": "own"]).payloadLocations == PayloadLocations(buckets: ["own"]))
        #expect(try resolve([:]).payloadLocations == PayloadLocations(buckets: []))
        #expect(try resolve(["bucket": "own", "payload-buckets": "*"]).payloadLocations == .any)
        #expect(
            try resolve(["bucket": "own", "payload-buckets": "own, theirs"]).payloadLocations
                == PayloadLocations(buckets: ["own", "theirs"]))
        #expect(throws: ConfigurationError.self) { try resolve(["bucket": "own", "payload-buckets": "theirs"]) }
        let fromEnvironment = try ConfigurationResolver(
            commandLine: [:], environment: base.merging(["SQS_PROXY_PAYLOAD_BUCKETS": "a-b,c-d"]) { $1 }, file: [:]
        ).resolve()
        #expect(fromEnvironment.payloadLocations == PayloadLocations(buckets: ["a-b", "c-d"]))
        // The default is the bucket under the key prefix; a location must cover where payloads go.
        let prefixed = try resolve(["bucket": "own", "s3-key-prefix": "app1/"])
        #expect(prefixed.payloadLocations == PayloadLocations([.init(bucket: "own", prefix: "app1/")]))
        #expect(
            try resolve(["bucket": "own", "s3-key-prefix": "app1/", "payload-buckets": "own/app1/,own/shared/"])
                .payloadLocations.locations?.count == 2)
        #expect(throws: ConfigurationError.self) {
            try resolve(["bucket": "own", "s3-key-prefix": "app1/", "payload-buckets": "own/app2/"])
        }
        #expect(try resolve(["client-credentials": "/etc/keys"]).clientCredentials == "/etc/keys")
        #expect(try resolve([:]).clientCredentials == nil)
    }

    @Test func theMemoryBudgetMustHoldTheLargestRequest() throws {
        func resolve(_ commandLine: [String: String]) throws -> ProxyConfiguration {
            try ConfigurationResolver(commandLine: commandLine, environment: ["AWS_REGION": "us-east-1"], file: [:])
                .resolve()
        }
        #expect(try resolve([:]).memoryBudget == 128 * 1024 * 1024)
        // Without a bucket, the largest held request; with one, a streamed send's parts too.
        #expect(try resolve(["memory-budget": "16777216"]).memoryBudget == 16 * 1024 * 1024)
        #expect(throws: ConfigurationError.self) { try resolve(["memory-budget": "16777216", "bucket": "own"]) }
        #expect(throws: ConfigurationError.self) { try resolve(["bucket": "own", "part-size": "67108864"]) }
        #expect(try resolve(["bucket": "own", "memory-budget": "60030976"]).memoryBudget == 60_030_976)
    }

    @Test func yamlFile() throws {
        let settings = try ConfigurationResolver.parseFile(
            """
            # comment
            listen: "127.0.0.1:9400"
            region: eu-central-1
            upstream-read-timeout: 30
            bucket: payloads
            """)
        #expect(
            settings == [
                "listen": "127.0.0.1:9400", "region": "eu-central-1", "upstream-read-timeout": "30",
                "bucket": "payloads",
            ])
        #expect(throws: ConfigurationError.self) { try ConfigurationResolver.parseFile("unknown: 1") }
        #expect(throws: ConfigurationError.self) { try ConfigurationResolver.parseFile("- a\n- b") }
        #expect(throws: ConfigurationError.self) { try ConfigurationResolver.parseFile("listen: [1, 2]") }
        #expect(try ConfigurationResolver.parseFile("") == [:])
    }

    @Test func environmentVariableNames() {
        #expect(Setting.environmentVariable(for: "sqs-endpoint") == "SQS_PROXY_SQS_ENDPOINT")
        #expect(
            Setting.environmentVariable(for: "upstream-read-timeout") == "SQS_PROXY_UPSTREAM_READ_TIMEOUT"
        )
    }
}

struct ExtendedSettingsTests {
    func resolve(_ commandLine: [String: String], file: [String: String] = [:]) throws -> ProxyConfiguration {
        try ConfigurationResolver(commandLine: commandLine, environment: ["AWS_REGION": "us-east-1"], file: file)
            .resolve()
    }

    @Test func defaults() throws {
        let configuration = try resolve([:])
        #expect(configuration.threshold == 262_144)
        #expect(!configuration.alwaysThroughS3 && !configuration.retainPayloads && !configuration.legacyAttributeName)
        #expect(!configuration.ignorePayloadNotFound)
        #expect(configuration.maxPayloadSize == 2_147_483_648)
        #expect(configuration.maxRequestBodySize == 16 * 1024 * 1024)
        #expect(configuration.s3KeyPrefix == "")
        #expect(configuration.serverSideEncryption == nil && configuration.cannedACL == nil)
    }

    @Test func switchesAndValues() throws {
        let configuration = try resolve(
            [
                "threshold": "0", "always-through-s3": "true", "sse": "aws:kms", "sse-kms-key-id": "k",
                "max-payload-size": "1000",
            ],
            file: [
                "retain-payloads": "true", "legacy-attribute-name": "yes", "s3-key-prefix": "p/", "s3-acl": "private",
            ])
        #expect(configuration.threshold == 0)
        #expect(configuration.alwaysThroughS3 && configuration.retainPayloads && configuration.legacyAttributeName)
        #expect(configuration.serverSideEncryption == "aws:kms" && configuration.kmsKeyID == "k")
        #expect(configuration.s3KeyPrefix == "p/" && configuration.cannedACL == "private")
        #expect(configuration.maxPayloadSize == 1000)
        #expect(configuration.maxRequestBodySize == 16 * 1024 * 1024)
    }

    @Test func refusals() {
        for settings in [
            ["threshold": "1048577"], ["threshold": "-1"], ["always-through-s3": "maybe"], ["sse": "rot13"],
            ["sse-kms-key-id": "k"], ["s3-acl": "everyone"], ["s3-key-prefix": "../up"], ["max-payload-size": "0"],
        ] {
            #expect(throws: ConfigurationError.self, "\(settings)") { try resolve(settings) }
        }
    }
}

struct ExampleConfigurationFileTests {
    @Test func theCommentedExampleIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("config/proxy.yaml"), encoding: .utf8)
        let settings = try ConfigurationResolver.parseFile(text)
        #expect(settings["listen"] == "127.0.0.1:9324")
        #expect(settings["threshold"] == "262144")
        let configuration = try ConfigurationResolver(
            commandLine: [:], environment: ["AWS_REGION": "us-east-1"], file: settings
        ).resolve()
        #expect(configuration.upstreamReadTimeout == .seconds(60))
        #expect(configuration.maxPayloadSize == ProxyConfiguration.defaultMaxPayloadSize)
    }
}

struct SettingTableTests {
    @Test func theCommandLineIsReadThroughTheTable() throws {
        #expect(
            try Setting.parseCommandLine([
                "--listen", "0.0.0.0:1", "--bucket=b", "--always-through-s3", "--upstream-read-timeout", "0.5",
            ]) == ["listen": "0.0.0.0:1", "bucket": "b", "always-through-s3": "true", "upstream-read-timeout": "0.5"])
        for wrong in [["--nope", "x"], ["--listen"], ["stray"]] {
            #expect(throws: ConfigurationError.self) { try Setting.parseCommandLine(wrong) }
        }
        let configuration = try ConfigurationResolver(
            commandLine: try Setting.parseCommandLine(["--upstream-read-timeout", "0.5", "--retain-payloads"]),
            environment: ["AWS_REGION": "us-east-1", "SQS_PROXY_LOG_FORMAT": "json"], file: [:]
        ).resolve()
        #expect(configuration.upstreamReadTimeout == .milliseconds(500))
        #expect(configuration.retainPayloads && configuration.logFormat == .json)
    }

    @Test func helpLinesFitSeventyNineColumnsUnderTheirOption() {
        let lines = Setting.helpText.split(separator: "\n")
        #expect(lines.count > Setting.all.count)
        for line in lines {
            #expect(line.count <= 79, "\(line)")
            #expect(line.hasPrefix("  --") || line.hasPrefix(String(repeating: " ", count: 37)), "\(line)")
        }
        #expect(lines.filter { $0.hasPrefix("  --") }.count == Setting.all.count)
    }

    @Test func everySettingIsDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let example = try String(contentsOf: root.appendingPathComponent("config/proxy.yaml"), encoding: .utf8)
        for setting in Setting.all {
            #expect(readme.contains("| `--\(setting.name)"), "\(setting.name) is not in the README's table")
            #expect(readme.contains(setting.environmentVariable), "\(setting.environmentVariable) is not in the README")
            #expect(example.contains("\(setting.name):"), "\(setting.name) is not in config/proxy.yaml")
        }
        #expect(Set(Setting.all.map(\.name)).count == Setting.all.count)
    }
}

struct ProxyCheckSettingsTests {
    @Test func everySettingIsShownWithItsValueAndSource() throws {
        let resolver = ConfigurationResolver(
            commandLine: ["listen": "[::1]:8000", "upstream-read-timeout": "2.5"],
            environment: ["SQS_PROXY_BUCKET": "env-bucket", "AWS_CA_BUNDLE": "/ca.pem"],
            file: ["advertised-url": "http://proxy.svc:9324/", "retain-payloads": "true"])
        let check = ProxyCheck(resolver: resolver, environment: [:], queue: nil)
        let lines = check.settingLines(try resolver.resolve(profileRegion: "eu-west-1"), profileRegion: "eu-west-1")
        #expect(lines.count == Setting.all.count + 3)
        #expect(lines.suffix(3) == ["egress https-proxy = none", "egress http-proxy = none", "egress no-proxy = none"])
        for expected in [
            "setting listen = [::1]:8000 (flag)", "setting upstream-read-timeout = 2.5 (flag)",
            "setting bucket = env-bucket (env)", "setting payload-buckets = env-bucket (default)",
            "setting ca-bundle = /ca.pem (aws-env)", "setting advertised-url = http://proxy.svc:9324 (file)",
            "setting retain-payloads = true (file)", "setting region = eu-west-1 (profile)",
            "setting sts-endpoint = https://sts.eu-west-1.amazonaws.com (default for eu-west-1)",
            "setting sse = none (default)",
            "setting upstream-connect-timeout = 5 (default)",
        ] {
            #expect(lines.contains(expected), "\(expected)")
        }
    }
}

/// Endpoint conventions: FIPS and dual-stack defaults, the S3 endpoint variable, and never the
/// variables applications use to reach the proxy.
struct EndpointConventionTests {
    func resolve(_ environment: [String: String], commandLine: [String: String] = [:], profile: [String: String] = [:])
        throws(ConfigurationError) -> ProxyConfiguration
    {
        var resolver = ConfigurationResolver(
            commandLine: commandLine, environment: ["AWS_REGION": "us-west-2"].merging(environment) { $1 }, file: [:])
        resolver.profile = profile
        return try resolver.resolve()
    }

    @Test func fipsAndDualStackComeFromTheEnvironmentOrTheProfile() throws {
        let fips = try resolve(["AWS_USE_FIPS_ENDPOINT": "true"])
        #expect(fips.sqsEndpoint.host == "sqs-fips.us-west-2.amazonaws.com")
        #expect(fips.s3Endpoint.host == "s3-fips.us-west-2.amazonaws.com")
        #expect(fips.stsEndpoint.host == "sts-fips.us-west-2.amazonaws.com")
        let dual = try resolve([:], profile: ["use_dualstack_endpoint": "true"])
        #expect(dual.sqsEndpoint.host == "sqs.us-west-2.api.aws")
        // The variable wins over the profile; an endpoint given wins over both.
        #expect(
            try resolve(["AWS_USE_FIPS_ENDPOINT": "false"], profile: ["use_fips_endpoint": "true"]).sqsEndpoint.host
                == "sqs.us-west-2.amazonaws.com")
        let given = try resolve(["AWS_USE_FIPS_ENDPOINT": "true"], commandLine: ["sqs-endpoint": "https://sqs.example"])
        #expect(given.sqsEndpoint.host == "sqs.example" && given.s3Endpoint.host == "s3-fips.us-west-2.amazonaws.com")
    }

    @Test func theS3VariableIsReadAndTheSQSOnesAreNot() throws {
        let configuration = try resolve([
            "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:9324",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9324",
        ])
        #expect(configuration.s3Endpoint.description == "http://127.0.0.1:4566")
        #expect(configuration.sqsEndpoint.host == "sqs.us-west-2.amazonaws.com")
    }

    @Test(arguments: [
        ("127.0.0.1:9324", "http://127.0.0.1:9324", true), ("0.0.0.0:9324", "http://localhost:9324", true),
        ("127.0.0.1:9324", "http://[::1]:9324", true), ("127.0.0.1:9324", "http://127.0.0.1:4566", false),
        ("127.0.0.1:9324", "http://sqs.example:9324", false),
    ])
    func anSQSEndpointThatIsTheOwnListenerIsRefused(_ listen: String, _ endpoint: String, _ refused: Bool) {
        let resolving = { () throws(ConfigurationError) in
            _ = try self.resolve([:], commandLine: ["listen": listen, "sqs-endpoint": endpoint])
        }
        if refused {
            #expect(throws: ConfigurationError.self) { try resolving() }
        } else {
            #expect(throws: Never.self) { try resolving() }
        }
    }
}

/// The configuration file reader: the `name: value` subset of YAML, everything else refused.
struct ConfigurationFileTests {
    @Test func valuesArePlainOrQuotedAndCommentsAreLeftOut() throws {
        let settings = try ConfigurationFile.parse(
            """
            ---
            # a comment
            listen: 127.0.0.1:9400  # after a value
            region: "eu-\\u0063entral-1"
            bucket: 'it''s'
            s3-key-prefix: "a # b"
            log-level:	debug\r
            empty-looking: "" 
            """)
        #expect(
            settings == [
                "listen": "127.0.0.1:9400", "region": "eu-central-1", "bucket": "it's", "s3-key-prefix": "a # b",
                "log-level": "debug", "empty-looking": "",
            ])
    }

    @Test(arguments: [
        "listen:", "listen: ~", "listen: null", "listen: [1, 2]", "listen: {a: 1}", "listen: &anchor x",
        "listen: *anchor", "listen: !tag x", "listen: |", "listen: >", "- a", "  listen: x", "listen x",
        "listen: \"open", "listen: 'open", "listen: \"a\" b", "listen: x\nlisten: y", "li sten: x", "listen:x",
    ])
    func anythingElseIsRefused(_ text: String) {
        #expect(throws: ConfigurationError.self) { try ConfigurationFile.parse(text) }
    }

    @Test func aDashStartsAPlainValueWhenNoSpaceFollows() throws {
        #expect(try ConfigurationFile.parse("threshold: -1") == ["threshold": "-1"])
    }
}
