import AWSSigning
import NIOCore
import NIOHTTP1
import TextCoding

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Where temporary credentials come from: every fetch returns fresh ones with their expiry time.
public protocol CredentialSource: Sendable {
    /// What the source is, for logs (never a secret).
    var name: String { get }
    /// Fetches credentials.
    func fetch() async throws(CredentialError) -> AWSCredentials
}

/// Long-term keys, as the base of an assumed role.
public struct FixedCredentialSource: CredentialSource {
    public let credentials: AWSCredentials
    public let name: String

    public init(_ credentials: AWSCredentials, name: String) {
        self.credentials = credentials
        self.name = name
    }

    public func fetch() async throws(CredentialError) -> AWSCredentials { credentials }
}

/// EKS IRSA: a web identity token file and a role, exchanged at STS. The file is read again on
/// every fetch, since the kubelet rotates the token.
public struct WebIdentityCredentialSource: CredentialSource {
    public let roleARN: String
    public let sessionName: String
    public let tokenFile: String
    let sts: STSClient

    public init(roleARN: String, sessionName: String, tokenFile: String, sts: STSClient) {
        self.roleARN = roleARN
        self.sessionName = sessionName
        self.tokenFile = tokenFile
        self.sts = sts
    }

    public var name: String { "web identity (\(roleARN))" }

    public func fetch() async throws(CredentialError) -> AWSCredentials {
        let token = try CredentialFile.read(tokenFile, what: "web identity token file")
        return try await sts.assumeRoleWithWebIdentity(roleARN: roleARN, sessionName: sessionName, token: token)
    }
}

/// A profile's `role_arn`, assumed with the credentials of its `source_profile` or `credential_source`.
public struct AssumeRoleCredentialSource: CredentialSource {
    public let roleARN: String
    public let sessionName: String
    public let externalID: String?
    public let durationSeconds: Int?
    let base: any CredentialSource
    let sts: STSClient

    public init(
        roleARN: String, sessionName: String, externalID: String? = nil, durationSeconds: Int? = nil,
        base: any CredentialSource, sts: STSClient
    ) {
        self.roleARN = roleARN
        self.sessionName = sessionName
        self.externalID = externalID
        self.durationSeconds = durationSeconds
        self.base = base
        self.sts = sts
    }

    public var name: String { "assumed role \(roleARN) from \(base.name)" }

    public func fetch() async throws(CredentialError) -> AWSCredentials {
        let baseCredentials = try await base.fetch()
        return try await sts.assumeRole(
            roleARN: roleARN, sessionName: sessionName, externalID: externalID, durationSeconds: durationSeconds,
            with: baseCredentials)
    }
}

/// The container credentials endpoint: the ECS task role, or EKS Pod Identity with its
/// authorization token (read again from its file on every fetch).
public struct ContainerCredentialSource: CredentialSource {
    /// The link-local address of the ECS endpoint, for relative URIs.
    public static let ecsOrigin = "http://169.254.170.2"

    public let url: String
    let authorization: Authorization?
    let http: any CredentialHTTPClient
    let timeout: TimeAmount

    enum Authorization: Sendable {
        case token(String)
        case file(String)
    }

    public var name: String { "container credentials (\(url))" }

    /// The source the environment describes, nil when it names none. Full URIs must be HTTPS or
    /// go to a loopback or the ECS/EKS link-local addresses, as the SDKs require.
    public static func from(
        environment: [String: String], http: any CredentialHTTPClient, timeout: TimeAmount = .seconds(2)
    ) throws(CredentialError) -> ContainerCredentialSource? {
        let url: String
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            url = ecsOrigin + (relative.hasPrefix("/") ? "" : "/") + relative
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty {
            guard let endpoint = UpstreamEndpoint(full) else {
                throw .invalidSetting("AWS_CONTAINER_CREDENTIALS_FULL_URI is not an http(s) URL: \(full)")
            }
            guard endpoint.scheme == "https" || isAllowedPlainHost(endpoint.host) else {
                throw .invalidSetting(
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback address, 169.254.170.2, 169.254.170.23 or fd00:ec2::23: \(full)"
                )
            }
            url = full
        } else {
            return nil
        }
        var authorization: Authorization?
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !file.isEmpty {
            authorization = .file(file)
        } else if let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], !token.isEmpty {
            authorization = .token(token)
        }
        return ContainerCredentialSource(url: url, authorization: authorization, http: http, timeout: timeout)
    }

    static func isAllowedPlainHost(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        if ["localhost", "::1", "169.254.170.2", "169.254.170.23", "fd00:ec2::23"].contains(bare.lowercased()) {
            return true
        }
        let octets = bare.split(separator: ".")
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    public func fetch() async throws(CredentialError) -> AWSCredentials {
        var headers: [(name: String, value: String)] = [("accept", "application/json")]
        switch authorization {
        case .token(let token): headers.append(("authorization", token))
        case .file(let path):
            headers.append(("authorization", try CredentialFile.read(path, what: "container authorization token file")))
        case nil: break
        }
        let response: CredentialHTTPResponse
        do {
            response = try await http.send(
                CredentialHTTPRequest(service: "container", method: .GET, url: url, headers: headers, timeout: timeout))
        } catch {
            throw .fetchFailed("The container credentials endpoint \(url) did not answer: \(error)")
        }
        guard response.status == 200 else {
            throw .fetchFailed("The container credentials endpoint \(url) answered HTTP \(response.status).")
        }
        return try CredentialDocument.parse(response.body, from: "the container credentials endpoint")
    }
}

