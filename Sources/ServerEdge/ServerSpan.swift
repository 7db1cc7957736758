import NIOHTTP1
import RequestTracing
import SQSWire
import Tracing

/// A request's server span, named by its action and described by the OpenTelemetry semantic
/// conventions for messaging and AWS calls once its answer is written.
extension RequestTrace {
    /// Ends the span with what `response` was; `failure` when its writing failed (the client left).
    func finish(_ response: ProxyResponse, failure: (any Error)?) {
        let action = response.action
        span.operationName = action?.rawValue ?? "SQS"
        var attributes = ServerSpanAttributes.of(
            action: action, queueURL: response.queueURL, status: Int(response.status.code),
            requestID: response.headers.first(name: "x-amzn-RequestId"))
        for (name, count) in tally.all { attributes[name] = count }
        span.attributes.merge(attributes)
        if response.status.code >= 400 {
            let code = response.body.withUnsafeReadableBytes {
                SQSErrorCode.of(queryErrorHeader: response.headers.first(name: "x-amzn-query-error"), body: $0)
            }
            span.attributes["error.type"] = SpanText.bounded(code ?? String(response.status.code))
        }
        if let failure {
            span.recordError(failure)
            span.setStatus(SpanStatus(code: .error, message: "the answer could not be written"))
        } else if response.status.code >= 500 {
            // A server span's 4xx is the client's error, not the proxy's (OpenTelemetry's HTTP conventions).
            span.setStatus(SpanStatus(code: .error))
        }
        span.end()
    }

    /// Ends the span of a request whose connection failed before it could be answered.
    func abandon(_ error: any Error) {
        span.recordError(error)
        span.setStatus(SpanStatus(code: .error, message: "the connection failed before the request was answered"))
        span.end()
    }
}

/// The attributes the OpenTelemetry semantic conventions give a call to SQS, for the proxy's
/// server span and its SQS calls' client spans alike.
public enum ServerSpanAttributes {
    /// `rpc.*` for every action; `messaging.*` for the actions that send, receive or settle
    /// messages; the HTTP status and AWS's request id when known.
    public static func of(action: SQSAction?, queueURL: String?, status: Int?, requestID: String?) -> SpanAttributes {
        var attributes: SpanAttributes = [
            "rpc.system": "aws-api", "rpc.service": "SQS", "messaging.system": "aws_sqs",
        ]
        if let action { attributes["rpc.method"] = action.rawValue }
        if let type = action.flatMap(messagingOperation) {
            attributes["messaging.operation.type"] = type
            attributes["messaging.operation.name"] = action?.rawValue
        }
        if let queueURL, let name = queueURL.split(separator: "/").last {
            attributes["messaging.destination.name"] = SpanText.bounded(name)
        }
        if let status { attributes["http.response.status_code"] = status }
        if let requestID { attributes["aws.request_id"] = SpanText.bounded(requestID) }
        return attributes
    }

    /// The messaging operation an action is (`send`, `receive`, `settle`); nil for the others.
    static func messagingOperation(_ action: SQSAction) -> String? {
        switch action {
        case .sendMessage, .sendMessageBatch: "send"
        case .receiveMessage: "receive"
        case .deleteMessage, .deleteMessageBatch, .changeMessageVisibility, .changeMessageVisibilityBatch: "settle"
        default: nil
        }
    }
}
