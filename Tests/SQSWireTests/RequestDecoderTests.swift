import Testing

@testable import SQSWire

struct RequestDecoderTests {
    func decodeJSON(_ action: String, _ body: String) throws(SQSError) -> SQSRequest {
        try SQSRequestDecoder.decode(
            target: "AmazonSQS." + action, contentType: "application/x-amz-json-1.0", path: "/", queryString: nil,
            body: Array(body.utf8))
    }

    func decodeQuery(_ body: String, path: String = "/", queryString: String? = nil) throws(SQSError) -> SQSRequest {
        try SQSRequestDecoder.decode(
            target: nil, contentType: "application/x-www-form-urlencoded; charset=utf-8", path: path,
            queryString: queryString, body: Array(body.utf8))
    }

    @Test func thereAreTwentyThreeActions() {
        #expect(SQSAction.allCases.filter { $0 != .other }.count == 23)
        #expect(SQSAction.allCases.filter(\.isRewritten).count == 7)
    }

    @Test func protocolIsJudgedFromHeaders() {
        #expect(SQSRequestDecoder.wireProtocol(target: "AmazonSQS.ListQueues", contentType: nil) == .json)
        #expect(SQSRequestDecoder.wireProtocol(target: nil, contentType: "application/x-amz-json-1.0") == .json)
        #expect(SQSRequestDecoder.wireProtocol(target: nil, contentType: "application/x-www-form-urlencoded") == .query)
        #expect(SQSRequestDecoder.wireProtocol(target: nil, contentType: nil) == .query)
    }

