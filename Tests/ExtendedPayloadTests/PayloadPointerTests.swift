import Testing

@testable import ExtendedPayload

struct PayloadPointerTests {
    @Test func writesTheCompactJavaForm() {
        let pointer = PayloadPointer(bucket: "my-bucket", key: "prefix/0f8fad5b-d9cb-469f-a165-70867728950e")
        #expect(
            pointer.encoded
                == #"["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"my-bucket","s3Key":"prefix/0f8fad5b-d9cb-469f-a165-70867728950e"}]"#
        )
    }

    @Test(arguments: [
        // Java, compact.
        #"["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}]"#,
        // Python: spaces after , and :.
        #"["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "b", "s3Key": "k"}]"#,
        // Legacy class name, Java 1.x.
        #"["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"b","s3Key":"k"}]"#,
        // Other field order, extra fields, line breaks, escapes.
        "[ \"software.amazon.payloadoffloading.PayloadS3Pointer\" ,\n {\"s3Key\":\"\\u006b\",\"extra\":1,\"s3BucketName\":\"b\"} ]",
    ])
    func readsWhatEveryLibraryWrote(_ body: String) {
        #expect(PayloadPointer(body: body) == PayloadPointer(bucket: "b", key: "k"))
    }

    @Test(arguments: [
        "hello", "", "[]", #"["software.amazon.payloadoffloading.PayloadS3Pointer"]"#,
        #"["other.Class",{"s3BucketName":"b","s3Key":"k"}]"#,
        #"["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b"}]"#,
        #"{"s3BucketName":"b","s3Key":"k"}"#,
        #"["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}"#,
    ])
    func otherBodiesAreNotPointers(_ body: String) {
        #expect(PayloadPointer(body: body) == nil)
    }

    @Test func nonASCIIAndQuotesRoundTrip() {
        let pointer = PayloadPointer(bucket: "b", key: "ключ \"q\"")
        #expect(PayloadPointer(body: pointer.encoded) == pointer)
        #expect(pointer.encoded.contains("ключ"))
    }
}

struct MarkedReceiptHandleTests {
    @Test func marksAsTheLibrariesDo() {
        let handle = MarkedReceiptHandle(pointer: PayloadPointer(bucket: "bucket", key: "key"), original: "AQEB+x/y==")
        #expect(handle.marked == "-..s3BucketName..-bucket-..s3BucketName..--..s3Key..-key-..s3Key..-AQEB+x/y==")
    }

    @Test func originalHandleWithDashesSurvives() throws {
        let original = "AQEB-abc--def-..-ghi-"
        let marked = MarkedReceiptHandle(
            pointer: PayloadPointer(bucket: "my-bucket", key: "p-1/k-2"), original: original
        )
        .marked
        let parsed = try #require(MarkedReceiptHandle(marked))
        #expect(parsed.original == original)
        #expect(parsed.pointer == PayloadPointer(bucket: "my-bucket", key: "p-1/k-2"))
    }

    @Test func multiLineOriginal() throws {
        let parsed = try #require(
            MarkedReceiptHandle("-..s3BucketName..-b-..s3BucketName..--..s3Key..-k-..s3Key..-line1\nline2"))
        #expect(parsed.original == "line1\nline2")
    }

    @Test(arguments: [
        "AQEBplain", "", "-..s3BucketName..-b", "-..s3BucketName..-b-..s3BucketName..--..s3Key..-k",
        "x-..s3BucketName..-b-..s3BucketName..--..s3Key..-k-..s3Key..-h",
    ])
    func unmarkedHandles(_ handle: String) {
        #expect(MarkedReceiptHandle(handle) == nil)
    }
}

struct PayloadKeyTests {
    @Test func keysAreUUIDsAfterThePrefix() throws {
        let key = try PayloadKeyGenerator(prefix: "app/v1_").next()
        #expect(key.hasPrefix("app/v1_"))
        #expect(key.count == "app/v1_".count + 36)
        #expect(key == key.lowercased())
        #expect(try PayloadKeyGenerator().next() != PayloadKeyGenerator().next())
    }

    @Test(arguments: [".hidden", "/root", "a/../b", "space here", "ünïcode", String(repeating: "a", count: 989)])
    func javaRefusesTheseePrefixes(_ prefix: String) {
        #expect(throws: PayloadKeyError.self) { try PayloadKeyGenerator(prefix: prefix) }
    }
}
