import AWSSigning
import Foundation
import Logging
import NIOCore
import Synchronization
import Testing

@testable import AWSCredentialChain

/// A credential endpoint played from a script: each request is recorded and answered by `answer`.
final class ScriptedCredentialHTTP: CredentialHTTPClient {
    let answer: @Sendable (CredentialHTTPRequest) throws -> CredentialHTTPResponse
    private let recorded = Mutex<[CredentialHTTPRequest]>([])

    init(answer: @escaping @Sendable (CredentialHTTPRequest) throws -> CredentialHTTPResponse) {
        self.answer = answer
    }

    var requests: [CredentialHTTPRequest] { recorded.withLock { $0 } }

    func send(_ request: CredentialHTTPRequest) async throws -> CredentialHTTPResponse {
        recorded.withLock { $0.append(request) }
        return try answer(request)
    }

    func header(_ name: String, of request: CredentialHTTPRequest) -> String? {
        request.headers.first { $0.name.lowercased() == name }?.value
    }
}

struct CredentialSourceTests {
    static let stsAnswer = """
        <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <AssumeRoleWithWebIdentityResult>
            <Credentials>
              <AccessKeyId>ASIASTS</AccessKeyId>
              <SecretAccessKey>sts/secret+key</SecretAccessKey>
              <SessionToken>FwoG&amp;token==</SessionToken>
              <Expiration>2026-11-29T13:00:00Z</Expiration>
            </Credentials>
          </AssumeRoleWithWebIdentityResult>
        </AssumeRoleWithWebIdentityResponse>
        """
    static let document = """
        {"AccessKeyId":"ASIADOC","SecretAccessKey":"docsecret","Token":"doctoken","Expiration":"2099-01-01T00:00:00Z","Code":"Success"}
        """

    static func temporaryFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func sts(_ http: any CredentialHTTPClient) -> STSClient {
        STSClient(
            endpoint: UpstreamEndpoint("http://sts.test:4566")!, region: "eu-west-1", http: http, timeout: .seconds(1))
    }

