import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import ServerEdge

/// The stalled-body timeout on an embedded channel, the clock moved by hand.
struct StalledBodyCloserTests {
    static let head = HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/"))

    func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: StalledBodyCloser(timeout: .seconds(20)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    /// A read batch: what arrived, then the end of the batch and the proxy asking for more.
    func arrive(_ parts: [HTTPServerRequestPart], on channel: EmbeddedChannel) throws {
        for part in parts { try channel.writeInbound(part) }
        channel.pipeline.fireChannelReadComplete()
        channel.read()
    }

    @Test func aBodyThatStopsArrivingClosesTheConnection() throws {
        let channel = try channel()
        try arrive([Self.head, .body(ByteBuffer(string: "{\"a\":"))], on: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(15))
        try arrive([.body(ByteBuffer(string: "1"))], on: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(15))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        #expect(!channel.isActive)
    }

    @Test func aRequestThatArrivesWholeSetsNoTimer() throws {
        let channel = try channel()
        try arrive([Self.head, .body(ByteBuffer(string: "{}")), .end(nil)], on: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(300))
        #expect(channel.isActive)
    }

    @Test func timeTheProxyHoldsReadingBackDoesNotCount() throws {
        let channel = try channel()
        for part in [Self.head, HTTPServerRequestPart.body(ByteBuffer(string: "x"))] { try channel.writeInbound(part) }
        channel.pipeline.fireChannelReadComplete()
        // No read asked for: the proxy is busy with what it has (an upload pushing back).
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        channel.read()
        channel.embeddedEventLoop.advanceTime(by: .seconds(19))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }
}
