/// The proxy's version, and how its calls to AWS name it: S3, STS and credential endpoints see
/// `sqs-extended-proxy/VERSION` as their User-Agent; SQS sees the client's own with it appended,
/// as the Java extended client appends its own to the SDK's.
public enum ProxyVersion {
    /// This build's version.
    public static let current = "0.11.0"
    /// The product token: `sqs-extended-proxy/VERSION`.
    public static let product = "sqs-extended-proxy/" + current

    /// The User-Agent of a call made for a client whose own was `client`.
    public static func userAgent(appendedTo client: String?) -> String {
        guard let client, !client.isEmpty else { return product }
        return client + " " + product
    }
}