/// EC2 instance metadata, IMDSv2: a session token first, then the instance role's credentials.
public struct InstanceMetadataCredentialSource: CredentialSource {
    /// The instance metadata address.
    public static let defaultEndpoint = "http://169.254.169.254"

    public let endpoint: String
    let http: any CredentialHTTPClient
    let timeout: TimeAmount

    public init(endpoint: String = defaultEndpoint, http: any CredentialHTTPClient, timeout: TimeAmount = .seconds(1)) {
        var endpoint = endpoint
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        self.endpoint = endpoint
        self.http = http
        self.timeout = timeout
    }

    /// The source the environment allows (`AWS_EC2_METADATA_DISABLED`), at
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT` or the default address.
    public static func from(environment: [String: String], http: any CredentialHTTPClient)
        -> InstanceMetadataCredentialSource?
    {
        guard environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() != "true" else { return nil }
        return InstanceMetadataCredentialSource(
            endpoint: environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }
                ?? defaultEndpoint,
            http: http)
    }

    public var name: String { "instance metadata (\(endpoint))" }

    public func fetch() async throws(CredentialError) -> AWSCredentials {
        let token = try await call(
            .PUT, "/latest/api/token", headers: [("x-aws-ec2-metadata-token-ttl-seconds", "21600")])
        let tokenHeader = [(name: "x-aws-ec2-metadata-token", value: token)]
        let roles = try await call(.GET, "/latest/meta-data/iam/security-credentials/", headers: tokenHeader)
        guard let role = roles.split(whereSeparator: \.isNewline).first.map(String.init), !role.isEmpty else {
            throw .fetchFailed("The instance has no IAM role.")
        }
        let document = try await call(
            .GET, "/latest/meta-data/iam/security-credentials/" + PercentEncoding.encode(role, keepSlash: false),
            headers: tokenHeader)
        return try CredentialDocument.parse(document, from: "instance metadata")
    }

    private func call(_ method: HTTPMethod, _ path: String, headers: [(name: String, value: String)])
        async throws(CredentialError) -> String
    {
        let response: CredentialHTTPResponse
        do {
            response = try await http.send(
                CredentialHTTPRequest(
                    service: "imds", method: method, url: endpoint + path, headers: headers, timeout: timeout))
        } catch {
            throw .fetchFailed("Instance metadata at \(endpoint) did not answer: \(error)")
        }
        guard response.status == 200 else {
            throw .fetchFailed("Instance metadata answered HTTP \(response.status) to \(method) \(path).")
        }
        return response.body
    }
}

/// The JSON credentials document of the container endpoint and of instance metadata.
enum CredentialDocument {
    private struct Document: Decodable {
        var code: String?
        var accessKeyID: String?
        var secretAccessKey: String?
        var token: String?
        var expiration: String?

        enum CodingKeys: String, CodingKey {
            case code = "Code"
            case accessKeyID = "AccessKeyId"
            case secretAccessKey = "SecretAccessKey"
            case token = "Token"
            case expiration = "Expiration"
        }
    }

    static func parse(_ text: String, from origin: String) throws(CredentialError) -> AWSCredentials {
        guard let document = try? JSONDecoder().decode(Document.self, from: Data(text.utf8)) else {
            throw .invalidResponse("The answer of \(origin) is not a credentials document.")
        }
        if let code = document.code, code != "Success" {
            throw .fetchFailed("\(origin) answered \(code).")
        }
        guard let keyID = document.accessKeyID, let secret = document.secretAccessKey else {
            throw .invalidResponse("The answer of \(origin) has no AccessKeyId or SecretAccessKey.")
        }
        var expiration: Date?
        if let text = document.expiration {
            guard let date = ISO8601Time.parse(text) else {
                throw .invalidResponse("The answer of \(origin) has an unreadable Expiration: \(text)")
            }
            expiration = date
        }
        return AWSCredentials(
            accessKeyID: keyID, secretAccessKey: secret, sessionToken: document.token, expiration: expiration)
    }
}

/// Small files credential sources read on every fetch (tokens that are rotated).
enum CredentialFile {
    static func read(_ path: String, what: String) throws(CredentialError) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .unreadable("Cannot read the \(what) \(path).")
        }
        let token = text.trimmed()
        guard !token.isEmpty else { throw .unreadable("The \(what) \(path) is empty.") }
        return token
    }
}
