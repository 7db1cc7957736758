/// An error in the shape SQS returns it, which SDKs raise as typed exceptions.
public struct SQSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Who is at fault: the client (`Sender`, 4xx) or the service (`Receiver`, 5xx).
    public enum Fault: String, Sendable {
        case sender = "Sender"
        case receiver = "Receiver"
    }

    /// The shape name, sent as `__type` in the JSON protocol (`QueueDoesNotExist`).
    public var shape: String
    /// The legacy code, sent as the Query protocol's `Code` and in `x-amzn-query-error`.
    public var queryCode: String
    /// The HTTP status.
    public var status: Int
    /// Sender or receiver fault.
    public var fault: Fault
    /// The human-readable message.
    public var message: String

    /// An error with explicit shape, legacy code and status.
    public init(shape: String, queryCode: String? = nil, status: Int = 400, fault: Fault? = nil, message: String) {
        self.shape = shape
        self.queryCode = queryCode ?? shape
        self.status = status
        self.fault = fault ?? (status >= 500 ? .receiver : .sender)
        self.message = message
    }

    public var description: String { "\(shape) (\(status)): \(message)" }

    /// The body could not be parsed in the protocol it claims.
    public static func malformedRequest(_ detail: String) -> SQSError {
        SQSError(shape: "InvalidParameterValue", message: detail)
    }

    /// A required parameter is missing.
    public static func missingParameter(_ name: String, action: SQSAction) -> SQSError {
        SQSError(
            shape: "MissingParameter",
            message: "The request must contain the parameter \(name) for \(action.rawValue).")
    }

    /// A parameter has a value the operation cannot take.
    public static func invalidParameterValue(_ message: String) -> SQSError {
        SQSError(shape: "InvalidParameterValue", message: message)
    }

    /// The request names no action or one that SQS does not have.
    public static func invalidAction(_ name: String) -> SQSError {
        SQSError(
            shape: "InvalidAction",
            message: name.isEmpty
                ? "The request names no action." : "The action \(name) is not valid for this endpoint.")
    }

    /// SQS's answer to a batch of more than ``SQSLimits/maxBatchEntries`` entries.
    public static let tooManyEntries = SQSError(
        shape: "TooManyEntriesInBatchRequest", queryCode: "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        message: "Maximum number of entries per request are \(SQSLimits.maxBatchEntries).")

    /// SQS's answer to a message with more than ``SQSLimits/maxMessageAttributes`` attributes.
    public static func tooManyMessageAttributes(_ count: Int) -> SQSError {
        .invalidParameterValue(
            "Number of message attributes [\(count)] exceeds the allowed maximum [\(SQSLimits.maxMessageAttributes)].")
    }

    /// A request with more items (JSON values, Query parameters) than any valid SQS request carries.
    public static func tooManyItems(_ wireProtocol: SQSProtocol) -> SQSError {
        let limit = SQSLimits.maxItems(wireProtocol)
        return .invalidParameterValue(
            wireProtocol == .json
                ? "The request holds more than \(limit) JSON values, more than any SQS request."
                : "The request has more than \(limit) parameters, more than any SQS request.")
    }

    /// The request body is larger than the proxy accepts.
    public static func requestTooLarge(limit: Int) -> SQSError {
        SQSError(
            shape: "InvalidParameterValue", status: 400,
            message: "The request body is larger than the limit of \(limit) bytes.")
    }

    /// The upstream service could not be reached or did not answer in time.
    public static func serviceUnavailable(_ message: String) -> SQSError {
        SQSError(shape: "ServiceUnavailable", status: 503, message: message)
    }

    /// An unexpected failure inside the proxy.
    public static func internalFailure(_ message: String) -> SQSError {
        SQSError(shape: "InternalFailure", status: 500, message: message)
    }
}
