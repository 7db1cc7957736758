import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import ServerEdge

/// The head clock around NIO's real request decoder on an embedded channel, the clock moved by hand.
struct RequestHeadTimeoutTests {
    func channel() throws -> EmbeddedChannel {
        let clock = RequestHeadTimeout(timeout: .seconds(10))
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            clock.bytesHandler, ByteToMessageHandler(HTTPRequestDecoder()), clock.partsHandler,
        ])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    /// One read: the bytes, then the end of the batch.
    func arrive(_ text: String, on channel: EmbeddedChannel) throws {
        try channel.writeInbound(ByteBuffer(string: text))
        channel.pipeline.fireChannelReadComplete()
    }

    @Test func aTricklingHeadIsClosed() throws {
        let channel = try channel()
        try arrive("POST / HTTP/1.1\r\nHost: proxy\r\n", on: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(6))
        try arrive("X-Slow: 1\r\n", on: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(3))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test func aHeadInPiecesWithinTheTimeIsKept() throws {
        let channel = try channel()
        try arrive("POST / HTTP/1.1\r\nHost: pro", on: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        try arrive("xy\r\nContent-Length: 0\r\n\r\n", on: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
    }

    @Test func aSilentConnectionAndABodyAreNotItsConcern() throws {
        let channel = try channel()
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        try arrive("POST / HTTP/1.1\r\nHost: proxy\r\nContent-Length: 10\r\n\r\n12345", on: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        // The next request's head is timed from its first byte.
        try arrive("67890POST / HTTP/1.1\r\n", on: channel)
        try arrive("Host: x\r\n", on: channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(11))
        #expect(!channel.isActive)
    }
}
