import AWSCredentialChain
import AWSSigning
import Logging
import NIOHTTP1
import NIOPosix
import SQSWire
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The access keys clients must sign their requests with, read from a file in the shared-credentials
/// format (a section per key with `aws_access_key_id` and `aws_secret_access_key`), and read again
/// when the file changes.
public final class ClientCredentials: Sendable {
    /// The file.
    public let path: String
    private let state: Mutex<(text: String, secrets: [String: String])>

    /// Reads the file; a file that cannot be read or holds no complete key is a configuration error.
    public init(path: String) throws(ConfigurationError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("client-credentials: cannot read \(path).")
        }
        let text = String(decoding: data, as: UTF8.self)
        let secrets = try Self.parse(text).get()
        self.path = path
        state = Mutex((text, secrets))
    }

    /// The secret of `accessKeyID`, nil for a key that is not in the file.
    func secret(for accessKeyID: String) -> String? {
        state.withLock { $0.secrets[accessKeyID] }
    }

    /// How many keys are known.
    public var count: Int { state.withLock { $0.secrets.count } }

    /// The keys of a credentials file by access key id; an error for a section without both
    /// settings, a key id given twice, or a file without any key.
    static func parse(_ text: String) -> Result<[String: String], ConfigurationError> {
        var secrets: [String: String] = [:]
        for (section, settings) in SharedConfigFiles.parseINI(text, profilePrefixed: false).sorted(by: {
            $0.key < $1.key
        }) {
            guard let keyID = settings["aws_access_key_id"], !keyID.isEmpty,
                let secret = settings["aws_secret_access_key"], !secret.isEmpty
            else {
                return .failure(
                    ConfigurationError(
                        "client-credentials: section [\(section)] needs aws_access_key_id and aws_secret_access_key."))
            }
            guard secrets[keyID] == nil else {
                return .failure(ConfigurationError("client-credentials: the key \(keyID) is given twice."))
            }
            secrets[keyID] = secret
        }
        guard !secrets.isEmpty else { return .failure(ConfigurationError("client-credentials: the file has no key.")) }
        return .success(secrets)
    }

    /// Reads the file again, off the event loops; takes its keys if its text changed and is valid.
    /// Returns what happened, for the log: nil when nothing changed.
    public func reload() async -> Result<Int, ConfigurationError>? {
        let path = self.path
        let data = try? await NIOThreadPool.singleton.runIfActive { FileManager.default.contents(atPath: path) }
        guard let data else { return .failure(ConfigurationError("cannot read \(path)")) }
        let text = String(decoding: data, as: UTF8.self)
        guard state.withLock({ $0.text != text }) else { return nil }
        switch Self.parse(text) {
        case .success(let secrets):
            state.withLock { $0 = (text, secrets) }
            return .success(secrets.count)
        case .failure(let error):
            return .failure(error)
        }
    }
}

/// Verifies clients' SigV4 signatures against ``ClientCredentials``: the head when it arrives,
/// the signature once the body's SHA-256 is known. Failures are the errors AWS answers.
struct ClientAuthenticator: Sendable {
    let credentials: ClientCredentials
    let verifier = SigV4Verifier(service: "sqs")

    /// Checks a request's head: signed, with a known key, in time.
    func check(_ head: HTTPRequestHead) throws(SQSError) -> SigV4Verifier.PendingSignature {
        let uri = head.uri
        let mark = uri.firstIndex(of: "?")
        let result = verifier.check(
            method: head.method.rawValue, path: String(uri[..<(mark ?? uri.endIndex)]),
            query: mark.map { String(uri[uri.index(after: $0)...]) } ?? "",
            headers: head.headers.map { ($0.name, $0.value) }, now: SigningDate.now().secondsSince1970,
            secret: credentials.secret(for:))
        switch result {
        case .success(let pending): return pending
        case .failure(let failure): throw Self.error(failure)
        }
    }

    /// Compares the signature, given the hex SHA-256 of the whole body.
    func verify(_ pending: SigV4Verifier.PendingSignature, payloadHash: String) throws(SQSError) {
        if case .failure(let failure) = pending.verify(payloadHash: payloadHash) { throw Self.error(failure) }
    }

    static func error(_ failure: SigV4Verifier.Failure) -> SQSError {
        switch failure {
        case .missing:
            return SQSError(
                shape: "MissingAuthenticationToken", status: 403, message: "Request is missing Authentication Token")
        case .malformed(let message):
            return SQSError(shape: "IncompleteSignature", status: 400, message: message)
        case .unknownKey(let message):
            return SQSError(shape: "InvalidClientTokenId", status: 403, message: message)
        case .expired(let message):
            return SQSError(shape: "RequestExpired", status: 403, message: message)
        case .mismatch(let message):
            return SQSError(shape: "SignatureDoesNotMatch", status: 403, message: message)
        }
    }
}
