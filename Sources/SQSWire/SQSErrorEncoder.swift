import TextCoding

/// An HTTP response the proxy writes itself: status, headers and body.
public struct EncodedResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
}

/// Writes ``SQSError`` values the way SQS does in each protocol.
public enum SQSErrorEncoder {
    /// The XML namespace of SQS Query responses.
    public static let xmlNamespace = "http://queue.amazonaws.com/doc/2012-11-05/"

    /// The response carrying `error` in `wireProtocol`.
    public static func encode(_ error: SQSError, wireProtocol: SQSProtocol, requestID: String) -> EncodedResponse {
        var headers: [(name: String, value: String)] = [
            ("x-amzn-RequestId", requestID),
            ("Content-Type", wireProtocol.responseContentType),
        ]
        var body: [UInt8] = []
        switch wireProtocol {
        case .json:
            headers.append(("x-amzn-query-error", "\(error.queryCode);\(error.fault.rawValue)"))
            body.append(contentsOf: #"{"__type":"#.utf8)
            JSONValue.writeString("com.amazonaws.sqs#" + error.shape, to: &body)
            body.append(contentsOf: #","message":"#.utf8)
            JSONValue.writeString(error.message, to: &body)
            body.append(UInt8(ascii: "}"))
        case .query:
            let xml =
                #"<?xml version="1.0"?><ErrorResponse xmlns="\#(xmlNamespace)"><Error>"#
                + "<Type>\(error.fault.rawValue)</Type><Code>\(TextEscaping.xml(error.queryCode))</Code>"
                + "<Message>\(TextEscaping.xml(error.message))</Message><Detail/></Error>"
                + "<RequestId>\(TextEscaping.xml(requestID))</RequestId></ErrorResponse>"
            body.append(contentsOf: xml.utf8)
        }
        return EncodedResponse(status: error.status, headers: headers, body: body)
    }
}
