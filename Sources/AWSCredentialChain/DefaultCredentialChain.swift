import AWSSigning
import Logging

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The AWS SDKs' default credential chain, in their order: the environment's keys; a web identity
/// token file with a role (EKS IRSA); the shared files' profile (keys, or `role_arn` with
/// `source_profile`, `credential_source` or `web_identity_token_file`); the container endpoint
/// (ECS, EKS Pod Identity); EC2 instance metadata (IMDSv2). The first source that is configured
/// wins; temporary credentials from it are kept fresh by a ``RefreshingCredentialProvider``.
public struct DefaultCredentialChain: Sendable {
    public var environment: [String: String]
    let files: SharedConfigFiles
    let http: any CredentialHTTPClient
    let sts: STSClient
    let logger: Logger
    let sessionName: String

    /// - Parameters:
    ///   - environment: the process environment.
    ///   - http: the client for STS, the container endpoint and instance metadata.
    ///   - sts: where `AssumeRole` and `AssumeRoleWithWebIdentity` go.
    public init(
        environment: [String: String], http: any CredentialHTTPClient, sts: STSClient, logger: Logger
    ) throws(CredentialError) {
        self.environment = environment
        self.files = try SharedConfigFiles.load(environment: environment)
        self.http = http
        self.sts = sts
        self.logger = logger
        self.sessionName =
            environment["AWS_ROLE_SESSION_NAME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? "sqs-extended-proxy-\(Int(Date().timeIntervalSince1970))"
    }

    /// The provider of the first configured source. Instance metadata, the last resort, is
    /// asked once here; every other source is only configured here and fetched by the provider.
    public func resolve() async throws(CredentialError) -> any CredentialProvider {
        if let credentials = try EnvironmentCredentials.resolve(environment) {
            return StaticCredentialProvider(credentials, name: "environment")
        }
        if let source = try webIdentityFromEnvironment() {
            return RefreshingCredentialProvider(source: source, logger: logger)
        }
        let explicitProfile = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 }
        let profile = explicitProfile ?? "default"
        if files.settings(profile: profile) != nil {
            switch try profileCredentials(profile, visited: []) {
            case .fixed(let credentials):
                return StaticCredentialProvider(credentials, name: "profile \(profile)")
            case .source(let source):
                return RefreshingCredentialProvider(source: source, logger: logger)
            case nil: break
            }
        } else if let explicitProfile {
            throw .notFound("AWS_PROFILE names profile '\(explicitProfile)', which the shared files do not have.")
        }
        if let source = try ContainerCredentialSource.from(environment: environment, http: http) {
            return RefreshingCredentialProvider(source: source, logger: logger)
        }
        if let source = InstanceMetadataCredentialSource.from(environment: environment, http: http),
            let credentials = try? await source.fetch()
        {
            return RefreshingCredentialProvider(source: source, initial: credentials, logger: logger)
        }
        throw .notFound(
            "No AWS credentials: looked at AWS_ACCESS_KEY_ID, AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, profile '\(profile)' in the shared files, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI and instance metadata."
        )
    }

    private func webIdentityFromEnvironment() throws(CredentialError) -> WebIdentityCredentialSource? {
        let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        let roleARN = environment["AWS_ROLE_ARN"].flatMap { $0.isEmpty ? nil : $0 }
        switch (tokenFile, roleARN) {
        case (nil, _): return nil
        case (.some, nil): throw .incomplete("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not.")
        case (.some(let tokenFile), .some(let roleARN)):
            return WebIdentityCredentialSource(
                roleARN: roleARN, sessionName: sessionName, tokenFile: tokenFile, sts: sts)
        }
    }

    private enum ProfileCredentials {
        case fixed(AWSCredentials)
        case source(any CredentialSource)
    }

    /// A profile's credentials: an assumed role (whose base may be another profile, up the
    /// `source_profile` chain), or its keys; nil when it has neither.
    private func profileCredentials(_ profile: String, visited: Set<String>) throws(CredentialError)
        -> ProfileCredentials?
    {
        guard let settings = files.settings(profile: profile) else {
            throw .invalidSetting("source_profile '\(profile)' is not in the shared files.")
        }
        guard let roleARN = settings["role_arn"] else {
            return try files.credentials(profile: profile).map { .fixed($0) }
        }
        let roleSessionName = settings["role_session_name"] ?? sessionName
        if let tokenFile = settings["web_identity_token_file"] {
            return .source(
                WebIdentityCredentialSource(
                    roleARN: roleARN, sessionName: roleSessionName, tokenFile: tokenFile, sts: sts))
        }
        let base: any CredentialSource
        if let sourceProfile = settings["source_profile"] {
            if sourceProfile == profile, let keys = try files.credentials(profile: profile) {
                base = FixedCredentialSource(keys, name: "profile \(profile)")
            } else {
                guard !visited.contains(sourceProfile), sourceProfile != profile else {
                    throw .invalidSetting("The source_profile chain of profile '\(profile)' loops.")
                }
                switch try profileCredentials(sourceProfile, visited: visited.union([profile])) {
                case .fixed(let keys): base = FixedCredentialSource(keys, name: "profile \(sourceProfile)")
                case .source(let source): base = source
                case nil: throw .incomplete("source_profile '\(sourceProfile)' has no credentials.")
                }
            }
        } else if let credentialSource = settings["credential_source"] {
            base = try namedSource(credentialSource, profile: profile)
        } else {
            throw .incomplete("Profile '\(profile)' has role_arn but no source_profile or credential_source.")
        }
        return .source(
            AssumeRoleCredentialSource(
                roleARN: roleARN, sessionName: roleSessionName, externalID: settings["external_id"],
                durationSeconds: settings["duration_seconds"].flatMap { Int($0) }, base: base, sts: sts))
    }

    /// The base of `credential_source`: `Environment`, `EcsContainer` or `Ec2InstanceMetadata`.
    private func namedSource(_ name: String, profile: String) throws(CredentialError) -> any CredentialSource {
        switch name {
        case "Environment":
            guard let credentials = try EnvironmentCredentials.resolve(environment) else {
                throw .incomplete("Profile '\(profile)' takes credentials from the environment, which has none.")
            }
            return FixedCredentialSource(credentials, name: "environment")
        case "EcsContainer":
            guard let source = try ContainerCredentialSource.from(environment: environment, http: http) else {
                throw .incomplete("Profile '\(profile)' takes container credentials, but no container endpoint is set.")
            }
            return source
        case "Ec2InstanceMetadata":
            guard let source = InstanceMetadataCredentialSource.from(environment: environment, http: http) else {
                throw .incomplete("Profile '\(profile)' takes instance metadata credentials, which are disabled.")
            }
            return source
        default:
            throw .invalidSetting("Profile '\(profile)' has an unknown credential_source: \(name)")
        }
    }
}
