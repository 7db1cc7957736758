import Foundation
import Testing

@testable import SQSWire

struct ErrorEncoderTests {
    @Test func jsonErrorCarriesShapeAndLegacyCode() throws {
        let error = SQSError(
            shape: "QueueDoesNotExist", queryCode: "AWS.SimpleQueueService.NonExistentQueue",
            message: "The specified queue does not exist.")
        let response = SQSErrorEncoder.encode(error, wireProtocol: .json, requestID: "rid")
        #expect(response.status == 400)
        let headers = Dictionary(uniqueKeysWithValues: response.headers.map { ($0.name, $0.value) })
        #expect(headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender")
        #expect(headers["Content-Type"] == "application/x-amz-json-1.0")
        #expect(headers["x-amzn-RequestId"] == "rid")
        let body = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String]
        #expect(body?["__type"] == "com.amazonaws.sqs#QueueDoesNotExist")
        #expect(body?["message"] == "The specified queue does not exist.")
    }

    @Test func queryErrorIsErrorResponseXML() {
        let response = SQSErrorEncoder.encode(
            .serviceUnavailable("upstream <down> & out"), wireProtocol: .query, requestID: "rid")
        #expect(response.status == 503)
        let xml = String(decoding: response.body, as: UTF8.self)
        #expect(
            xml == #"<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error>"#
                + "<Type>Receiver</Type><Code>ServiceUnavailable</Code><Message>upstream &lt;down&gt; &amp; out</Message>"
                + "<Detail/></Error><RequestId>rid</RequestId></ErrorResponse>")
        #expect(response.headers.contains { $0.name == "Content-Type" && $0.value == "text/xml" })
        #expect(!response.headers.contains { $0.name == "x-amzn-query-error" })
    }

    @Test func jsonMessageIsEscaped() throws {
        let response = SQSErrorEncoder.encode(
            .invalidParameterValue("quote \" backslash \\ newline \n"), wireProtocol: .json, requestID: "r")
        let body = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: String]
        #expect(body?["message"] == "quote \" backslash \\ newline \n")
    }

    @Test func faultFollowsStatus() {
        #expect(SQSError.internalFailure("x").fault == .receiver)
        #expect(SQSError.invalidAction("x").fault == .sender)
    }
}
