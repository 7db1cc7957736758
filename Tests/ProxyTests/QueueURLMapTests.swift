import AWSSigning
import SQSWire
import Testing

@testable import Proxy

struct QueueURLMapTests {
    static let upstream = UpstreamEndpoint("https://sqs.us-east-1.amazonaws.com")!
    let map = QueueURLMap(upstream: upstream)

    @Test func aClientQueueURLIsSentToTheUpstreamWithItsPath() {
        #expect(
            map.upstreamURL(for: "http://127.0.0.1:9324/123456789012/orders")
                == "https://sqs.us-east-1.amazonaws.com/123456789012/orders")
        #expect(
            map.upstreamURL(for: "HTTP://proxy.svc/123456789012/a.fifo?x")
                == "https://sqs.us-east-1.amazonaws.com/123456789012/a.fifo?x")
    }

    @Test func aURLOfTheUpstreamOrNoURLAtAllIsLeftAsItIs() {
        #expect(map.upstreamURL(for: "https://sqs.us-east-1.amazonaws.com/123456789012/orders") == nil)
        #expect(map.upstreamURL(for: "HTTPS://SQS.us-east-1.amazonaws.com/1/q") == nil)
        #expect(map.upstreamURL(for: "orders") == nil)
        #expect(map.upstreamURL(for: "://host/1/q") == nil)
        #expect(map.upstreamURL(for: "http:///1/q") == nil)
    }

    @Test func theBasePathIsAddedUpstreamAndTakenOffForClients() {
        let map = QueueURLMap(upstream: UpstreamEndpoint("http://gateway:8080/sqs/")!)
        #expect(map.upstreamURL(for: "http://proxy/1/q") == "http://gateway:8080/sqs/1/q")
        #expect(map.clientURL(for: "http://gateway:8080/sqs/1/q", origin: "http://proxy") == "http://proxy/1/q")
        #expect(map.clientURL(for: "http://gateway:8080/sqsx/1/q", origin: "http://proxy") == "http://proxy/sqsx/1/q")
    }

    @Test func answersPointAtTheOriginTheClientReached() {
        #expect(map.clientOrigin(hostHeader: "localhost:9324") == "http://localhost:9324")
        #expect(map.clientOrigin(hostHeader: "[::1]:9324") == "http://[::1]:9324")
        #expect(map.clientOrigin(hostHeader: "sidecar:80") == "http://sidecar")
        for bad in [nil, "", "a b", "host/x", "user@host", "host:0", "host:99999", "host?x"] as [String?] {
            #expect(map.clientOrigin(hostHeader: bad) == nil, "\(String(describing: bad))")
        }
        let advertised = QueueURLMap(upstream: Self.upstream, advertisedOrigin: "https://sqs-proxy.example")
        #expect(advertised.clientOrigin(hostHeader: nil) == "https://sqs-proxy.example")
    }

    @Test func anAdvertisedURLIsAnOriginAlone() {
        #expect(QueueURLMap.advertisedOrigin("http://proxy.svc:9324/") == "http://proxy.svc:9324")
        #expect(QueueURLMap.advertisedOrigin("https://proxy.svc:443") == "https://proxy.svc")
        for bad in ["proxy.svc:9324", "ftp://proxy", "http://proxy/base", "http://proxy?x", "http://"] {
            #expect(QueueURLMap.advertisedOrigin(bad) == nil, "\(bad)")
        }
    }

    @Test func everyQueueURLOfAResultIsPointedAtTheOrigin() {
        let origin = "http://127.0.0.1:9324"
        let single = map.clientResult(
            .object(["QueueUrl": .string("https://sqs.us-east-1.amazonaws.com/1/q")]), action: .getQueueUrl,
            origin: origin)
        #expect(single == .object(["QueueUrl": .string("http://127.0.0.1:9324/1/q")]))
        let list = map.clientResult(
            .object([
                "QueueUrls": .array([.string("https://queue.amazonaws.com/1/a"), .string("not a url")]),
                "NextToken": .string("https://sqs.us-east-1.amazonaws.com/1/a"),
            ]), action: .listQueues, origin: origin)
        #expect(
            list
                == .object([
                    "QueueUrls": .array([.string("http://127.0.0.1:9324/1/a"), .string("not a url")]),
                    "NextToken": .string("https://sqs.us-east-1.amazonaws.com/1/a"),
                ]))
        let sources = map.clientResult(
            .object(["queueUrls": .array([.string("https://sqs.us-east-1.amazonaws.com/1/s")])]),
            action: .listDeadLetterSourceQueues, origin: origin)
        #expect(sources == .object(["queueUrls": .array([.string("http://127.0.0.1:9324/1/s")])]))
    }

    @Test func aRequestNamesItsNewQueueURLInItsInputAndTree() throws {
        var json = try SQSRequestDecoder.decode(
            target: "AmazonSQS.SendMessage", contentType: "application/x-amz-json-1.0", path: "/", queryString: nil,
            body: Array(#"{"QueueUrl":"http://p/1/q","MessageBody":"b"}"#.utf8))
        json.setQueueURL("https://up/1/q")
        #expect(json.queueURL == "https://up/1/q" && json.tree?["QueueUrl"] == .string("https://up/1/q"))
        var query = try SQSRequestDecoder.decode(
            target: nil, contentType: "application/x-www-form-urlencoded", path: "/",
            queryString: "QueueUrl=http%3A%2F%2Fp%2F1%2Fq",
            body: Array("Action=GetQueueAttributes".utf8))
        query.setQueueURL("https://up/1/q")
        #expect(query.queueURL == "https://up/1/q" && query.tree == nil)
    }
}
