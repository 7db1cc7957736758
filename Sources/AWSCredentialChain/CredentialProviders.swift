import AWSSigning

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A source of AWS credentials for signing.
public protocol CredentialProvider: Sendable {
    /// Where the credentials come from, for logs (never a secret).
    var name: String { get }
    /// Whether usable credentials are at hand now.
    var isReady: Bool { get }
    /// Credentials valid for signing now.
    func credentials() async throws -> AWSCredentials
    /// Keeps the credentials fresh until cancelled (returns at once when there is nothing to refresh).
    func run() async
}

/// Credentials fixed at start-up.
public struct StaticCredentialProvider: CredentialProvider {
    public let value: AWSCredentials
    public let name: String

    public init(_ value: AWSCredentials, name: String = "static credentials") {
        self.value = value
        self.name = name
    }

    public var isReady: Bool { true }

    public func credentials() async throws -> AWSCredentials { value }

    public func run() async {}
}

/// Why credentials could not be resolved.
public struct CredentialError: Error, CustomStringConvertible, Sendable {
    private enum Code: Sendable {
        case notFound
        case incomplete
        case unreadable
        case invalidSetting
        case fetchFailed
        case invalidResponse
    }

    private let code: Code
    public let description: String

    /// No provider of the chain found credentials.
    public static func notFound(_ detail: String) -> CredentialError {
        CredentialError(code: .notFound, description: detail)
    }
    /// A source names a key but not all of it.
    public static func incomplete(_ detail: String) -> CredentialError {
        CredentialError(code: .incomplete, description: detail)
    }
    /// A file could not be read.
    public static func unreadable(_ detail: String) -> CredentialError {
        CredentialError(code: .unreadable, description: detail)
    }
    /// A setting of a source is wrong (a URL, a profile that refers to itself).
    public static func invalidSetting(_ detail: String) -> CredentialError {
        CredentialError(code: .invalidSetting, description: detail)
    }
    /// A credentials endpoint did not answer, or refused.
    public static func fetchFailed(_ detail: String) -> CredentialError {
        CredentialError(code: .fetchFailed, description: detail)
    }
    /// A credentials endpoint answered something that is not credentials.
    public static func invalidResponse(_ detail: String) -> CredentialError {
        CredentialError(code: .invalidResponse, description: detail)
    }
}

/// Credentials from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
public enum EnvironmentCredentials {
    /// The environment's credentials, nil when `AWS_ACCESS_KEY_ID` is unset.
    public static func resolve(_ environment: [String: String]) throws(CredentialError) -> AWSCredentials? {
        guard let keyID = environment["AWS_ACCESS_KEY_ID"], !keyID.isEmpty else { return nil }
        guard let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            throw .incomplete("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not.")
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: token)
    }
}

/// The shared `credentials` and `config` files and their profiles, as the AWS SDKs read them.
public struct SharedConfigFiles: Sendable {
    /// The settings of each profile in the credentials file, by profile name.
    public var credentials: [String: [String: String]]
    /// The settings of each profile in the config file, by profile name (`[profile x]` read as `x`).
    public var config: [String: [String: String]]

    public init(credentials: [String: [String: String]], config: [String: [String: String]]) {
        self.credentials = credentials
        self.config = config
    }

    /// Reads the files the environment points at (`AWS_SHARED_CREDENTIALS_FILE`, `AWS_CONFIG_FILE`),
    /// or `~/.aws/credentials` and `~/.aws/config`. Missing files are empty.
    public static func load(environment: [String: String]) throws(CredentialError) -> SharedConfigFiles {
        let home = environment["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path
        let credentialsPath = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "\(home)/.aws/credentials"
        let configPath = environment["AWS_CONFIG_FILE"] ?? "\(home)/.aws/config"
        return SharedConfigFiles(
            credentials: try readINI(credentialsPath, profilePrefixed: false),
            config: try readINI(configPath, profilePrefixed: true))
    }

    private static func readINI(_ path: String, profilePrefixed: Bool) throws(CredentialError) -> [String: [String:
        String]]
    {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw .unreadable("Cannot read \(path).")
        }
        return parseINI(text, profilePrefixed: profilePrefixed)
    }

    /// Parses the INI dialect of the shared files. In the config file, sections other than
    /// `default` are named `[profile NAME]`.
    public static func parseINI(_ text: String, profilePrefixed: Bool) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.trimmed()
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
                var name = line.dropFirst().dropLast().trimmed()
                if profilePrefixed && name.hasPrefix("profile ") {
                    name = String(name.dropFirst("profile ".count)).trimmed()
                }
                current = name
                sections[name, default: [:]] = sections[name] ?? [:]
                continue
            }
            guard let section = current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmed().lowercased()
            let value = line[line.index(after: equals)...].trimmed()
            sections[section, default: [:]][key] = value
        }
        return sections
    }

    /// The static credentials of `profile`: the credentials file first, then the config file.
    public func credentials(profile: String) throws(CredentialError) -> AWSCredentials? {
        for source in [credentials[profile], config[profile]] {
            guard let settings = source, let keyID = settings["aws_access_key_id"] else { continue }
            guard let secret = settings["aws_secret_access_key"] else {
                throw .incomplete("Profile \(profile) has aws_access_key_id but no aws_secret_access_key.")
            }
            return AWSCredentials(
                accessKeyID: keyID, secretAccessKey: secret, sessionToken: settings["aws_session_token"])
        }
        return nil
    }

    /// Every setting of `profile`, the credentials file's over the config file's; nil if neither has it.
    public func settings(profile: String) -> [String: String]? {
        guard credentials[profile] != nil || config[profile] != nil else { return nil }
        return (config[profile] ?? [:]).merging(credentials[profile] ?? [:]) { $1 }
    }

    /// The `region` of `profile` in the config file.
    public func region(profile: String) -> String? {
        config[profile]?["region"]
    }
}
