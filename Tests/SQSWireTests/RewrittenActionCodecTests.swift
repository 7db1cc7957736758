import Testing

@testable import SQSWire

/// Every rewritten action decodes to the same tree from either protocol, and the tree flattens back
/// to Query parameters that decode to it again.
struct RewrittenActionCodecTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var action: SQSAction
        var json: String
        var query: String
        var testDescription: String { action.rawValue }
    }

    static let cases: [Case] = [
        Case(
            action: .sendMessage,
            json: #"""
                {"QueueUrl":"http://h/1/q","MessageBody":"a+b & c=€","DelaySeconds":3,
                 "MessageAttributes":{"s":{"DataType":"String","StringValue":"v 1"},
                                      "b":{"DataType":"Binary","BinaryValue":"AAEC"},
                                      "n":{"DataType":"Number.int","StringValue":"7"}},
                 "MessageSystemAttributes":{"AWSTraceHeader":{"DataType":"String","StringValue":"Root=1"}},
                 "MessageDeduplicationId":"d","MessageGroupId":"g"}
                """#,
            query:
                "Action=SendMessage&Version=2012-11-05&QueueUrl=http%3A%2F%2Fh%2F1%2Fq&MessageBody=a%2Bb+%26+c%3D%E2%82%AC"
                + "&DelaySeconds=3&MessageAttribute.1.Name=s&MessageAttribute.1.Value.DataType=String"
                + "&MessageAttribute.1.Value.StringValue=v+1&MessageAttribute.2.Name=b"
                + "&MessageAttribute.2.Value.DataType=Binary&MessageAttribute.2.Value.BinaryValue=AAEC"
                + "&MessageAttribute.3.Name=n&MessageAttribute.3.Value.DataType=Number.int"
                + "&MessageAttribute.3.Value.StringValue=7&MessageSystemAttribute.1.Name=AWSTraceHeader"
                + "&MessageSystemAttribute.1.Value.DataType=String&MessageSystemAttribute.1.Value.StringValue=Root%3D1"
                + "&MessageDeduplicationId=d&MessageGroupId=g"),
        Case(
            action: .sendMessageBatch,
            json: #"""
                {"QueueUrl":"u","Entries":[
                  {"Id":"a","MessageBody":"one","MessageAttributes":{"k":{"DataType":"String","StringValue":"x"}}},
                  {"Id":"b","MessageBody":"two","DelaySeconds":1}]}
                """#,
            query: "Action=SendMessageBatch&QueueUrl=u&SendMessageBatchRequestEntry.2.Id=b"
                + "&SendMessageBatchRequestEntry.2.MessageBody=two&SendMessageBatchRequestEntry.2.DelaySeconds=1"
                + "&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=one"
                + "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=k"
                + "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String"
                + "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=x"),
        Case(
            action: .receiveMessage,
            json: #"""
                {"QueueUrl":"u","AttributeNames":["All"],"MessageSystemAttributeNames":["SenderId","SentTimestamp"],
                 "MessageAttributeNames":["ExtendedPayloadSize","a.*"],"MaxNumberOfMessages":10,
                 "VisibilityTimeout":30,"WaitTimeSeconds":20,"ReceiveRequestAttemptId":"r"}
                """#,
            query: "Action=ReceiveMessage&QueueUrl=u&AttributeName.1=All&MessageSystemAttributeName.1=SenderId"
                + "&MessageSystemAttributeName.2=SentTimestamp&MessageAttributeName.1=ExtendedPayloadSize"
                + "&MessageAttributeName.2=a.*&MaxNumberOfMessages=10&VisibilityTimeout=30&WaitTimeSeconds=20"
                + "&ReceiveRequestAttemptId=r"),
        Case(
            action: .deleteMessage,
            json:
                #"{"QueueUrl":"u","ReceiptHandle":"-..s3BucketName..-b-..s3BucketName..--..s3Key..-k-..s3Key..-h+/="}"#,
            query: "Action=DeleteMessage&QueueUrl=u"
                + "&ReceiptHandle=-..s3BucketName..-b-..s3BucketName..--..s3Key..-k-..s3Key..-h%2B%2F%3D"),
        Case(
            action: .deleteMessageBatch,
            json: #"{"QueueUrl":"u","Entries":[{"Id":"1","ReceiptHandle":"h1"},{"Id":"2","ReceiptHandle":"h2"}]}"#,
            query: "Action=DeleteMessageBatch&QueueUrl=u&DeleteMessageBatchRequestEntry.1.Id=1"
                + "&DeleteMessageBatchRequestEntry.1.ReceiptHandle=h1&DeleteMessageBatchRequestEntry.2.Id=2"
                + "&DeleteMessageBatchRequestEntry.2.ReceiptHandle=h2"),
        Case(
            action: .changeMessageVisibility,
            json: #"{"QueueUrl":"u","ReceiptHandle":"h","VisibilityTimeout":0}"#,
            query: "Action=ChangeMessageVisibility&QueueUrl=u&ReceiptHandle=h&VisibilityTimeout=0"),
        Case(
            action: .changeMessageVisibilityBatch,
            json: #"{"QueueUrl":"u","Entries":[{"Id":"x","ReceiptHandle":"h","VisibilityTimeout":60}]}"#,
            query: "Action=ChangeMessageVisibilityBatch&QueueUrl=u&ChangeMessageVisibilityBatchRequestEntry.1.Id=x"
                + "&ChangeMessageVisibilityBatchRequestEntry.1.ReceiptHandle=h"
                + "&ChangeMessageVisibilityBatchRequestEntry.1.VisibilityTimeout=60"),
    ]

    func decode(_ testCase: Case) throws -> (json: JSONValue, query: JSONValue, parameters: QueryParameters) {
        let json = try SQSRequestDecoder.decode(
            target: "AmazonSQS." + testCase.action.rawValue, contentType: "application/x-amz-json-1.0", path: "/",
            queryString: nil, body: Array(testCase.json.utf8))
        let query = try SQSRequestDecoder.decode(
            target: nil, contentType: "application/x-www-form-urlencoded", path: "/", queryString: nil,
            body: Array(testCase.query.utf8))
        guard case .query(let parameters) = query.input else { throw SQSError.internalFailure("not query") }
        #expect(json.action == testCase.action)
        #expect(query.action == testCase.action)
        return (try #require(json.tree), try #require(query.tree), parameters)
    }

    @Test(arguments: cases)
    func bothProtocolsDecodeToTheSameTree(_ testCase: Case) throws {
        let decoded = try decode(testCase)
        #expect(decoded.json == decoded.query)
    }

    @Test(arguments: cases)
    func treeFlattensBackToEquivalentQuery(_ testCase: Case) throws {
        let decoded = try decode(testCase)
        let schema = try #require(RequestSchema.forAction(testCase.action))
        let flattened = schema.parameters(from: decoded.json, action: testCase.action)
        #expect(flattened.pairs.first?.name == "Action")
        #expect(flattened["Action"] == testCase.action.rawValue)
        let reparsed = try QueryParameters.parse(flattened.encoded())
        #expect(reparsed == flattened)
        #expect(try schema.tree(from: reparsed) == decoded.json)
    }

    @Test(arguments: cases)
    func treeSerializesBackToEquivalentJSON(_ testCase: Case) throws {
        let decoded = try decode(testCase)
        #expect(try JSONValue.parse(decoded.json.serialized()) == decoded.json)
    }

    @Test func parametersTheSchemaDoesNotDescribeAreKept() throws {
        let original = try QueryParameters.parse(Array("Action=DeleteMessage&QueueUrl=u&ReceiptHandle=h&Future=1".utf8))
        let schema = try #require(RequestSchema.forAction(.deleteMessage))
        var tree = try schema.tree(from: original)
        tree["ReceiptHandle"] = .string("restored")
        let rewritten = schema.parameters(from: tree, action: .deleteMessage, original: original)
        #expect(rewritten["ReceiptHandle"] == "restored")
        #expect(rewritten["Future"] == "1")
        #expect(rewritten["Version"] == "2012-11-05")
        #expect(rewritten.pairs.filter { $0.name == "ReceiptHandle" }.count == 1)
    }

    @Test func badIndexesAreRejected() {
        #expect(throws: SQSError.self) {
            try SQSRequestDecoder.decode(
                target: nil, contentType: nil, path: "/", queryString: nil,
                body: Array("Action=ReceiveMessage&QueueUrl=u&AttributeName.x=All".utf8))
        }
        #expect(throws: SQSError.self) {
            try SQSRequestDecoder.decode(
                target: nil, contentType: nil, path: "/", queryString: nil,
                body: Array("Action=SendMessage&QueueUrl=u&MessageBody=b&MessageAttribute.1.Value.DataType=String".utf8)
            )
        }
    }
}
