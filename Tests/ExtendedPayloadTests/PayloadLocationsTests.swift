import Testing

@testable import ExtendedPayload

struct PayloadLocationsTests {
    @Test func onlyNamedBucketsAreAllowed() {
        let buckets = PayloadLocations(buckets: ["own-payloads", "Legacy_Bucket"])
        #expect(buckets.allows(PayloadPointer(bucket: "own-payloads", key: "a1b2")))
        #expect(buckets.allows(PayloadPointer(bucket: "Legacy_Bucket", key: "prefix/a1b2")))
        #expect(!buckets.allows(PayloadPointer(bucket: "other-bucket", key: "a1b2")))
        #expect(!PayloadLocations(buckets: []).allows(PayloadPointer(bucket: "own-payloads", key: "a1b2")))
    }

    @Test func anyBucketStillRefusesWhatIsNoBucketOrKey() {
        #expect(PayloadLocations.any.allows(PayloadPointer(bucket: "someone-elses", key: "k")))
        for bucket in [
            "a", "a/b", "..", "-dash", "dots.", "has space", "evil.example:443", String(repeating: "b", count: 256),
        ] {
            #expect(!PayloadLocations.any.allows(PayloadPointer(bucket: bucket, key: "k")))
        }
        for key in [
            "", "../other/k", "a/../../other/k", "a/./k", "..", "line\nbreak", String(repeating: "k", count: 1025),
        ] {
            #expect(!PayloadLocations.any.allows(PayloadPointer(bucket: "own-payloads", key: key)))
        }
        #expect(PayloadLocations.any.allows(PayloadPointer(bucket: "own-payloads", key: "a..b/c.d/.hidden")))
    }

    @Test func aPrefixedLocationAllowsOnlyKeysThatBeginWithItsPrefix() {
        let shared = PayloadLocations([.init(bucket: "shared", prefix: "app1/"), .init(bucket: "mixed", prefix: "app")])
        #expect(shared.allows(PayloadPointer(bucket: "shared", key: "app1/k")))
        #expect(!shared.allows(PayloadPointer(bucket: "shared", key: "app2/k")))
        #expect(!shared.allows(PayloadPointer(bucket: "shared", key: "app1")))
        #expect(!shared.allows(PayloadPointer(bucket: "shared", key: "k")))
        #expect(!shared.allows(PayloadPointer(bucket: "other", key: "app1/k")))
        // A plain string prefix: without a slash it also matches longer names.
        #expect(shared.allows(PayloadPointer(bucket: "mixed", key: "app10/k")))
        #expect(shared.unterminatedPrefixes == [.init(bucket: "mixed", prefix: "app")])
        #expect(shared.covers(bucket: "shared", prefix: "app1/sub/"))
        #expect(!shared.covers(bucket: "shared", prefix: ""))
        #expect(PayloadLocations(buckets: ["shared"]).covers(bucket: "shared", prefix: "any/"))
    }

    @Test func theSettingParses() throws {
        #expect(try PayloadLocations(parsing: "*") == .any)
        #expect(try PayloadLocations(parsing: " a-b , c.d ") == PayloadLocations(buckets: ["a-b", "c.d"]))
        #expect(try PayloadLocations(parsing: "a-b,c.d").description == "a-b,c.d")
        #expect(
            try PayloadLocations(parsing: "a-b/app1/,c.d/x/y")
                == PayloadLocations([.init(bucket: "a-b", prefix: "app1/"), .init(bucket: "c.d", prefix: "x/y")]))
        #expect(try PayloadLocations(parsing: "a-b/").description == "a-b")
        for bad in ["", " , ", "*,a-b", "a/b", "ab", "a-b/../c", "a-b/x\ty"] {
            #expect(throws: PayloadLocationsError.self) { try PayloadLocations(parsing: bad) }
        }
    }
}
