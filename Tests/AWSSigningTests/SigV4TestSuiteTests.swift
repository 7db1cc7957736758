import Testing

@testable import AWSSigning

/// The official aws-sig-v4-test-suite: credentials AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1,
/// service `service`. Each case gives the request and the published signature.
struct SigV4TestSuiteTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var method: String
        var path: String
        var query: String = ""
        var headers: [(name: String, value: String)] = []
        var body: String = ""
        var sessionToken: String?
        var signedHeaders: String = "host;x-amz-date"
        var signature: String

        var testDescription: String { name }
    }

    static let credentials = AWSCredentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let date = SigningDate(secondsSince1970: 1_440_938_160)
    static let vanilla = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    static let postVanilla = "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
    static let stsToken =
        "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="

    static let vectors: [Vector] = [
        Vector(
            name: "get-header-key-duplicate", method: "GET", path: "/",
            headers: [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
            signedHeaders: "host;my-header1;x-amz-date",
            signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
        Vector(
            name: "get-header-value-multiline", method: "GET", path: "/",
            headers: [("My-Header1", "value1,value2,value3")], signedHeaders: "host;my-header1;x-amz-date",
            signature: "ba17b383a53190154eb5fa66a1b836cc297cc0a3d70a5d00705980573d8ff790"),
        Vector(
            name: "get-header-value-order", method: "GET", path: "/",
            headers: [
                ("My-Header1", "value4"), ("My-Header1", "value1"), ("My-Header1", "value3"), ("My-Header1", "value2"),
            ],
            signedHeaders: "host;my-header1;x-amz-date",
            signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"),
        Vector(
            name: "get-header-value-trim", method: "GET", path: "/",
            headers: [("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
            signedHeaders: "host;my-header1;my-header2;x-amz-date",
            signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
        Vector(
            name: "get-unreserved", method: "GET",
            path: "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"),
        Vector(
            name: "get-utf8", method: "GET", path: "/ሴ",
            signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
        Vector(name: "get-vanilla", method: "GET", path: "/", signature: vanilla),
        Vector(
            name: "get-vanilla-empty-query-key", method: "GET", path: "/", query: "Param1=value1",
            signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"),
        Vector(name: "get-vanilla-query", method: "GET", path: "/", signature: vanilla),
        Vector(
            name: "get-vanilla-query-order-key-case", method: "GET", path: "/", query: "Param2=value2&Param1=value1",
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        Vector(
            name: "get-vanilla-query-unreserved", method: "GET", path: "/",
            query:
                "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
        Vector(
            name: "get-vanilla-utf8-query", method: "GET", path: "/", query: "%E1%88%B4=bar",
            signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
        Vector(name: "normalize-path/get-relative", method: "GET", path: "/example/..", signature: vanilla),
        Vector(
            name: "normalize-path/get-relative-relative", method: "GET", path: "/example1/example2/../..",
            signature: vanilla),
        Vector(name: "normalize-path/get-slash", method: "GET", path: "//", signature: vanilla),
        Vector(name: "normalize-path/get-slash-dot-slash", method: "GET", path: "/./", signature: vanilla),
        Vector(
            name: "normalize-path/get-slash-pointless-dot", method: "GET", path: "/./example",
            signature: "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5"),
        Vector(
            name: "normalize-path/get-slashes", method: "GET", path: "//example//",
            signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"),
        Vector(
            name: "normalize-path/get-space", method: "GET", path: "/example space/",
            signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"),
        Vector(name: "post-header-key-case", method: "POST", path: "/", signature: postVanilla),
        Vector(
            name: "post-header-key-sort", method: "POST", path: "/", headers: [("My-Header1", "value1")],
            signedHeaders: "host;my-header1;x-amz-date",
            signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"),
        Vector(
            name: "post-header-value-case", method: "POST", path: "/", headers: [("My-Header1", "VALUE1")],
            signedHeaders: "host;my-header1;x-amz-date",
            signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
        Vector(
            name: "post-sts-token/post-sts-header-before", method: "POST", path: "/", sessionToken: stsToken,
            signedHeaders: "host;x-amz-date;x-amz-security-token",
            signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"),
        Vector(name: "post-vanilla", method: "POST", path: "/", signature: postVanilla),
        Vector(
            name: "post-vanilla-empty-query-value", method: "POST", path: "/", query: "Param1=value1",
            signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
        Vector(
            name: "post-vanilla-query", method: "POST", path: "/", query: "Param1=value1",
            signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"),
        Vector(
            name: "post-vanilla-query-nonunreserved", method: "POST", path: "/",
            query: "%40%23%24%25%5E=&%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D",
            signature: "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e"),
        Vector(
            name: "post-vanilla-query-space", method: "POST", path: "/", query: "p=",
            signature: "e71688addb58a26418614085fb730ba3faa623b461c17f48f2fbdb9361b94a9b"),
        Vector(
            name: "post-x-www-form-urlencoded", method: "POST", path: "/",
            headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "Param1=value1",
            signedHeaders: "content-type;host;x-amz-date",
            signature: "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"),
        Vector(
            name: "post-x-www-form-urlencoded-parameters", method: "POST", path: "/",
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf8")], body: "Param1=value1",
            signedHeaders: "content-type;host;x-amz-date",
            signature: "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"),
    ]

    @Test(arguments: vectors)
    func officialVector(_ vector: Vector) {
        let signer = SigV4Signer(region: "us-east-1", service: "service")
        var credentials = Self.credentials
        credentials.sessionToken = vector.sessionToken
        let result = signer.sign(
            method: vector.method, path: vector.path, query: vector.query,
            headers: [("Host", "example.amazonaws.com")] + vector.headers,
            payloadHash: SigV4Signer.payloadHash(Array(vector.body.utf8)), credentials: credentials,
            date: Self.date)
        #expect(result.signature == vector.signature)
        #expect(result.signedHeaders == vector.signedHeaders)
        #expect(
            result.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=\(vector.signedHeaders), Signature=\(vector.signature)"
        )
    }

    @Test func theSuiteCoversEveryCaseNamedHere() {
        #expect(Self.vectors.count == 30)
        #expect(Set(Self.vectors.map(\.name)).count == Self.vectors.count)
    }

    @Test func dateFormsAreUTC() {
        #expect(Self.date.timestamp == "20150830T123600Z")
        #expect(Self.date.day == "20150830")
        #expect(SigningDate(secondsSince1970: 0).timestamp == "19700101T000000Z")
    }

    @Test func addedHeadersCarryDateTokenAndAuthorization() {
        let signer = SigV4Signer(region: "us-east-1", service: "service")
        var credentials = Self.credentials
        credentials.sessionToken = "token"
        let result = signer.sign(
            method: "POST", path: "/", query: "", headers: [("Host", "example.amazonaws.com")],
            payloadHash: SigV4Signer.emptyPayloadHash, credentials: credentials, date: Self.date)
        #expect(result.headers.map(\.name) == ["X-Amz-Date", "X-Amz-Security-Token", "Authorization"])
        #expect(result.headers[1].value == "token")
    }
}
