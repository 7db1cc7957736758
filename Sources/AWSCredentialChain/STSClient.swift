import AWSSigning
import NIOCore
import TextCoding

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The STS calls, in STS's Query protocol, that credential sources make, `AssumeRoleWithWebIdentity`
/// (unsigned: the token is the proof) and `AssumeRole` (signed with the source credentials), and
/// `GetCallerIdentity`, which `check` makes.
public struct STSClient: Sendable {
    public let endpoint: UpstreamEndpoint
    public let region: String
    let http: any CredentialHTTPClient
    let timeout: TimeAmount

    public init(endpoint: UpstreamEndpoint, region: String, http: any CredentialHTTPClient, timeout: TimeAmount) {
        self.endpoint = endpoint
        self.region = region
        self.http = http
        self.timeout = timeout
    }

    /// Exchanges a web identity token (EKS IRSA) for temporary credentials of `roleARN`.
    public func assumeRoleWithWebIdentity(roleARN: String, sessionName: String, token: String)
        async throws(CredentialError) -> AWSCredentials
    {
        let form = Self.form([
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
            ("RoleSessionName", sessionName), ("WebIdentityToken", token),
        ])
        return try await call(form, signedWith: nil)
    }

    /// Assumes `roleARN` with `credentials`; `externalID` and `durationSeconds` as the profile gives them.
    public func assumeRole(
        roleARN: String, sessionName: String, externalID: String?, durationSeconds: Int?,
        with credentials: AWSCredentials
    ) async throws(CredentialError) -> AWSCredentials {
        var parameters = [
            ("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", roleARN), ("RoleSessionName", sessionName),
        ]
        if let externalID { parameters.append(("ExternalId", externalID)) }
        if let durationSeconds { parameters.append(("DurationSeconds", String(durationSeconds))) }
        return try await call(Self.form(parameters), signedWith: credentials)
    }

    /// The identity `credentials` stand for: its ARN and account.
    public func callerIdentity(with credentials: AWSCredentials) async throws(CredentialError)
        -> (arn: String, account: String)
    {
        let form = Self.form([("Action", "GetCallerIdentity"), ("Version", "2011-06-15")])
        let document = XMLElementNode.parse(Array(try await send(form, signedWith: credentials).utf8))
        guard let arn = document?.first("Arn")?.text, let account = document?.first("Account")?.text else {
            throw .invalidResponse("STS answered GetCallerIdentity without an ARN and an account.")
        }
        return (arn, account)
    }

    private func call(_ form: String, signedWith credentials: AWSCredentials?) async throws(CredentialError)
        -> AWSCredentials
    {
        try Self.credentials(fromResponse: try await send(form, signedWith: credentials))
    }

    /// Posts `form`, signed when `credentials` are given; the body of a 200 answer.
    private func send(_ form: String, signedWith credentials: AWSCredentials?) async throws(CredentialError)
        -> String
    {
        var headers: [(name: String, value: String)] = [
            ("host", endpoint.hostHeader), ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
        ]
        if let credentials {
            let signature = SigV4Signer(region: region, service: "sts").sign(
                method: "POST", path: endpoint.basePath + "/", query: "",
                headers: headers, payloadHash: SigV4Signer.payloadHash(Array(form.utf8)), credentials: credentials,
                date: .now())
            headers.append(contentsOf: signature.headers)
        }
        let response: CredentialHTTPResponse
        do {
            response = try await http.send(
                CredentialHTTPRequest(
                    service: "sts", method: .POST, url: endpoint.description + "/", headers: headers, body: form,
                    timeout: timeout))
        } catch {
            throw .fetchFailed("STS at \(endpoint) did not answer: \(error)")
        }
        guard response.status == 200 else {
            let document = XMLElementNode.parse(Array(response.body.utf8))
            let code = document?.first("Code")?.text ?? "HTTP \(response.status)"
            let message = document?.first("Message")?.text ?? ""
            throw .fetchFailed("STS at \(endpoint) refused: \(code) \(message)")
        }
        return response.body
    }

    /// The `Credentials` element of an `AssumeRole*` answer.
    public static func credentials(fromResponse xml: String) throws(CredentialError) -> AWSCredentials {
        let document = XMLElementNode.parse(Array(xml.utf8))
        guard let keyID = document?.first("AccessKeyId")?.text,
            let secret = document?.first("SecretAccessKey")?.text,
            let token = document?.first("SessionToken")?.text,
            let expirationText = document?.first("Expiration")?.text
        else { throw .invalidResponse("STS answered without complete credentials.") }
        guard let expiration = ISO8601Time.parse(expirationText) else {
            throw .invalidResponse("STS answered an unreadable expiry time: \(expirationText)")
        }
        return AWSCredentials(
            accessKeyID: keyID, secretAccessKey: secret, sessionToken: token, expiration: expiration)
    }

    static func form(_ parameters: [(name: String, value: String)]) -> String {
        String(decoding: PercentEncoding.form(parameters), as: UTF8.self)
    }
}

/// The ISO 8601 times of credential expiry (`2026-11-29T12:00:00Z`, with or without fractions).
enum ISO8601Time {
    static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmed()
        if let date = try? Date(trimmed, strategy: .iso8601) { return date }
        return try? Date(trimmed, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
