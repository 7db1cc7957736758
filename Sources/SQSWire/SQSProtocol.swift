/// The two wire protocols in which SDKs speak to SQS.
public enum SQSProtocol: String, Sendable {
    /// AWS JSON 1.0: `X-Amz-Target: AmazonSQS.<Action>` and a JSON body.
    case json
    /// AWS Query: a form-encoded `Action=<Action>&...` body, XML responses.
    case query

    /// The content type of this protocol's requests and successful responses.
    public var responseContentType: String {
        switch self {
        case .json: return "application/x-amz-json-1.0"
        case .query: return "text/xml"
        }
    }
}
