import Testing

@testable import SQSWire

struct ResponseCodecTests {
    static let receiveXML = """
        <?xml version="1.0"?><ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">
          <ReceiveMessageResult>
            <Message>
              <MessageId>5fea7756-0ea4-451a-a703-a558b933e274</MessageId>
              <ReceiptHandle>MbZj6wDWli+JvwwJaBV+3dcjk2YW2vA3+STFFljTM8tJJg6HRG6PYSasuWXPJB+Cw==</ReceiptHandle>
              <MD5OfBody>fafb00f5732ab283681e124bf8747ed1</MD5OfBody>
              <Body>line one&#xD;
        &lt;tag&gt; &amp; more</Body>
              <Attribute><Name>SenderId</Name><Value>195004372649</Value></Attribute>
              <Attribute><Name>ApproximateReceiveCount</Name><Value>5</Value></Attribute>
              <MD5OfMessageAttributes>43eeb333d10515533e317490584ea243</MD5OfMessageAttributes>
              <MessageAttribute><Name>attribute-1</Name><Value><StringValue>tmp</StringValue><DataType>String</DataType></Value></MessageAttribute>
              <MessageAttribute><Name>bin</Name><Value><BinaryValue>AAEC</BinaryValue><DataType>Binary</DataType></Value></MessageAttribute>
            </Message>
          </ReceiveMessageResult>
          <ResponseMetadata><RequestId>b6633655-283d-45b4-aee4-4e84e0ae6afa</RequestId></ResponseMetadata>
        </ReceiveMessageResponse>
        """