    @Test func jsonPassThroughAction() throws {
        let request = try decodeJSON("ListQueues", #"{"QueueNamePrefix":"a"}"#)
        #expect(request.action == .listQueues)
        #expect(request.wireProtocol == .json)
        #expect(request.tree == nil)
        #expect(try decodeJSON("ListQueues", "").action == .listQueues)
    }

    @Test func jsonSendMessageFields() throws {
        let request = try decodeJSON(
            "SendMessage",
            #"{"QueueUrl":"http://q/1/a","MessageBody":"h\u00e9\"llo\n","DelaySeconds":5,"MessageAttributes":{"n":{"DataType":"Number","StringValue":"1"}}}"#
        )
        #expect(request.queueURL == "http://q/1/a")
        #expect(request.tree?["MessageBody"] == .string("hé\"llo\n"))
        #expect(request.tree?["DelaySeconds"] == .integer(5))
        #expect(request.tree?["MessageAttributes"]?["n"]?["DataType"] == .string("Number"))
    }

    @Test func jsonErrors() {
        #expect(throws: SQSError.malformedRequest("The request body is not valid JSON.")) {
            try decodeJSON("SendMessage", #"{"QueueUrl": "#)
        }
        #expect(throws: SQSError.malformedRequest("The request body must be a JSON object.")) {
            try decodeJSON("SendMessage", "[1]")
        }
        #expect(throws: SQSError.invalidAction("Frob.nicate")) { try decodeJSON("Frob.nicate", "{}") }
        #expect(throws: SQSError.missingParameter("QueueUrl", action: .deleteQueue)) {
            try decodeJSON("DeleteQueue", "{}")
        }
        #expect(throws: SQSError.missingParameter("MessageBody", action: .sendMessage)) {
            try decodeJSON("SendMessage", #"{"QueueUrl":"u"}"#)
        }
        #expect(throws: SQSError.invalidAction("Other.ListQueues")) {
            try SQSRequestDecoder.decode(
                target: "Other.ListQueues", contentType: nil, path: "/", queryString: nil, body: [UInt8]())
        }
    }

    @Test func queryPassThroughAction() throws {
        let request = try decodeQuery(
            "Action=CreateQueue&QueueName=a+b&Attribute.1.Name=DelaySeconds&Attribute.1.Value=1")
        #expect(request.action == .createQueue)
        #expect(request.wireProtocol == .query)
        #expect(request.tree == nil)
        guard case .query(let parameters) = request.input else {
            Issue.record("expected query input")
            return
        }
        #expect(parameters["QueueName"] == "a b")
    }

    @Test func queryErrors() {
        #expect(throws: SQSError.invalidAction("")) { try decodeQuery("Version=2012-11-05") }
        #expect(throws: SQSError.invalidAction("No pe")) { try decodeQuery("Action=No+pe") }
        #expect(throws: SQSError.malformedRequest("The request is not valid form encoding.")) {
            try decodeQuery("Action=ListQueues&QueueNamePrefix=%zz")
        }
        #expect(throws: SQSError.malformedRequest("The request is not valid form encoding.")) {
            try decodeQuery("Action=ListQueues&QueueNamePrefix=%FF")
        }
        #expect(throws: SQSError.missingParameter("QueueUrl", action: .purgeQueue)) {
            try decodeQuery("Action=PurgeQueue")
        }
        #expect(throws: SQSError.invalidParameterValue("Value x for parameter DelaySeconds is invalid.")) {
            try decodeQuery("Action=SendMessage&QueueUrl=u&MessageBody=b&DelaySeconds=x")
        }
        // Found by FuzzRequestDecoder: an entry of unknown members alone vanished when the request was
        // encoded again for SQS.
        let unknownMember = SQSError.invalidParameterValue(
            "The parameter DeleteMessageBatchRequestEntry.N.1dI is not valid.")
        #expect(throws: unknownMember) {
            try decodeQuery(
                "Action=DeleteMessageBatch&QueueUrl=u&DeleteMessageBatchRequestEntry.1.Id=a"
                    + "&DeleteMessageBatchRequestEntry.1.ReceiptHandle=h&DeleteMessageBatchRequestEntry.2.1dI=")
        }
    }

    @Test func whatCouldBeReadTwoWaysIsRefused() throws {
        let send = "Action=SendMessageBatch&QueueUrl=u&SendMessageBatchRequestEntry.1.Id=a"
        for body in [
            "Action=ListQueues&QueueNamePrefix=a&QueueNamePrefix=b",
            "Action=PurgeQueue&QueueUrl=u&QueueUrl=v",
            send + "&SendMessageBatchRequestEntry.01.MessageBody=b",
            send + "&SendMessageBatchRequestEntry.+1.MessageBody=b",
            "Action=ReceiveMessage&QueueUrl=u&AttributeName.1=All&AttributeName.01=x",
            "Action=ReceiveMessage&QueueUrl=u&AttributeName.1234567890=All",
        ] {
            let error = #expect(throws: SQSError.self) { try decodeQuery(body) }
            #expect(error?.shape == "InvalidParameterValue", "\(body)")
        }
        // The same name in the URL and the body is a name given twice.
        #expect(throws: SQSError.self) { try decodeQuery("Action=ListQueues", queryString: "Action=ListQueues") }
        #expect(QueryIndex.parse("10") == 10)
        for text in ["", "0", "01", "+1", "-1", " 1", "1a", "1234567890"] { #expect(QueryIndex.parse(text) == nil) }
    }

    @Test func aBatchOfMoreThanTenEntriesIsRefusedAsSQSRefusesIt() throws {
        func json(_ count: Int) -> String {
            let entries = (1...count).map { #"{"Id":"e\#($0)","ReceiptHandle":"h"}"# }.joined(separator: ",")
            return #"{"QueueUrl":"u","Entries":["# + entries + "]}"
        }
        func query(_ count: Int) -> String {
            "Action=DeleteMessageBatch&QueueUrl=u"
                + (1...count).map {
                    "&DeleteMessageBatchRequestEntry.\($0).Id=e\($0)&DeleteMessageBatchRequestEntry.\($0).ReceiptHandle=h"
                }
                .joined()
        }
        #expect(try decodeJSON("DeleteMessageBatch", json(10)).tree?["Entries"]?.arrayValue?.count == 10)
        #expect(try decodeQuery(query(10)).tree?["Entries"]?.arrayValue?.count == 10)
        #expect(throws: SQSError.tooManyEntries) { try decodeJSON("DeleteMessageBatch", json(11)) }
        #expect(throws: SQSError.tooManyEntries) { try decodeQuery(query(11)) }
        #expect(SQSError.tooManyEntries.queryCode == "AWS.SimpleQueueService.TooManyEntriesInBatchRequest")
    }

    @Test func anActionTheProxyDoesNotKnowIsOtherAndKeepsItsInput() throws {
        let json = try decodeJSON("StartSomethingNew2", #"{"QueueUrl":"u","Nested":{"a":[1]}}"#)
        #expect(json.action == .other && json.tree == nil && json.queueURL == "u")
        let query = try decodeQuery("Action=StartSomethingNew2&QueueUrl=u&Detail.1=x")
        #expect(query.action == .other && query.tree == nil && query.queueURL == "u")
        #expect(!SQSAction.other.isRepeatable && !SQSAction.other.changesNothing)
        // Not a name an action could have: refused.
        #expect(throws: SQSError.invalidAction("Ex-plode")) { try decodeJSON("Ex-plode", "{}") }
        #expect(throws: SQSError.invalidAction("1Up")) { try decodeQuery("Action=1Up") }
        #expect(throws: SQSError.invalidAction("")) { try decodeQuery("Action=") }
        let long = String(repeating: "A", count: 129)
        #expect(throws: SQSError.invalidAction(long)) { try decodeQuery("Action=" + long) }
        // The bounds of any request still hold.
        let values = Array(repeating: "1", count: SQSLimits.maxJSONValues).joined(separator: ",")
        #expect(throws: SQSError.tooManyItems(.json)) { try decodeJSON("StartSomethingNew2", "[" + values + "]") }
    }

    @Test func aMessageOfMoreThanTenAttributesIsRefusedAsSQSRefusesIt() throws {
        func json(_ count: Int) -> String {
            let attributes = (1...count).map { #""a\#($0)":{"DataType":"String","StringValue":"v"}"# }
            return #"{"QueueUrl":"u","MessageBody":"b","MessageAttributes":{"# + attributes.joined(separator: ",")
                + "}}"
        }
        func query(_ count: Int, entry: Bool = false) -> String {
            let prefix = entry ? "SendMessageBatchRequestEntry.1." : ""
            let head =
                entry
                ? "Action=SendMessageBatch&QueueUrl=u&\(prefix)Id=e&\(prefix)MessageBody=b"
                : "Action=SendMessage&QueueUrl=u&MessageBody=b"
            return head
                + (1...count).map {
                    "&\(prefix)MessageAttribute.\($0).Name=a\($0)&\(prefix)MessageAttribute.\($0).Value.DataType=String"
                        + "&\(prefix)MessageAttribute.\($0).Value.StringValue=v"
                }
                .joined()
        }
        #expect(try decodeJSON("SendMessage", json(10)).tree?["MessageAttributes"]?.objectValue?.count == 10)
        #expect(try decodeQuery(query(10)).tree?["MessageAttributes"]?.objectValue?.count == 10)
        #expect(throws: SQSError.tooManyMessageAttributes(11)) { try decodeJSON("SendMessage", json(11)) }
        #expect(throws: SQSError.tooManyMessageAttributes(11)) { try decodeQuery(query(11)) }
        #expect(throws: SQSError.tooManyMessageAttributes(11)) { try decodeQuery(query(11, entry: true)) }
    }

    @Test func aQueryAttributeNamedTwiceIsRefused() {
        let body =
            "Action=SendMessage&QueueUrl=u&MessageBody=b&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=String"
            + "&MessageAttribute.1.Value.StringValue=1&MessageAttribute.2.Name=a&MessageAttribute.2.Value.DataType=String"
            + "&MessageAttribute.2.Value.StringValue=2"
        #expect(throws: SQSError.self) { try decodeQuery(body) }
    }

    /// One item past the most any valid request has: refused, whatever the action.
    @Test func requestsOfMoreItemsThanAnySQSRequestAreRefused() throws {
        let parameters = (0..<(SQSLimits.maxQueryParameters - 1)).map { "p\($0)" }.joined(separator: "&")
        #expect(try decodeQuery("Action=ListQueues&" + parameters).action == .listQueues)
        #expect(throws: SQSError.tooManyItems(.query)) {
            try decodeQuery("Action=ListQueues&" + parameters + "&one-more")
        }
        // The parameters of the URL count too.
        #expect(throws: SQSError.tooManyItems(.query)) {
            try decodeQuery("Action=ListQueues&" + parameters, queryString: "one-more")
        }
        // The document and each value, nested or not, forwarded as it came or not.
        let values = Array(repeating: "1", count: SQSLimits.maxJSONValues - 2).joined(separator: ",")
        #expect(try decodeJSON("ListQueues", #"{"a":["# + values + "]}").action == .listQueues)
        #expect(throws: SQSError.tooManyItems(.json)) { try decodeJSON("ListQueues", #"{"a":["# + values + ",1]}") }
        #expect(throws: SQSError.tooManyItems(.json)) { try decodeJSON("SendMessage", #"{"a":["# + values + ",1]}") }
    }

    @Test func queryQueueURLMayComeFromThePath() throws {
        let request = try decodeQuery("Action=PurgeQueue", path: "/123456789012/orders")
        #expect(request.action == .purgeQueue)
        #expect(request.queueURL == nil)
    }

    @Test func queryParametersMayComeFromTheURL() throws {
        let request = try decodeQuery("", queryString: "Action=ListQueues&Version=2012-11-05")
        #expect(request.action == .listQueues)
    }
}
