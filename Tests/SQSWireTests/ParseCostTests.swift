import CMallocTuning
import Foundation
import Testing

@testable import SQSWire

/// What a parse holds, as ``ParseCost`` counts it, against what the allocator handed out for it
/// (glibc's count), and against the limit the memory budget reserves before parsing.
struct ParseCostTests {
    /// A request body of the densest kind its shape allows.
    struct Shape: Sendable, Codable, CustomTestStringConvertible {
        var name: String
        var target: String?
        var body: [UInt8]
        var testDescription: String { name }

        init(_ name: String, target: String? = nil, _ body: String) {
            self.name = name
            self.target = target
            self.body = Array(body.utf8)
        }
    }

    static func jsonList(_ count: Int, _ item: (Int) -> String) -> String {
        (0..<count).map(item).joined(separator: ",")
    }

    static func queryList(_ count: Int, _ item: (Int) -> String) -> String {
        (0..<count).map(item).joined(separator: "&")
    }

    /// The largest valid SendMessageBatch: 10 entries, each with every member, 10 message
    /// attributes and the trace header.
    static let fullBatchJSON =
        #"{"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/q","Entries":["#
        + jsonList(10) { entry in
            #"{"Id":"entry-\#(entry)","MessageBody":"a body of some length","DelaySeconds":0,"#
                + #""MessageDeduplicationId":"dedup-\#(entry)","MessageGroupId":"group","MessageAttributes":{"#
                + jsonList(10) { #""attribute-\#($0)":{"DataType":"String","StringValue":"value \#($0)"}"# }
                + #"},"MessageSystemAttributes":{"AWSTraceHeader":{"DataType":"String","StringValue":"Root=1-5759e988-bd862e3fe1be46a994272793"}}}"#
        } + "]}"

    static let fullBatchQuery =
        "Action=SendMessageBatch&Version=2012-11-05&QueueUrl=https%3A%2F%2Fsqs.us-east-1.amazonaws.com%2F123456789012%2Fq&"
        + queryList(10) { entry in
            let prefix = "SendMessageBatchRequestEntry.\(entry + 1)."
            return "\(prefix)Id=entry-\(entry)&\(prefix)MessageBody=a+body&\(prefix)DelaySeconds=0&"
                + "\(prefix)MessageDeduplicationId=dedup-\(entry)&\(prefix)MessageGroupId=group&"
                + queryList(10) {
                    "\(prefix)MessageAttribute.\($0 + 1).Name=attribute-\($0)&"
                        + "\(prefix)MessageAttribute.\($0 + 1).Value.DataType=String&"
                        + "\(prefix)MessageAttribute.\($0 + 1).Value.StringValue=value+\($0)"
                } + "&\(prefix)MessageSystemAttribute.1.Name=AWSTraceHeader&"
                + "\(prefix)MessageSystemAttribute.1.Value.DataType=String&"
                + "\(prefix)MessageSystemAttribute.1.Value.StringValue=Root%3D1-5759e988-bd862e3fe1be46a994272793"
        }

    static let send = "AmazonSQS.SendMessage"
    static let sendHead = #"{"QueueUrl":"q","MessageBody":"b","Extra":"#

    static let shapes: [Shape] = [
        Shape("JSON: the largest SendMessageBatch", target: "AmazonSQS.SendMessageBatch", fullBatchJSON),
        Shape(
            "JSON: a forwarded request's top-level members", target: "AmazonSQS.ListQueues",
            "{" + jsonList(412) { #""m\#($0)":1"# } + "}"),
        Shape("JSON: digits", target: send, sendHead + "[" + jsonList(409) { _ in "1" } + "]}"),
        Shape("JSON: empty objects", target: send, sendHead + "[" + jsonList(409) { _ in "{}" } + "]}"),
        Shape("JSON: objects of one member", target: send, sendHead + "[" + jsonList(204) { _ in #"{"a":1}"# } + "]}"),
        Shape(
            "JSON: objects nested 60 deep", target: send,
            sendHead + String(repeating: #"{"a":"#, count: 60) + "1" + String(repeating: "}", count: 60) + "}"),
        Shape(
            "JSON: 16-byte strings", target: send,
            sendHead + "[" + jsonList(409) { _ in #""sixteen-bytes-16""# } + "]}"),
        Shape(
            "JSON: 16-byte member names", target: send,
            sendHead + "{" + jsonList(409) { #""sixteen-bytes\#(String(format: "%03d", $0))":1"# } + "}}"),
        Shape("Query: the largest SendMessageBatch", fullBatchQuery),
        Shape("Query: bare names", "Action=ListQueues&" + queryList(389) { "n\($0)" }),
        Shape(
            "Query: 16-byte names and values",
            "Action=ListQueues&" + queryList(389) { "sixteen-bytes\(String(format: "%03d", $0))=sixteen-bytes-val" }),
    ]

    @Test(arguments: shapes)
    func aParseHoldsNoMoreThanItsModelAndItsModelNoMoreThanTheLimit(_ shape: Shape) throws {
        let request = try Self.decode(shape)
        #expect(request.heldBytes <= ParseCost.limit(forLength: shape.body.count))
        #expect(
            ParseCost.limit(forLength: shape.body.count) <= ParseCost.factor
                * max(shape.body.count, ParseCost.minimumLength))
    }

    /// Measured in a process of its own: glibc counts every thread's allocations.
    @Test(.enabled(if: c_malloc_tuning_bytes_in_use() > 0), arguments: shapes)
    func theAllocatorHandsOutNoMoreThanTheModelCounts(_ shape: Shape) async {
        await #expect(processExitsWith: .success) { [shape] in
            // Once first: lazily made globals (the schemas, the hash seed) are not the parse's.
            _ = try? Self.decode(shape)
            let before = c_malloc_tuning_bytes_in_use()
            guard let request = try? Self.decode(shape) else { exit(2) }
            let held = Int(c_malloc_tuning_bytes_in_use()) - Int(before)
            guard held <= request.heldBytes else {
                print("\(shape.name): allocated \(held), counted \(request.heldBytes)")
                exit(1)
            }
            withExtendedLifetime(request) {}
        }
    }

    @Test func theLimitIsAtMostTheFactorTimesTheLengthCountedAsAtLeastTheMinimum() {
        for length in [0, 1, 2, 100, 1000, 10_000, 50_000, 65_536, 70_000, 100_000, 16 << 20] {
            #expect(ParseCost.limit(forLength: length) <= ParseCost.factor * max(length, ParseCost.minimumLength))
            #expect(ParseCost.limit(forLength: length) >= length)
        }
    }

    static func decode(_ shape: Shape) throws(SQSError) -> SQSRequest {
        try SQSRequestDecoder.decode(
            target: shape.target, contentType: nil, path: "/", queryString: nil, body: shape.body)
    }
}
