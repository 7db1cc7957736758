import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOTestUtils
import Testing

@testable import Upstream

/// The one upstream seam against a scripted server: attempts, retries and what a result is made of.
@Suite(.serialized)
struct UpstreamCallerTests {
    static func answer(_ server: NIOHTTP1TestServer, _ status: HTTPResponseStatus) throws {
        _ = try server.receiveHead()
        _ = try server.receiveEnd()
        // Chunked: the answer is complete only with `.end`, so the client keeps the connection until then.
        try server.writeOutbound(
            .head(HTTPResponseHead(version: .http1_1, status: status, headers: ["Transfer-Encoding": "chunked"])))
        try server.writeOutbound(.body(.byteBuffer(ByteBuffer(string: "ok"))))
        try server.writeOutbound(.end(nil))
    }

    static func call(
        _ caller: UpstreamCaller, port: Int, retried: Bool, attempts: Counter, timeout: TimeAmount = .seconds(5)
    ) async -> UInt {
        await caller.call(
            UpstreamCaller.Call(service: "test", repeatable: true, retried: retried, timeout: timeout),
            request: {
                attempts.add()
                return HTTPClientRequest(url: "http://127.0.0.1:\(port)/")
            },
            answer: { response in
                _ = try await response.body.collect(upTo: 1024)
                return (response.status.code, UpstreamFailure.of(status: response.status.code, body: ByteBuffer()))
            },
            failed: { _ in 0 })
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func add() { lock.withLock { value += 1 } }
        var count: Int { lock.withLock { value } }
    }

    static func onThread(_ work: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }

    /// A caller on a client of its own, shut down after `body`.
    static func withCaller(
        maxAttempts: Int, _ body: (UpstreamCaller) async throws -> Void
    ) async throws {
        // One connection: the test server serves one at a time.
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let caller = UpstreamCaller(
            client: client,
            retrier: UpstreamRetrier(policy: RetryPolicy(maxAttempts: maxAttempts, baseDelay: .milliseconds(1))))
        do {
            try await body(caller)
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    @Test func aServerErrorIsTriedAgainWithANewlySignedRequest() async throws {
        let server = NIOHTTP1TestServer(group: MultiThreadedEventLoopGroup.singleton)
        defer { try? server.stop() }
        try await Self.withCaller(maxAttempts: 3) { caller in
            let attempts = Counter()
            async let status = Self.call(caller, port: server.serverPort, retried: true, attempts: attempts)
            try await Self.onThread {
                try Self.answer(server, .serviceUnavailable)
                try Self.answer(server, .ok)
            }
            #expect(await status == 200)
            #expect(attempts.count == 2)
        }
    }

    @Test func aCallThatMayNotBeRepeatedIsMadeOnce() async throws {
        let server = NIOHTTP1TestServer(group: MultiThreadedEventLoopGroup.singleton)
        defer { try? server.stop() }
        try await Self.withCaller(maxAttempts: 3) { caller in
            let attempts = Counter()
            async let status = Self.call(caller, port: server.serverPort, retried: false, attempts: attempts)
            try await Self.onThread { try Self.answer(server, .serviceUnavailable) }
            #expect(await status == 503)
            #expect(attempts.count == 1)
        }
    }

    @Test func noConnectionIsTheFailedResult() async throws {
        try await Self.withCaller(maxAttempts: 1) { caller in
            #expect(
                await Self.call(caller, port: 1, retried: true, attempts: Counter(), timeout: .milliseconds(300)) == 0)
        }
    }
}
