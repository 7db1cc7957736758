import Testing

@testable import AWSSigning

/// Signatures of real SQS and S3 requests, computed by botocore's `SigV4Auth` and `S3SigV4Auth`
/// (botocore 1.43, timestamp 20251129T064500Z, region eu-west-1).
struct BotocoreOracleTests {
    static let credentials = AWSCredentials(
        accessKeyID: "AKIAPROXYEXAMPLE", secretAccessKey: "proxy/secret+key/EXAMPLE")
    static let date = SigningDate(secondsSince1970: 1_764_398_700)

    @Test func sqsJSONSendMessage() {
        let body = Array(
            #"{"QueueUrl":"https://sqs.eu-west-1.amazonaws.com/123456789012/orders","MessageBody":"hello €"}"#.utf8)
        let result = SigV4Signer(region: "eu-west-1", service: "sqs").sign(
            method: "POST", path: "/", query: "",
            headers: [
                ("host", "sqs.eu-west-1.amazonaws.com"), ("content-type", "application/x-amz-json-1.0"),
                ("x-amz-target", "AmazonSQS.SendMessage"),
            ],
            payloadHash: SigV4Signer.payloadHash(body), credentials: Self.credentials, date: Self.date)
        #expect(result.signature == "153f1670e47d03e698239787981d293bb2c93030254a6d1f03a84d55a9e8f353")
    }

    @Test func sqsQueryToQueuePathWithSessionToken() {
        var credentials = Self.credentials
        credentials.sessionToken = "FQoGZXIvYXdzEXAMPLE/token+with=chars"
        let body = Array("Action=SendMessage&Version=2012-11-05&MessageBody=a+b%26c".utf8)
        let result = SigV4Signer(region: "eu-west-1", service: "sqs").sign(
            method: "POST", path: "/123456789012/orders", query: "",
            headers: [
                ("host", "localhost:4566"), ("content-type", "application/x-www-form-urlencoded; charset=utf-8"),
            ],
            payloadHash: SigV4Signer.payloadHash(body), credentials: credentials, date: Self.date)
        #expect(result.signature == "06ca57f0053aa2e74ec7fd00caef6e00966423ff4e96a81c858f7c63cc9375a6")
        #expect(result.signedHeaders == "content-type;host;x-amz-date;x-amz-security-token")
    }

    @Test func s3PutObjectPathStyle() {
        let body = Array("payload bytes".utf8)
        let hash = SigV4Signer.payloadHash(body)
        let result = SigV4Signer(region: "eu-west-1", service: "s3", pathStyle: .s3).sign(
            method: "PUT", path: "/payload-bucket/prefix/0f8fad5b-d9cb-469f-a165-70867728950e", query: "",
            headers: [
                ("host", "127.0.0.1:9000"), ("content-type", "application/octet-stream"),
                ("x-amz-content-sha256", hash),
            ],
            payloadHash: hash, credentials: Self.credentials, date: Self.date)
        #expect(result.signature == "075b9ee1e811ab00c31efe1e6049e3e7e29470854a898c32adcd716a798adc82")
    }

    @Test func s3KeyIsEncodedOnceNotNormalized() {
        let result = SigV4Signer(region: "eu-west-1", service: "s3", pathStyle: .s3).sign(
            method: "GET", path: "/payload-bucket/a%20key%2Bplus", query: "",
            headers: [("host", "s3.eu-west-1.amazonaws.com"), ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash)],
            payloadHash: SigV4Signer.emptyPayloadHash, credentials: Self.credentials, date: Self.date)
        #expect(result.canonicalRequest.split(separator: "\n")[1] == "/payload-bucket/a%20key%2Bplus")
        #expect(result.signature == "b709e542855b7e0008c71c0ff9a1a54f9369f41a0638f1c3892038d630c664c2")
    }

    @Test func otherServicesEncodeTheWirePathAgain() {
        let signer = SigV4Signer(region: "eu-west-1", service: "sqs")
        #expect(signer.canonicalURI("/a%20b/./c/../d") == "/a%2520b/d")
    }
}