    @Test func queryReceiveMapsOntoTheJSONShape() throws {
        let result = try #require(
            ResponseCodec.decode(Array(Self.receiveXML.utf8), action: .receiveMessage, wireProtocol: .query))
        #expect(result.requestID == "b6633655-283d-45b4-aee4-4e84e0ae6afa")
        let message = try #require(result.tree["Messages"]?.arrayValue?.first)
        #expect(message["Body"] == .string("line one\r\n<tag> & more"))
        #expect(message["MD5OfBody"] == .string("fafb00f5732ab283681e124bf8747ed1"))
        #expect(
            message["Attributes"]
                == .object(["SenderId": .string("195004372649"), "ApproximateReceiveCount": .string("5")]))
        #expect(
            message["MessageAttributes"]?["attribute-1"]
                == .object(["StringValue": .string("tmp"), "DataType": .string("String")]))
        #expect(message["MessageAttributes"]?["bin"]?["BinaryValue"] == .string("AAEC"))
    }

    @Test func queryReceiveRoundTripsThroughXML() throws {
        let result = try #require(
            ResponseCodec.decode(Array(Self.receiveXML.utf8), action: .receiveMessage, wireProtocol: .query))
        let written = ResponseCodec.encode(result, action: .receiveMessage, wireProtocol: .query)
        let again = try #require(ResponseCodec.decode(written, action: .receiveMessage, wireProtocol: .query))
        #expect(again.tree == result.tree)
        #expect(again.requestID == result.requestID)
        #expect(String(decoding: written, as: UTF8.self).contains("line one&#xD;\n&lt;tag&gt; &amp; more"))
    }

    @Test func emptyReceive() throws {
        let xml =
            #"<ReceiveMessageResponse xmlns="x"><ReceiveMessageResult/><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ReceiveMessageResponse>"#
        let result = try #require(ResponseCodec.decode(Array(xml.utf8), action: .receiveMessage, wireProtocol: .query))
        #expect(result.tree == .object([:]))
        let bare =
            #"<ReceiveMessageResponse><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></ReceiveMessageResponse>"#
        #expect(
            ResponseCodec.decode(Array(bare.utf8), action: .receiveMessage, wireProtocol: .query)?.tree == .object([:]))
    }

    @Test func queryBatchResults() throws {
        let xml = """
            <SendMessageBatchResponse><SendMessageBatchResult>
            <SendMessageBatchResultEntry><Id>a</Id><MessageId>m</MessageId><MD5OfMessageBody>x</MD5OfMessageBody></SendMessageBatchResultEntry>
            <BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault><Code>InvalidParameterValue</Code><Message>no</Message></BatchResultErrorEntry>
            </SendMessageBatchResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></SendMessageBatchResponse>
            """
        let result = try #require(
            ResponseCodec.decode(Array(xml.utf8), action: .sendMessageBatch, wireProtocol: .query))
        #expect(result.tree["Successful"]?.arrayValue?.first?["MessageId"] == .string("m"))
        #expect(result.tree["Failed"]?.arrayValue?.first?["SenderFault"] == .bool(true))
        let again = ResponseCodec.decode(
            ResponseCodec.encode(result, action: .sendMessageBatch, wireProtocol: .query), action: .sendMessageBatch,
            wireProtocol: .query)
        #expect(again?.tree == result.tree)
    }

    /// Found by FuzzResponseCodec: an answer without a request id came back with an empty one.
    @Test func aQueryAnswerWithoutARequestIDIsWrittenWithoutOne() throws {
        let xml = "<DeleteMessageResponse><DeleteMessageResult/></DeleteMessageResponse>"
        let result = try #require(ResponseCodec.decode(Array(xml.utf8), action: .deleteMessage, wireProtocol: .query))
        #expect(result.requestID == nil)
        let written = ResponseCodec.encode(result, action: .deleteMessage, wireProtocol: .query)
        #expect(!String(decoding: written, as: UTF8.self).contains("ResponseMetadata"))
        let again = try #require(ResponseCodec.decode(written, action: .deleteMessage, wireProtocol: .query))
        #expect(again.requestID == nil)
    }

    @Test(arguments: [(SQSAction.listQueues, "QueueUrls"), (.listDeadLetterSourceQueues, "queueUrls")])
    func queryQueueURLListsMapOntoTheJSONShape(action: SQSAction, member: String) throws {
        let name = action.rawValue
        let xml =
            "<\(name)Response><\(name)Result><QueueUrl>http://a/1/q1</QueueUrl><QueueUrl>http://a/1/q&amp;2</QueueUrl>"
            + "<NextToken>next</NextToken></\(name)Result><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata>"
            + "</\(name)Response>"
        let result = try #require(ResponseCodec.decode(Array(xml.utf8), action: action, wireProtocol: .query))
        let urls = JSONValue.array([.string("http://a/1/q1"), .string("http://a/1/q&2")])
        #expect(result.tree == .object([member: urls, "NextToken": .string("next")]))
        let written = String(
            decoding: ResponseCodec.encode(result, action: action, wireProtocol: .query), as: UTF8.self)
        #expect(
            written.contains(
                "<\(name)Result><QueueUrl>http://a/1/q1</QueueUrl><QueueUrl>http://a/1/q&amp;2</QueueUrl>"
                    + "<NextToken>next</NextToken>"))
        let again = try #require(ResponseCodec.decode(Array(written.utf8), action: action, wireProtocol: .query))
        #expect(again.tree == result.tree && again.requestID == "r1")
    }

    @Test func anEmptyQueueListHasNoMember() throws {
        let xml = "<ListQueuesResponse><ListQueuesResult/></ListQueuesResponse>"
        let result = try #require(ResponseCodec.decode(Array(xml.utf8), action: .listQueues, wireProtocol: .query))
        #expect(result.tree == .object([:]))
    }

    @Test func querySendResult() throws {
        let xml = """
            <SendMessageResponse><SendMessageResult><MD5OfMessageBody>fafb00f5732ab283681e124bf8747ed1</MD5OfMessageBody>
            <MD5OfMessageAttributes>3ae8f24a165a8cedc005670c81a27295</MD5OfMessageAttributes><MessageId>5fea7756</MessageId>
            </SendMessageResult><ResponseMetadata><RequestId>27daac76</RequestId></ResponseMetadata></SendMessageResponse>
            """
        let result = try #require(ResponseCodec.decode(Array(xml.utf8), action: .sendMessage, wireProtocol: .query))
        #expect(result.tree["MessageId"] == .string("5fea7756"))
        let written = String(
            decoding: ResponseCodec.encode(result, action: .sendMessage, wireProtocol: .query), as: UTF8.self)
        #expect(
            written.hasPrefix(
                #"<?xml version="1.0"?><SendMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><SendMessageResult>"#
            ))
        #expect(
            written.hasSuffix(
                "<ResponseMetadata><RequestId>27daac76</RequestId></ResponseMetadata></SendMessageResponse>"))
    }

    @Test func jsonResultsRoundTrip() throws {
        let json =
            #"{"Messages":[{"Body":"é\n\"x\"","MessageId":"m","ReceiptHandle":"h","MessageAttributes":{"a":{"DataType":"String","StringValue":"v"}}}]}"#
        let result = try #require(ResponseCodec.decode(Array(json.utf8), action: .receiveMessage, wireProtocol: .json))
        let again = ResponseCodec.decode(
            ResponseCodec.encode(result, action: .receiveMessage, wireProtocol: .json), action: .receiveMessage,
            wireProtocol: .json)
        #expect(again?.tree == result.tree)
    }

    @Test func notAResult() {
        #expect(ResponseCodec.decode(Array("<oops".utf8), action: .sendMessage, wireProtocol: .query) == nil)
        #expect(ResponseCodec.decode(Array("<Other/>".utf8), action: .sendMessage, wireProtocol: .query) == nil)
        #expect(ResponseCodec.decode(Array("[1]".utf8), action: .sendMessage, wireProtocol: .json) == nil)
    }
}

struct SQSErrorCodeTests {
    static func code(header: String? = nil, _ body: String) -> String? {
        Array(body.utf8).withUnsafeBytes { SQSErrorCode.of(queryErrorHeader: header, body: $0) }
    }

    @Test func theCodeOfAnErrorInEitherProtocol() {
        #expect(
            Self.code(header: "AWS.SimpleQueueService.NonExistentQueue;Sender", "{}")
                == "AWS.SimpleQueueService.NonExistentQueue")
        #expect(
            Self.code(#"{"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"m"}"#) == "QueueDoesNotExist")
        #expect(
            Self.code(
                "<ErrorResponse><Error><Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code></Error></ErrorResponse>"
            ) == "AWS.SimpleQueueService.NonExistentQueue")
    }

    @Test func noCodeFromWhatIsNotAnErrorOrIsTooLarge() {
        #expect(Self.code("") == nil)
        #expect(Self.code("<html>bad gateway</html>") == nil)
        #expect(Self.code(#"{"message":"m"}"#) == nil)
        #expect(Self.code("<Code>X</Code>" + String(repeating: " ", count: SQSErrorCode.maxBodySize)) == nil)
    }
}
