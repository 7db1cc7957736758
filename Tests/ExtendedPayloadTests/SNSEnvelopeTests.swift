import Foundation
import SQSWire
import Testing

@testable import ExtendedPayload

struct SNSEnvelopeTests {
    static let pointer = PayloadPointer(bucket: "payloads", key: "k1")

    /// An envelope as SNS writes it (members in SNS's order, slashes escaped), with `message` as its
    /// `Message` and `attributes` as its `MessageAttributes`.
    static func envelope(
        type: String = "Notification", message: String = pointer.encoded,
        attributes: String = #"{"ExtendedPayloadSize":{"Type":"Number","Value":"300000"}}"#
    ) -> String {
        var escaped: [UInt8] = []
        JSONValue.writeString(message, to: &escaped)
        return """
            {
              "Type" : "\(type)",
              "MessageId" : "9a4c1b0e",
              "TopicArn" : "arn:aws:sns:us-east-1:123456789012:topic",
              "Message" : \(String(decoding: escaped, as: UTF8.self)),
              "Timestamp" : "2026-12-02T03:00:00.000Z",
              "SignatureVersion" : "1",
              "Signature" : "EXAMPLE/+==",
              "SigningCertURL" : "https:\\/\\/sns.us-east-1.amazonaws.com\\/cert.pem",
              "MessageAttributes" : \(attributes)
            }
            """
    }

    @Test func anEnvelopeOfAPointerIsRecognised() throws {
        let envelope = try #require(SNSEnvelope(body: Self.envelope()))
        #expect(envelope.pointer == Self.pointer)
        #expect(envelope.payloadSize == 300_000)
        let legacy = try #require(
            SNSEnvelope(
                body: Self.envelope(
                    message: #"["com.amazon.sqs.javamessaging.MessageS3Pointer", {"s3BucketName": "b", "s3Key": "k"}]"#,
                    attributes: #"{"SQSLargePayloadSize":{"Type":"Number","Value":"x"}}"#)))
        #expect(legacy.pointer == PayloadPointer(bucket: "b", key: "k") && legacy.payloadSize == nil)
    }

    @Test func restoringKeepsEveryOtherByte() throws {
        let body = Self.envelope()
        let envelope = try #require(SNSEnvelope(body: body))
        let payload = "line \"one\"\n\\ two \u{1} é 😀 </Body>"
        let restored = envelope.wrapping(payload)
        let original = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(restored.utf8)) as? [String: Any])
        #expect(parsed["Message"] as? String == payload)
        #expect(
            NSDictionary(dictionary: parsed.filter { $0.key != "Message" })
                == NSDictionary(dictionary: original.filter { $0.key != "Message" }))
        let range = try #require(Array(body.utf8).withUnsafeBytes { JSONMemberRange.of("Message", in: $0) })
        #expect(Array(restored.utf8.prefix(range.lowerBound)) == Array(body.utf8.prefix(range.lowerBound)))
        #expect(restored.hasSuffix(String(decoding: Array(body.utf8)[(range.upperBound - 1)...], as: UTF8.self)))
    }

    @Test(arguments: [
        envelope(type: "SubscriptionConfirmation"),
        envelope(message: "just text mentioning S3Pointer"),
        envelope(message: #"["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b"}]"#),
        envelope(attributes: #"{"Other":{"Type":"String","Value":"S3Pointer"}}"#),
        envelope(attributes: #"[]"#),
        #"{"Type":"Notification","Message":"x","Nested":{"Message":"#
            + PayloadPointer(bucket: "b", key: "k").encoded.debugDescription
            + #"},"MessageAttributes":{"ExtendedPayloadSize":{"Type":"Number","Value":"1"}}}"#,
        envelope().replacingOccurrences(of: #""TopicArn""#, with: #""Message":"first","TopicArn""#),
        #"["Notification","S3Pointer"]"#,
        #"{"Type":"Notification","Message":"S3Pointer""#,
    ])
    func anythingElseIsNot(body: String) {
        #expect(SNSEnvelope(body: body) == nil)
    }
}
