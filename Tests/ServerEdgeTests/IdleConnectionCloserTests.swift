import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import ServerEdge

/// The idle timeout on an embedded channel, with the event loop's clock moved by hand.
struct IdleConnectionCloserTests {
    static let head = HTTPServerRequestPart.head(HTTPRequestHead(version: .http1_1, method: .POST, uri: "/"))
    static let responseHead = HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok))

    func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: IdleConnectionCloser(timeout: .seconds(60)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    @Test func anIdleConnectionIsClosedAfterTheTimeout() throws {
        let channel = try channel()
        channel.embeddedEventLoop.advanceTime(by: .seconds(59))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test func aRequestInProgressIsNeverCut() throws {
        let channel = try channel()
        try channel.writeInbound(Self.head)
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(300))
        #expect(channel.isActive)
        try channel.writeOutbound(Self.responseHead)
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(59))
        #expect(channel.isActive)
        // A new request restarts nothing until it is answered.
        try channel.writeInbound(Self.head)
        channel.embeddedEventLoop.advanceTime(by: .seconds(120))
        #expect(channel.isActive)
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(61))
        #expect(!channel.isActive)
    }
}
