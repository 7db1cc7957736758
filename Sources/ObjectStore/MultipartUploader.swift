import NIOCore

/// Uploads one object in parts: every part but the last of `partSize` bytes, at most
/// `partsInFlight` uploading at once, and the upload aborted on any failure, so that no
/// incomplete upload is left behind.
public struct MultipartUploader: Sendable {
    /// S3's smallest part (but the last).
    public static let minimumPartSize = 5 * 1024 * 1024

    /// One part to upload: held in memory, or streamed while it arrives.
    public enum Part: Sendable {
        case bytes(ByteBuffer)
        case streamed(StreamedPart)
    }

    public let store: S3ObjectStore
    public let partSize: Int
    public let partsInFlight: Int

    public init(store: S3ObjectStore, partSize: Int, partsInFlight: Int) {
        self.store = store
        self.partSize = max(partSize, Self.minimumPartSize)
        self.partsInFlight = max(partsInFlight, 1)
    }

    /// Uploads a body held in memory, in slices of `partSize` (no copies).
    public func upload(bucket: String, key: String, body: ByteBuffer, options: S3ObjectStore.PutOptions)
        async throws(ObjectStoreError)
    {
        var remaining = body
        do {
            try await upload(bucket: bucket, key: key, options: options) {
                guard remaining.readableBytes > 0 else { return nil }
                return remaining.readSlice(length: min(partSize, remaining.readableBytes)).map(Part.bytes)
            }
        } catch let error as ObjectStoreError {
            throw error
        } catch {
            throw ObjectStoreError(.transport, bucket: bucket, key: key, detail: "\(error)")
        }
    }

    /// Uploads the parts `nextPart` returns until it returns nil. An error of `nextPart` (the client's
    /// body ending early, say) aborts the upload and is rethrown as it is. A streamed part is
    /// uploaded while `nextPart` is called for the next one: `nextPart` must finish (or fail) it first.
    /// The upload is created while the first parts are read: their uploads wait for its id.
    public func upload(
        bucket: String, key: String, options: S3ObjectStore.PutOptions, nextPart: () async throws -> Part?
    ) async throws {
        // A task of its own, awaited on every path: it is not cancelled with the parts, so that an
        // upload S3 created is always known, and aborted if anything failed.
        let store = self.store
        let creation = Task { try await store.createMultipartUpload(bucket: bucket, key: key, options: options) }
        do {
            let etags = try await uploadParts(bucket: bucket, key: key, creation: creation, nextPart: nextPart)
            try await store.completeMultipartUpload(
                bucket: bucket, key: key, uploadID: try await creation.value, etags: etags)
        } catch {
            if let uploadID = try? await creation.value {
                try? await store.abortMultipartUpload(bucket: bucket, key: key, uploadID: uploadID)
            }
            throw error
        }
    }

    private func uploadParts(
        bucket: String, key: String, creation: Task<String, any Error>, nextPart: () async throws -> Part?
    ) async throws -> [String] {
        let store = self.store
        let result = await withTaskGroup(of: Result<(Int, String), any Error>.self) {
            group -> Result<[String], any Error> in
            var etags: [Int: String] = [:]
            var count = 0
            var running = 0
            func collect(_ result: Result<(Int, String), any Error>?) -> (any Error)? {
                running -= 1
                switch result {
                case .success(let (number, etag)): etags[number] = etag
                case .failure(let error): return error
                case nil: break
                }
                return nil
            }
            do {
                while let part = try await nextPart() {
                    if running == partsInFlight, let error = collect(await group.next()) {
                        group.cancelAll()
                        return .failure(error)
                    }
                    count += 1
                    let number = count
                    group.addTask {
                        do {
                            let uploadID = try await creation.value
                            // The upload may have failed meanwhile: then its parts are not sent.
                            try Task.checkCancellation()
                            let etag =
                                switch part {
                                case .bytes(let body):
                                    try await store.uploadPart(
                                        bucket: bucket, key: key, uploadID: uploadID, number: number, body: body)
                                case .streamed(let streamed):
                                    try await store.uploadPart(
                                        bucket: bucket, key: key, uploadID: uploadID, number: number,
                                        streaming: streamed)
                                }
                            return .success((number, etag))
                        } catch {
                            return .failure(error)
                        }
                    }
                    running += 1
                }
            } catch {
                group.cancelAll()
                return .failure(error)
            }
            while running > 0 {
                if let error = collect(await group.next()) {
                    group.cancelAll()
                    return .failure(error)
                }
            }
            return .success((1...max(count, 1)).compactMap { etags[$0] })
        }
        return try result.get()
    }
}
