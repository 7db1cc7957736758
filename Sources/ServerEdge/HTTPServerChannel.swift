import NIOCore
import NIOHTTP1

/// The HTTP/1.1 server pipeline every listener's connections get: NIO's decoder with the request
/// head size limits, and the head clock around it (bytes before the decoder, heads right after it,
/// before the pipelining handler holds a pipelined request back).
enum HTTPServerChannel {
    static func configure(_ channel: any Channel, maxHeadSize: Int, headTimeout: TimeAmount) throws {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = maxHeadSize
        limits.maxHeaderListSize = maxHeadSize
        let pipeline = channel.pipeline.syncOperations
        try pipeline.configureHTTPServerPipeline(
            withErrorHandling: false, withEncoderConfiguration: .init(), withDecoderLimitConfiguration: limits)
        let headClock = RequestHeadTimeout(timeout: headTimeout)
        try pipeline.addHandler(headClock.bytesHandler, position: .first)
        try pipeline.addHandler(
            headClock.partsHandler,
            position: .after(try pipeline.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)))
    }
}
