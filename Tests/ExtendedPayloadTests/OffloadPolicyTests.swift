import SQSWire
import Testing

@testable import ExtendedPayload

struct OffloadPolicyTests {
    let policy = OffloadPolicy(maxPayloadSize: 2_147_483_648, canOffload: true)

    @Test func sizeCountsBodyNamesTypesAndValues() {
        let attributes: [String: MessageAttribute] = [
            "name": MessageAttribute(dataType: "String", value: .string("value")),
            "bin": MessageAttribute(dataType: "Binary", value: .binary([1, 2, 3])),
            "n": MessageAttribute(dataType: "Number", value: .string("42")),
        ]
        #expect(OffloadPolicy.attributesSize(attributes) == (4 + 6 + 5) + (3 + 6 + 3) + (1 + 6 + 2))
        #expect(OffloadPolicy.messageSize(bodyBytes: 10, attributes: attributes) == 10 + 36)
    }

    @Test func thresholdIsStrictlyGreater() throws {
        #expect(try policy.mustOffload(bodyBytes: 262_144, attributes: [:]) == false)
        #expect(try policy.mustOffload(bodyBytes: 262_145, attributes: [:]) == true)
        let attribute = ["a": MessageAttribute(dataType: "String", value: .string("x"))]
        #expect(try policy.mustOffload(bodyBytes: 262_144 - 8, attributes: attribute) == false)
        #expect(try policy.mustOffload(bodyBytes: 262_144 - 7, attributes: attribute) == true)
    }

    @Test func alwaysThroughS3AndNoBucket() throws {
        var always = policy
        always.alwaysThroughS3 = true
        #expect(try always.mustOffload(bodyBytes: 1, attributes: [:]) == true)
        var noBucket = always
        noBucket.canOffload = false
        #expect(try noBucket.mustOffload(bodyBytes: 5_000_000, attributes: [:]) == false)
    }

    @Test func validation() throws {
        for name in OffloadPolicy.reservedAttributeNames {
            #expect(throws: SQSError.self) {
                try policy.mustOffload(
                    bodyBytes: 1, attributes: [name: MessageAttribute(dataType: "Number", value: .string("1"))])
            }
        }
        #expect(throws: SQSError.self) { try policy.mustOffload(bodyBytes: 0, attributes: [:]) }
        var small = policy
        small.maxPayloadSize = 100
        #expect(throws: SQSError.self) { try small.mustOffload(bodyBytes: 101, attributes: [:]) }
        let ten = Dictionary(
            uniqueKeysWithValues: (0..<10).map { ("a\($0)", MessageAttribute(dataType: "String", value: .string("v"))) }
        )
        #expect(try policy.mustOffload(bodyBytes: 10, attributes: ten) == false)
        #expect(throws: SQSError.self) { try policy.mustOffload(bodyBytes: 300_000, attributes: ten) }
        let huge = ["big": MessageAttribute(dataType: "String", value: .string(String(repeating: "x", count: 262_144)))]
        #expect(throws: SQSError.self) { try policy.mustOffload(bodyBytes: 1, attributes: huge) }
    }

    @Test func batchOffloadsLargestUntilItFits() {
        // Three 400 KiB entries fit one by one but not together: the largest goes first.
        let sizes = [400_000, 410_000, 405_000]
        let plan = OffloadPolicy.planBatch(
            sizes: sizes, offloadedSizes: [200, 200, 200], decided: [false, false, false])
        #expect(plan == [false, true, false])
        #expect(
            OffloadPolicy.planBatch(
                sizes: [600_000, 600_000, 600_000], offloadedSizes: [200, 200, 200], decided: [true, false, false])
                == [true, true, false])
        #expect(
            OffloadPolicy.planBatch(sizes: [10, 20], offloadedSizes: [200, 200], decided: [false, false]) == [
                false, false,
            ])
    }
}

struct MessageDigestTests {
    @Test func referenceVectors() {
        #expect(MessageDigest.body("Body") == "ac101b32dda4448cf13a93fe283dddd8")
        #expect(
            MessageDigest.attributes(["attribute-1": MessageAttribute(dataType: "String", value: .string("tmp"))])
                == "43eeb333d10515533e317490584ea243")
        #expect(
            MessageDigest.attributes([
                "binaryAttribute": MessageAttribute(
                    dataType: "Binary", value: .binary(Array("Hello binary world!".utf8)))
            ]) == "31a92b15d92f8db860eda32aceb656c3")
        #expect(MessageDigest.attributes([:]) == nil)
    }
}
