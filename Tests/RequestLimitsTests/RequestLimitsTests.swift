import SQSWire
import Testing

@testable import RequestLimits

struct RequestLimitsTests {
    static let withBucket = RequestLimits(
        threshold: 1000, maxPayloadSize: 1 << 31, maxHeldRequestSize: 16 << 20, partSize: 8 << 20, partsInFlight: 4)

    static func body(
        _ limits: RequestLimits = withBucket, _ wireProtocol: SQSProtocol = .json,
        action: SQSAction? = .sendMessage, contentType: String? = "application/x-amz-json-1.0", length: Int?
    ) -> RequestLimits.Body {
        limits.body(wireProtocol: wireProtocol, namedAction: action, contentType: contentType, declaredLength: length)
    }

    @Test func onlySendsThatMayCarryABodyOverTheThresholdStream() {
        #expect(Self.body(length: 1001).streams)
        #expect(Self.body(action: .sendMessageBatch, length: nil).streams)
        #expect(!Self.body(length: 1000).streams)
        #expect(!Self.body(action: .receiveMessage, length: 1 << 20).streams)
        // Query names its action in the body: any form that large may be a send.
        #expect(
            Self.body(
                Self.withBucket, .query, action: nil, contentType: "application/x-www-form-urlencoded; charset=utf-8",
                length: 5000
            ).streams)
        #expect(!Self.body(Self.withBucket, .query, action: nil, contentType: "text/plain", length: 5000).streams)
        // Without a bucket nothing is offloaded, so nothing streams.
        let withoutBucket = RequestLimits(
            threshold: 1000, maxPayloadSize: 1 << 31, maxHeldRequestSize: 16 << 20, partSize: nil, partsInFlight: 4)
        #expect(Self.body(withoutBucket, length: 1 << 20) == .init(streams: false, limit: 16 << 20, hold: 16 << 20))
    }

    @Test func aStreamedSendMayBeItsLargestBodyEscapedTheWorstWayAndHoldsItsPartsInFlight() {
        let json = Self.body(length: nil)
        #expect(json.limit == 6 * (1 << 31) + (1 << 20))
        let query = Self.body(
            Self.withBucket, .query, action: nil, contentType: "application/x-www-form-urlencoded", length: nil)
        #expect(query.limit == 3 * (1 << 31) + (1 << 20))
        // A part being read and four in flight, each with room for its last piece, and the rest held.
        #expect(json.hold == 5 * ((8 << 20) + RequestLimits.pieceAllowance) + (16 << 20))
        #expect(Self.withBucket.largestHold == json.hold)
    }

    @Test func theStreamedLimitDoesNotOverflow() {
        let huge = RequestLimits(
            threshold: 1000, maxPayloadSize: .max, maxHeldRequestSize: 16 << 20, partSize: 8 << 20, partsInFlight: 4)
        #expect(Self.body(huge, length: nil).limit > 0)
    }
}
