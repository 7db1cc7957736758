import AWSSigning
import Foundation
import Logging
import Testing

@testable import AWSCredentialChain

/// The chain's choice of source, with shared files in a temporary folder and every endpoint scripted.
struct DefaultCredentialChainTests {
    let directory: URL
    let http = ScriptedCredentialHTTP { request in
        if request.url.hasSuffix("/latest/api/token") { return CredentialHTTPResponse(status: 200, body: "t") }
        if request.url.hasSuffix("/security-credentials/") { return CredentialHTTPResponse(status: 200, body: "role") }
        if request.url.hasSuffix("/security-credentials/role") {
            return CredentialHTTPResponse(status: 200, body: CredentialSourceTests.document)
        }
        return CredentialHTTPResponse(status: 404, body: "")
    }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// An environment whose shared files hold `credentials` and `config`, with instance metadata off
    /// unless `metadata` names its endpoint.
    func environment(
        credentials: String = "", config: String = "", metadata: String? = nil, _ extra: [String: String] = [:]
    ) throws -> [String: String] {
        let credentialsPath = directory.appendingPathComponent("credentials").path
        let configPath = directory.appendingPathComponent("config").path
        try credentials.write(toFile: credentialsPath, atomically: true, encoding: .utf8)
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
        var environment = ["AWS_SHARED_CREDENTIALS_FILE": credentialsPath, "AWS_CONFIG_FILE": configPath]
        if let metadata {
            environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = metadata
        } else {
            environment["AWS_EC2_METADATA_DISABLED"] = "true"
        }
        return environment.merging(extra) { $1 }
    }

    func resolve(_ environment: [String: String]) async throws -> any CredentialProvider {
        defer { try? FileManager.default.removeItem(at: directory) }
        let chain = try DefaultCredentialChain(
            environment: environment, http: http,
            sts: STSClient(
                endpoint: UpstreamEndpoint("http://sts.test")!, region: "us-east-1", http: http, timeout: .seconds(1)),
            logger: Logger(label: "test"))
        return try await chain.resolve()
    }

    static let keys = "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n"
    static let webIdentity = [
        "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token", "AWS_ROLE_ARN": "arn:aws:iam::1:role/irsa",
    ]
    static let container = ["AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/creds"]

    @Test func environmentKeysComeFirst() async throws {
        let provider = try await resolve(
            try environment(
                credentials: Self.keys,
                Self.webIdentity.merging(["AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "s"]) { $1 }))
        #expect(try await provider.credentials().accessKeyID == "ENVKEY")
        #expect(provider.name == "environment")
    }

    @Test func webIdentityComesBeforeTheProfile() async throws {
        let provider = try await resolve(try environment(credentials: Self.keys, Self.webIdentity))
        let refreshing = try #require(provider as? RefreshingCredentialProvider)
        #expect(refreshing.source is WebIdentityCredentialSource)
        #expect(provider.name == "web identity (arn:aws:iam::1:role/irsa)")
    }

    @Test func webIdentityNeedsItsRole() async throws {
        await #expect(throws: CredentialError.self) {
            try await resolve(try environment(["AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token"]))
        }
    }

    @Test func profileKeysComeBeforeTheContainer() async throws {
        let provider = try await resolve(try environment(credentials: Self.keys, Self.container))
        #expect(try await provider.credentials().accessKeyID == "FILEKEY")
        #expect(provider.name == "profile default")
    }

    @Test func profileRoleIsAssumedFromItsSourceProfile() async throws {
        let config = """
            [profile app]
            role_arn = arn:aws:iam::1:role/app
            source_profile = middle
            role_session_name = app-session
            [profile middle]
            role_arn = arn:aws:iam::1:role/middle
            source_profile = base
            """
        let credentials = "[base]\naws_access_key_id = BASEKEY\naws_secret_access_key = b\n"
        let provider = try await resolve(
            try environment(credentials: credentials, config: config, ["AWS_PROFILE": "app"]))
        let refreshing = try #require(provider as? RefreshingCredentialProvider)
        let app = try #require(refreshing.source as? AssumeRoleCredentialSource)
        #expect(app.roleARN == "arn:aws:iam::1:role/app")
        #expect(app.sessionName == "app-session")
        let middle = try #require(app.base as? AssumeRoleCredentialSource)
        #expect(middle.roleARN == "arn:aws:iam::1:role/middle")
        #expect((middle.base as? FixedCredentialSource)?.credentials.accessKeyID == "BASEKEY")
    }

    @Test func profileRoleFromCredentialSourceAndWebIdentityFile() async throws {
        let config = """
            [profile fromcontainer]
            role_arn = arn:aws:iam::1:role/a
            credential_source = EcsContainer
            [profile fromtoken]
            role_arn = arn:aws:iam::1:role/b
            web_identity_token_file = /var/run/token
            """
        let fromContainer = try await resolve(
            try environment(
                config: config,
                ["AWS_PROFILE": "fromcontainer", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:9/c"]))
        let assumed = try #require(
            (fromContainer as? RefreshingCredentialProvider)?.source as? AssumeRoleCredentialSource)
        #expect(assumed.roleARN == "arn:aws:iam::1:role/a")
        #expect(assumed.base is ContainerCredentialSource)
        let fromToken = try await DefaultCredentialChainTests().resolve(
            try DefaultCredentialChainTests().environment(config: config, ["AWS_PROFILE": "fromtoken"]))
        #expect((fromToken as? RefreshingCredentialProvider)?.source is WebIdentityCredentialSource)
    }

    @Test func profileLoopsAndMissingProfilesAreErrors() async throws {
        let config =
            "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n"
            + "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\n"
        await #expect(throws: CredentialError.self) {
            try await resolve(try environment(config: config, ["AWS_PROFILE": "a"]))
        }
        await #expect(throws: CredentialError.self) {
            try await DefaultCredentialChainTests().resolve(
                try DefaultCredentialChainTests().environment(credentials: Self.keys, ["AWS_PROFILE": "nope"]))
        }
    }

    @Test func containerComesBeforeInstanceMetadata() async throws {
        let provider = try await resolve(try environment(metadata: "http://127.0.0.1:1338", Self.container))
        #expect((provider as? RefreshingCredentialProvider)?.source is ContainerCredentialSource)
        #expect(http.requests.isEmpty)
    }

    @Test func instanceMetadataIsTheLastResortAndAskedOnce() async throws {
        let provider = try await resolve(try environment(metadata: "http://127.0.0.1:1338"))
        #expect(provider.isReady)
        #expect(try await provider.credentials().accessKeyID == "ASIADOC")
        #expect(http.requests.count == 3)
    }

    @Test func nothingConfiguredIsAnError() async throws {
        let error = await #expect(throws: CredentialError.self) { try await resolve(try environment()) }
        #expect(error?.description.contains("instance metadata") == true)
    }
}
