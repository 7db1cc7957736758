import Foundation
import Testing

@testable import AWSSigning

/// The verifier checked against the official aws-sig-v4-test-suite: every request the signer signs
/// verifies, and one changed byte in any part of the canonical request is refused.
struct SigV4VerifierTests {
    typealias Vector = SigV4TestSuiteTests.Vector

    static let verifier = SigV4Verifier(service: "service")
    static let now = SigV4TestSuiteTests.date.secondsSince1970

    /// A request as a client sends it: the vector's headers plus what signing added.
    struct SentRequest {
        var method: String
        var path: String
        var query: String
        var headers: [(name: String, value: String)]
        var body: String

        init(_ vector: Vector) {
            var credentials = SigV4TestSuiteTests.credentials
            credentials.sessionToken = vector.sessionToken
            let headers = [("Host", "example.amazonaws.com")] + vector.headers
            let signature = SigV4Signer(region: "us-east-1", service: "service").sign(
                method: vector.method, path: vector.path, query: vector.query, headers: headers,
                payloadHash: SigV4Signer.payloadHash(Array(vector.body.utf8)), credentials: credentials,
                date: SigV4TestSuiteTests.date)
            method = vector.method
            path = vector.path
            query = vector.query
            self.headers = headers + signature.headers
            body = vector.body
        }

        mutating func replaceHeader(_ name: String, with value: String) {
            headers = headers.map { $0.name.lowercased() == name ? ($0.name, value) : $0 }
        }

        var authorization: String { headers.first { $0.name == "Authorization" }!.value }
    }

    static func verify(_ request: SentRequest, now: Int = now) -> Result<Void, SigV4Verifier.Failure> {
        let secrets = ["AKIDEXAMPLE": SigV4TestSuiteTests.credentials.secretAccessKey]
        return verifier.check(
            method: request.method, path: request.path, query: request.query, headers: request.headers, now: now,
            secret: { secrets[$0] }
        ).flatMap { $0.verify(payloadHash: SigV4Signer.payloadHash(Array(request.body.utf8))) }
    }

    static func isMismatch(_ result: Result<Void, SigV4Verifier.Failure>) -> Bool {
        guard case .failure(.mismatch) = result else { return false }
        return true
    }

    @Test(arguments: SigV4TestSuiteTests.vectors)
    func whatTheSignerSignsVerifies(_ vector: Vector) throws {
        let request = SentRequest(vector)
        #expect(request.authorization.hasSuffix("Signature=\(vector.signature)"))
        try Self.verify(request).get()
    }

    @Test(arguments: SigV4TestSuiteTests.vectors)
    func oneChangedByteInAnyPartIsRefused(_ vector: Vector) {
        let sent = SentRequest(vector)
        var method = sent
        method.method = vector.method == "GET" ? "PUT" : "GET"
        var path = sent
        path.path += "x"
        var query = sent
        query.query = vector.query.isEmpty ? "a" : "b" + vector.query.dropFirst()
        var headerValue = sent
        headerValue.replaceHeader("host", with: "example.amazonaws.con")
        var signedHeaders = sent
        signedHeaders.replaceHeader(
            "authorization", with: sent.authorization.replacingOccurrences(of: ";x-amz-date", with: ""))
        var body = sent
        body.body = vector.body.isEmpty ? "x" : "y" + vector.body.dropFirst()
        var signature = sent
        let last = sent.authorization.last!
        signature.replaceHeader(
            "authorization", with: String(sent.authorization.dropLast()) + (last == "0" ? "1" : "0"))
        for changed in [method, path, query, headerValue, body, signature] {
            #expect(Self.isMismatch(Self.verify(changed)))
        }
        // Leaving out a header that must be signed is refused before the signature is compared.
        guard case .failure(.malformed) = Self.verify(signedHeaders) else {
            Issue.record("a signature that leaves x-amz-date out was not refused")
            return
        }
    }

    @Test func theDateMustBeWithinFifteenMinutes() {
        let request = SentRequest(SigV4TestSuiteTests.vectors.first { $0.name == "post-vanilla" }!)
        #expect((try? Self.verify(request, now: Self.now + 15 * 60).get()) != nil)
        #expect((try? Self.verify(request, now: Self.now - 15 * 60).get()) != nil)
        for now in [Self.now + 20 * 60, Self.now - 20 * 60] {
            guard case .failure(.expired) = Self.verify(request, now: now) else {
                Issue.record("a request 20 minutes off was not refused as expired")
                continue
            }
        }
    }