    static func form(_ body: String?) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in (body ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
            fields[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return fields
    }

    @Test func stsAnswerIsParsed() throws {
        let credentials = try STSClient.credentials(fromResponse: Self.stsAnswer)
        #expect(credentials.accessKeyID == "ASIASTS")
        #expect(credentials.secretAccessKey == "sts/secret+key")
        #expect(credentials.sessionToken == "FwoG&token==")
        #expect(credentials.expiration == Date(timeIntervalSince1970: 1_795_957_200))
        #expect(throws: CredentialError.self) { try STSClient.credentials(fromResponse: "<Credentials/>") }
    }

    @Test func webIdentityReadsTheTokenFileOnEveryFetch() async throws {
        let http = ScriptedCredentialHTTP { _ in CredentialHTTPResponse(status: 200, body: Self.stsAnswer) }
        let tokenFile = try Self.temporaryFile("first.jwt\n")
        defer { try? FileManager.default.removeItem(atPath: tokenFile) }
        let source = WebIdentityCredentialSource(
            roleARN: "arn:aws:iam::123456789012:role/app", sessionName: "s1", tokenFile: tokenFile, sts: Self.sts(http))
        #expect(try await source.fetch().accessKeyID == "ASIASTS")
        try "second.jwt".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        _ = try await source.fetch()
        let requests = http.requests
        #expect(requests.count == 2)
        #expect(requests[0].url == "http://sts.test:4566/")
        #expect(requests[0].method == .POST)
        #expect(http.header("authorization", of: requests[0]) == nil)
        let first = Self.form(requests[0].body)
        #expect(first["Action"] == "AssumeRoleWithWebIdentity")
        #expect(first["RoleArn"] == "arn:aws:iam::123456789012:role/app")
        #expect(first["RoleSessionName"] == "s1")
        #expect(first["WebIdentityToken"] == "first.jwt")
        #expect(Self.form(requests[1].body)["WebIdentityToken"] == "second.jwt")
    }

    @Test func stsRefusalIsAnError() async throws {
        let http = ScriptedCredentialHTTP { _ in
            CredentialHTTPResponse(
                status: 403,
                body:
                    "<ErrorResponse><Error><Code>AccessDenied</Code><Message>Not authorized</Message></Error></ErrorResponse>"
            )
        }
        let tokenFile = try Self.temporaryFile("t")
        defer { try? FileManager.default.removeItem(atPath: tokenFile) }
        let source = WebIdentityCredentialSource(
            roleARN: "arn:aws:iam::1:role/r", sessionName: "s", tokenFile: tokenFile, sts: Self.sts(http))
        let error = await #expect(throws: CredentialError.self) { try await source.fetch() }
        #expect(error?.description.contains("AccessDenied") == true)
    }

    @Test func assumeRoleIsSignedWithTheBaseCredentials() async throws {
        let http = ScriptedCredentialHTTP { _ in CredentialHTTPResponse(status: 200, body: Self.stsAnswer) }
        let source = AssumeRoleCredentialSource(
            roleARN: "arn:aws:iam::1:role/target", sessionName: "s", externalID: "ext-1", durationSeconds: 900,
            base: FixedCredentialSource(AWSCredentials(accessKeyID: "AKIABASE", secretAccessKey: "b"), name: "base"),
            sts: Self.sts(http))
        #expect(try await source.fetch().accessKeyID == "ASIASTS")
        let request = try #require(http.requests.first)
        #expect(http.header("authorization", of: request)?.contains("Credential=AKIABASE/") == true)
        #expect(http.header("authorization", of: request)?.contains("/eu-west-1/sts/aws4_request") == true)
        let form = Self.form(request.body)
        #expect(form["Action"] == "AssumeRole")
        #expect(form["ExternalId"] == "ext-1")
        #expect(form["DurationSeconds"] == "900")
    }

    @Test func containerSourceSendsItsAuthorizationToken() async throws {
        let http = ScriptedCredentialHTTP { _ in CredentialHTTPResponse(status: 200, body: Self.document) }
        let tokenFile = try Self.temporaryFile("pod-identity-token\n")
        defer { try? FileManager.default.removeItem(atPath: tokenFile) }
        let source = try #require(
            try ContainerCredentialSource.from(
                environment: [
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/v1/credentials",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile, "AWS_CONTAINER_AUTHORIZATION_TOKEN": "ignored",
                ], http: http))
        let credentials = try await source.fetch()
        #expect(
            credentials
                == AWSCredentials(
                    accessKeyID: "ASIADOC", secretAccessKey: "docsecret", sessionToken: "doctoken",
                    expiration: Date(timeIntervalSince1970: 4_070_908_800)))
        let request = try #require(http.requests.first)
        #expect(request.url == "http://169.254.170.23/v1/credentials")
        #expect(http.header("authorization", of: request) == "pod-identity-token")
    }

    @Test func containerRelativeURIGoesToTheECSAddress() throws {
        let http = ScriptedCredentialHTTP { _ in CredentialHTTPResponse(status: 500, body: "") }
        let source = try ContainerCredentialSource.from(
            environment: ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc"], http: http)
        #expect(source?.url == "http://169.254.170.2/v2/credentials/abc")
        #expect(try ContainerCredentialSource.from(environment: [:], http: http) == nil)
    }

    @Test(arguments: [
        ("http://127.0.0.1:8080/creds", true), ("http://localhost/creds", true), ("http://[::1]:80/c", true),
        ("https://creds.example.com/c", true), ("http://169.254.170.2/c", true), ("http://[fd00:ec2::23]/c", true),
        ("http://example.com/creds", false), ("http://10.0.0.1/creds", false), ("ftp://127.0.0.1/c", false),
    ])
    func containerFullURIMustBeSafe(url: String, allowed: Bool) {
        let http = ScriptedCredentialHTTP { _ in CredentialHTTPResponse(status: 500, body: "") }
        let source = try? ContainerCredentialSource.from(
            environment: ["AWS_CONTAINER_CREDENTIALS_FULL_URI": url], http: http)
        #expect((source != nil) == allowed)
    }

    @Test func instanceMetadataUsesASessionToken() async throws {
        let http = ScriptedCredentialHTTP { request in
            switch (request.method, request.url) {
            case (.PUT, "http://127.0.0.1:1338/latest/api/token"):
                return CredentialHTTPResponse(status: 200, body: "imds-token")
            case (.GET, "http://127.0.0.1:1338/latest/meta-data/iam/security-credentials/"):
                return CredentialHTTPResponse(status: 200, body: "app-role\n")
            case (.GET, "http://127.0.0.1:1338/latest/meta-data/iam/security-credentials/app-role"):
                return CredentialHTTPResponse(status: 200, body: Self.document)
            default:
                return CredentialHTTPResponse(status: 404, body: "")
            }
        }
        let source = try #require(
            InstanceMetadataCredentialSource.from(
                environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1338/"], http: http))
        #expect(try await source.fetch().accessKeyID == "ASIADOC")
        let requests = http.requests
        #expect(requests.count == 3)
        #expect(http.header("x-aws-ec2-metadata-token-ttl-seconds", of: requests[0]) == "21600")
        #expect(http.header("x-aws-ec2-metadata-token", of: requests[1]) == "imds-token")
        #expect(http.header("x-aws-ec2-metadata-token", of: requests[2]) == "imds-token")
        #expect(
            InstanceMetadataCredentialSource.from(environment: ["AWS_EC2_METADATA_DISABLED": "true"], http: http) == nil
        )
    }

    @Test func instanceMetadataFailureIsAnError() async throws {
        let http = ScriptedCredentialHTTP { request in
            request.method == .PUT
                ? CredentialHTTPResponse(status: 200, body: "t")
                : CredentialHTTPResponse(
                    status: 200, body: #"{"Code":"AssumeRoleUnauthorizedAccess","Message":"no"}"#)
        }
        let source = InstanceMetadataCredentialSource(endpoint: "http://127.0.0.1:1", http: http)
        await #expect(throws: CredentialError.self) { try await source.fetch() }
    }
}
