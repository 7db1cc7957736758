import AWSCredentialChain
import AWSSigning
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOTestUtils
import Testing
import Upstream

@testable import ObjectStore

/// A multipart upload against a scripted S3 (NIOHTTP1TestServer): the order of its requests, and
/// the body read while the upload is created.
@Suite(.serialized)
struct MultipartUploaderTests {
    struct ScriptFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `script` on its own thread, since the test server's calls block.
    static func upstreamScript(_ script: @escaping @Sendable () throws -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread { continuation.resume(with: Result { try script() }) }.start()
        }
    }

    static func withUploader(
        partsInFlight: Int, _ body: (MultipartUploader, NIOHTTP1TestServer) async throws -> Void
    ) async throws {
        let server = NIOHTTP1TestServer(group: MultiThreadedEventLoopGroup.singleton, aggregateBody: true)
        // One connection: the test server serves one at a time, and a request sent while the
        // last response's connection is not back in the pool yet must wait for it.
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let store = S3ObjectStore(
            caller: UpstreamCaller(client: client, retrier: UpstreamRetrier()),
            endpoint: UpstreamEndpoint("http://127.0.0.1:\(server.serverPort)")!, region: "us-east-1",
            credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret")),
            timeout: .seconds(10))
        let outcome: Result<Void, any Error>
        do {
            try await body(MultipartUploader(store: store, partSize: 0, partsInFlight: partsInFlight), server)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        try await client.shutdown()
        try? server.stop()
        try outcome.get()
    }

    /// Reads one request: its head and its body as text.
    static func receive(_ server: NIOHTTP1TestServer) throws -> (head: HTTPRequestHead, body: String) {
        let head = try server.receiveHead()
        var body = ""
        while true {
            switch try server.readInbound() {
            case .body(let bytes): body += String(buffer: bytes)
            case .end: return (head, body)
            case .head: throw ScriptFailure(description: "a request began inside another")
            }
        }
    }

    static func respond(
        _ server: NIOHTTP1TestServer, status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: String
    ) throws {
        var headers = headers
        // Chunked: the response is complete only with `.end`, so the client keeps the connection until then.
        headers.add(name: "Transfer-Encoding", value: "chunked")
        try server.writeOutbound(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
        try server.writeOutbound(.body(.byteBuffer(ByteBuffer(string: body))))
        try server.writeOutbound(.end(nil))
    }

    @Test func theBodyIsReadWhileTheUploadIsCreated() async throws {
        try await Self.withUploader(partsInFlight: 2) { uploader, server in
            let readToTheEnd = DispatchSemaphore(value: 0)
            async let script: Void = Self.upstreamScript {
                let create = try Self.receive(server)
                #expect(create.head.method == .POST && create.head.uri == "/payloads/k?uploads=")
                // S3 answers only once every part was read: the reader must not wait for it.
                guard readToTheEnd.wait(timeout: .now() + 5) == .success else {
                    throw ScriptFailure(description: "the parts were not read while the upload was created")
                }
                try Self.respond(
                    server, status: .ok,
                    body: "<InitiateMultipartUploadResult><UploadId>u-1</UploadId></InitiateMultipartUploadResult>")
                // One part: the test server serves one connection at a time.
                let part = try Self.receive(server)
                #expect(part.head.method == .PUT && part.head.uri == "/payloads/k?partNumber=1&uploadId=u-1")
                #expect(part.body == "the only part")
                try Self.respond(server, status: .ok, headers: ["ETag": "\"e1\""], body: "")
                let complete = try Self.receive(server)
                #expect(complete.head.method == .POST && complete.head.uri == "/payloads/k?uploadId=u-1")
                #expect(
                    complete.body
                        == "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part>"
                        + "</CompleteMultipartUpload>")
                try Self.respond(server, status: .ok, body: "<CompleteMultipartUploadResult/>")
            }
            var parts = ["the only part"]
            try await uploader.upload(bucket: "payloads", key: "k", options: S3ObjectStore.PutOptions()) {
                guard !parts.isEmpty else {
                    readToTheEnd.signal()
                    return nil
                }
                return .bytes(ByteBuffer(string: parts.removeFirst()))
            }
            try await script
        }
    }

    @Test func aFailedCreationStopsTheReadingAndLeavesNothingToAbort() async throws {
        try await Self.withUploader(partsInFlight: 2) { uploader, server in
            async let script: Void = Self.upstreamScript {
                _ = try Self.receive(server)
                try Self.respond(
                    server, status: .forbidden,
                    body: "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>")
                // No part and no abort follow.
                #expect(throws: (any Error).self) { try server.readInbound(deadline: .now() + .milliseconds(500)) }
            }
            var reads = 0
            await #expect(throws: ObjectStoreError.self) {
                try await uploader.upload(bucket: "payloads", key: "k", options: S3ObjectStore.PutOptions()) {
                    reads += 1
                    return .bytes(ByteBuffer(string: "part \(reads)"))
                }
            }
            // One part per upload in flight, and the one that found them all busy.
            #expect(reads == 3)
            try await script
        }
    }

    struct ClientGone: Error {}

    @Test func aReaderFailureWhileTheUploadIsCreatedStillAbortsIt() async throws {
        try await Self.withUploader(partsInFlight: 2) { uploader, server in
            let readerFailed = DispatchSemaphore(value: 0)
            async let script: Void = Self.upstreamScript {
                _ = try Self.receive(server)
                // S3 answers after the reader failed: the upload it created must still be aborted.
                guard readerFailed.wait(timeout: .now() + 5) == .success else {
                    throw ScriptFailure(description: "the reader was not called while the upload was created")
                }
                try Self.respond(
                    server, status: .ok,
                    body: "<InitiateMultipartUploadResult><UploadId>u-1</UploadId></InitiateMultipartUploadResult>")
                let abort = try Self.receive(server)
                #expect(abort.head.method == .DELETE && abort.head.uri == "/payloads/k?uploadId=u-1")
                // 200 rather than S3's 204: a chunked answer is over only with its end, so the client
                // does not shut down while the script still writes it.
                try Self.respond(server, status: .ok, body: "")
            }
            var reads = 0
            await #expect(throws: ClientGone.self) {
                try await uploader.upload(bucket: "payloads", key: "k", options: S3ObjectStore.PutOptions()) {
                    reads += 1
                    guard reads == 1 else {
                        readerFailed.signal()
                        throw ClientGone()
                    }
                    return .bytes(ByteBuffer(string: "part 1"))
                }
            }
            try await script
        }
    }
}
