import AsyncHTTPClient
import NIOCore
import NIOPosix
import SQSTransport
import TextCoding

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension UpstreamFailure {
    /// How an SQS or S3 answer failed, nil if it did not fail in a way worth a retry. Throttling
    /// is told by its status (429) or error code (`Throttling`, `RequestThrottled`, `SlowDown`…).
    public static func of(status: UInt, body: ByteBuffer) -> UpstreamFailure? {
        switch status {
        case 429: return .throttled
        case 400, 500...599:
            let text = String(buffer: body.getSlice(at: body.readerIndex, length: min(body.readableBytes, 4096))!)
            let throttling = ["Throttl", "SlowDown", "RequestLimitExceeded", "TooManyRequests"]
            if throttling.contains(where: { text.containsBytes(of: $0) }) { return .throttled }
            return status >= 500 ? .serverError : nil
        default: return nil
        }
    }

    /// How a transport failure failed: a connection that could not be made never carried the
    /// request; one that broke may have. Timeouts are not retried (the client waits already).
    public static func of(_ error: any Error) -> UpstreamFailure? {
        switch error {
        case let error as SQSTransportError:
            switch error {
            case .connectFailed, .connectionClosed(written: false), .connectionFailed(written: false, _):
                return .notSent
            case .connectionClosed(written: true), .connectionFailed(written: true, _):
                return .serverError
            case .timedOut, .timedOutWaiting, .responseTooLarge, .cancelled, .shutDown:
                return nil
            }
        case let error as HTTPClientError:
            if error == .connectTimeout { return .notSent }
            if error == .remoteConnectionClosed { return .serverError }
            return nil
        case is NIOConnectionError:
            return .notSent
        case let error as IOError:
            return [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH].contains(error.errnoCode) ? .notSent : .serverError
        case let error as ChannelError:
            switch error {
            case .connectTimeout: return .notSent
            case .ioOnClosedChannel, .eof, .outputClosed: return .serverError
            default: return nil
            }
        default:
            return nil
        }
    }
}
