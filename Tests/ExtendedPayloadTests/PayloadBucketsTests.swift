import Testing

@testable import ExtendedPayload

struct PayloadBucketsTests {
    @Test func onlyNamedBucketsAreAllowed() {
        let buckets = PayloadBuckets(["own-payloads", "Legacy_Bucket"])
        #expect(buckets.allows(PayloadPointer(bucket: "own-payloads", key: "a1b2")))
        #expect(buckets.allows(PayloadPointer(bucket: "Legacy_Bucket", key: "prefix/a1b2")))
        #expect(!buckets.allows(PayloadPointer(bucket: "other-bucket", key: "a1b2")))
        #expect(!PayloadBuckets([]).allows(PayloadPointer(bucket: "own-payloads", key: "a1b2")))
    }

    @Test func anyBucketStillRefusesWhatIsNoBucketOrKey() {
        #expect(PayloadBuckets.any.allows(PayloadPointer(bucket: "someone-elses", key: "k")))
        for bucket in [
            "a", "a/b", "..", "-dash", "dots.", "has space", "evil.example:443", String(repeating: "b", count: 256),
        ] {
            #expect(!PayloadBuckets.any.allows(PayloadPointer(bucket: bucket, key: "k")))
        }
        for key in [
            "", "../other/k", "a/../../other/k", "a/./k", "..", "line\nbreak", String(repeating: "k", count: 1025),
        ] {
            #expect(!PayloadBuckets.any.allows(PayloadPointer(bucket: "own-payloads", key: key)))
        }
        #expect(PayloadBuckets.any.allows(PayloadPointer(bucket: "own-payloads", key: "a..b/c.d/.hidden")))
    }

    @Test func theSettingParses() throws {
        #expect(try PayloadBuckets(parsing: "*") == .any)
        #expect(try PayloadBuckets(parsing: " a-b , c.d ") == PayloadBuckets(["a-b", "c.d"]))
        #expect(try PayloadBuckets(parsing: "a-b,c.d").description == "a-b,c.d")
        for bad in ["", " , ", "*,a-b", "a/b", "ab"] {
            #expect(throws: PayloadBucketsError.self) { try PayloadBuckets(parsing: bad) }
        }
    }
}