    @Test func unknownKeysMissingAndMalformedSignaturesAreTold() {
        var request = SentRequest(SigV4TestSuiteTests.vectors.first { $0.name == "post-vanilla" }!)
        var unknown = request
        unknown.replaceHeader(
            "authorization", with: request.authorization.replacingOccurrences(of: "AKIDEXAMPLE", with: "AKIDOTHER"))
        #expect(Self.verify(unknown) == .failure(.unknownKey("The security token included in the request is invalid.")))

        var otherService = request
        otherService.replaceHeader(
            "authorization", with: request.authorization.replacingOccurrences(of: "/service/", with: "/sqs/"))
        #expect(Self.isMismatch(Self.verify(otherService)))

        var noDate = request
        noDate.headers.removeAll { $0.name == "X-Amz-Date" }
        guard case .failure(.malformed) = Self.verify(noDate) else {
            Issue.record("a request without X-Amz-Date was not refused as malformed")
            return
        }
        var otherDay = request
        otherDay.replaceHeader("x-amz-date", with: "20150831T003600Z")
        #expect(Self.isMismatch(Self.verify(otherDay, now: Self.now + 12 * 3600)))

        for broken in ["AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request", "Basic abc"] {
            var malformed = request
            malformed.replaceHeader("authorization", with: broken)
            guard case .failure(.malformed) = Self.verify(malformed) else {
                Issue.record("\(broken) was not refused as malformed")
                continue
            }
        }
        request.headers.removeAll { $0.name == "Authorization" }
        #expect(Self.verify(request) == .failure(.missing))
    }

    @Test func headersThatChangeWhatARequestDoesMustBeSigned() {
        let vanilla = SigV4TestSuiteTests.vectors.first { $0.name == "post-vanilla" }!
        func signed(adding added: [(String, String)], after: [(String, String)] = []) -> SentRequest {
            var vector = vanilla
            vector.headers += added
            var request = SentRequest(vector)
            request.headers += after
            return request
        }
        // Signed as the SDKs sign them: accepted.
        let sdkLike = signed(
            adding: [("X-Amz-Target", "AmazonSQS.SendMessage"), ("Content-Type", "application/x-amz-json-1.0")],
            after: [("X-Amzn-Trace-Id", "Root=1-a-b"), ("X-Amz-User-Agent", "aws-sdk-php/3"), ("User-Agent", "x")])
        guard case .success = Self.verify(sdkLike) else {
            Issue.record("a request signed as the SDKs sign it was refused")
            return
        }
        // PHP's signer never signs the content type.
        guard case .success = Self.verify(signed(adding: [], after: [("Content-Type", "application/x-amz-json-1.0")]))
        else {
            Issue.record("an unsigned content type was refused")
            return
        }
        for unsigned in [("X-Amz-Target", "AmazonSQS.PurgeQueue"), ("x-amz-security-token", "token")] {
            guard case .failure(.malformed(let message)) = Self.verify(signed(adding: [], after: [unsigned])) else {
                Issue.record("an unsigned \(unsigned.0) was not refused")
                continue
            }
            #expect(message.contains(unsigned.0.lowercased()))
        }
        #expect(
            SigV4Verifier.headersThatMustBeSigned([
                ("Host", "h"), ("X-Amz-Date", "d"), ("X-Amz-Target", "t"), ("x-amzn-query-mode", "true"),
                ("Content-Type", "c"),
            ]) == ["host", "x-amz-date", "x-amz-target"])
    }

    @Test func presignedURLsAreNotTaken() {
        let request = SentRequest(SigV4TestSuiteTests.vectors.first { $0.name == "post-vanilla" }!)
        var presigned = request
        presigned.query = "X-Amz-Signature=abc"
        guard case .failure(.malformed) = Self.verify(presigned) else {
            Issue.record("a presigned query was not refused")
            return
        }
    }

    @Test func authorizationHeaderParts() throws {
        let parsed = try #require(
            SigV4Verifier.Authorization(
                "AWS4-HMAC-SHA256 Credential=AKID/20150830/eu-west-1/sqs/aws4_request,SignedHeaders=host;x-amz-date, "
                    + "Signature=" + String(repeating: "ab", count: 32)))
        #expect(parsed.accessKeyID == "AKID")
        #expect(parsed.region == "eu-west-1")
        #expect(parsed.service == "sqs")
        #expect(parsed.signedHeaders == ["host", "x-amz-date"])
        let signature = String(repeating: "ab", count: 32)
        for broken in [
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/eu-west-1/sqs/aws4_request, SignedHeaders=host, Signature=abc",
            "AWS4-HMAC-SHA256 Credential=AKID/2015083/eu-west-1/sqs/aws4_request, SignedHeaders=host, Signature=\(signature)",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/eu west/sqs/aws4_request, SignedHeaders=host, Signature=\(signature)",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/eu-west-1/sqs/aws4_request, SignedHeaders=Host, Signature=\(signature)",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/eu-west-1/sqs/aws4_request, SignedHeaders=host, Signature=\(signature), Signature=\(signature)",
        ] {
            #expect(SigV4Verifier.Authorization(broken) == nil)
        }
    }

    @Test func timestampsParseOnlyWhenReal() {
        #expect(SigningDate(timestamp: "20150830T123600Z")?.secondsSince1970 == Self.now)
        for broken in ["20151330T123600Z", "20150230T123600Z", "20150830T123660Z", "20150830 123600Z", "2015-08-30"] {
            #expect(SigningDate(timestamp: broken) == nil)
        }
    }
}

extension Result where Failure == SigV4Verifier.Failure, Success == Void {
    static func == (left: Self, right: Self) -> Bool {
        switch (left, right) {
        case (.success, .success): return true
        case (.failure(let a), .failure(let b)): return a == b
        default: return false
        }
    }
}
