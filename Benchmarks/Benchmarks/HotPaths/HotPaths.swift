import AWSSigning
import Benchmark
import ExtendedPayload
import SQSWire

/// The pure code every request goes through: decoding and encoding in both protocols, SigV4,
/// attribute digests, the pointer and receipt-handle codecs.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal], maxDuration: .seconds(3))

    let queue = "https://sqs.us-east-1.amazonaws.com/123456789012/orders"
    let body = String(repeating: "x", count: 1024)
    let jsonSend = Array(
        (#"{"QueueUrl":"\#(queue)","MessageBody":"\#(body)","MessageAttributes":{"kind":{"DataType":"String","StringValue":"order"},"n":{"DataType":"Number","StringValue":"42"}}}"#)
            .utf8)
    let querySend = Array(
        ("Action=SendMessage&Version=2012-11-05&QueueUrl=\(queue.replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: "/", with: "%2F"))&MessageBody=\(body)"
            + "&MessageAttribute.1.Name=kind&MessageAttribute.1.Value.DataType=String&MessageAttribute.1.Value.StringValue=order")
            .utf8)

    Benchmark("Decode SendMessage, JSON, 1 KiB") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                try SQSRequestDecoder.decode(
                    target: "AmazonSQS.SendMessage", contentType: "application/x-amz-json-1.0", path: "/",
                    queryString: nil, body: jsonSend))
        }
    }

    Benchmark("Decode SendMessage, Query, 1 KiB") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                try SQSRequestDecoder.decode(
                    target: nil, contentType: "application/x-www-form-urlencoded", path: "/", queryString: nil,
                    body: querySend))
        }
    }

    // A client holding a queue URL the proxy handed out: the request is written again for SQS.
    Benchmark("Point a JSON SendMessage's QueueUrl at SQS, 1 KiB (splice)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                jsonSend.withUnsafeBytes {
                    JSONMemberRange.replacing(
                        "QueueUrl", withString: "https://sqs.eu-west-1.amazonaws.com/123456789012/orders", in: $0)
                })
        }
    }

    Benchmark("Parse and serialize a JSON SendMessage, 1 KiB (what a splice saves)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try JSONValue.parse(jsonSend).serialized())
        }
    }

    // Every received body is looked at for an SNS envelope of a pointer.
    let notification =
        #"{"Type":"Notification","MessageId":"m","Message":"\#(body)","Timestamp":"2026-12-02T00:00:00Z"}"#
    Benchmark("SNS envelope check of a 1 KiB notification that holds no pointer") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(SNSEnvelope(body: notification))
        }
    }

    let received = JSONValue.object([
        "Messages": .array([
            .object([
                "MessageId": .string("5fea7756-0ea4-451a-a703-a558b933e274"), "ReceiptHandle": .string("AQEB" + body),
                "MD5OfBody": .string("7265f4d211b56873a381d321f586e4a9"), "Body": .string(body),
            ])
        ])
    ])
    let result = ResponseCodec.Result(tree: received, requestID: "00000000-0000-0000-0000-000000000000")
    Benchmark("Encode ReceiveMessage result, JSON") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(ResponseCodec.encode(result, action: .receiveMessage, wireProtocol: .json))
        }
    }
    Benchmark("Encode ReceiveMessage result, Query (XML)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(ResponseCodec.encode(result, action: .receiveMessage, wireProtocol: .query))
        }
    }

    let signer = SigV4Signer(region: "us-east-1", service: "sqs")
    let credentials = AWSCredentials(accessKeyID: "AKIAEXAMPLE", secretAccessKey: "secret", sessionToken: "token")
    let headers: [(name: String, value: String)] = [
        ("host", "sqs.us-east-1.amazonaws.com"), ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "AmazonSQS.SendMessage"),
    ]
    let date = SigningDate(secondsSince1970: 1_795_957_200)
    Benchmark("SigV4 sign (payload hash given)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                signer.sign(
                    method: "POST", path: "/", query: "", headers: headers, payloadHash: SigV4Signer.emptyPayloadHash,
                    credentials: credentials, date: date))
        }
    }
    Benchmark("SHA-256 payload hash, 1 KiB") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(SigV4Signer.payloadHash(jsonSend)) }
    }

    let attributes: [String: MessageAttribute] = [
        "kind": MessageAttribute(dataType: "String", value: .string("order")),
        "n": MessageAttribute(dataType: "Number", value: .string("42")),
        "blob": MessageAttribute(dataType: "Binary", value: .binary(Array(repeating: 7, count: 64))),
    ]
    Benchmark("MD5 of message attributes (3)") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(MessageDigest.attributes(attributes)) }
    }
    Benchmark("MD5 of a 1 KiB body") { benchmark in
        for _ in benchmark.scaledIterations { blackHole(MessageDigest.body(body)) }
    }

    let pointer = PayloadPointer(bucket: "orders-payloads", key: "3f0b6e4c-6d1f-4a57-9e0b-2d8a51f2f2a1")
    let pointerBody = pointer.encoded
    Benchmark("Payload pointer encode + parse") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(PayloadPointer(body: pointer.encoded))
            blackHole(PayloadPointer(body: pointerBody))
        }
    }
    let marked = MarkedReceiptHandle(pointer: pointer, original: "AQEB" + body).marked
    Benchmark("Marked receipt handle encode + parse") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(MarkedReceiptHandle(pointer: pointer, original: "AQEBhandle").marked)
            blackHole(MarkedReceiptHandle(marked))
        }
    }
}
