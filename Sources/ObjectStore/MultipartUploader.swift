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
    /// The upload is created while the first parts are read: their uploads wait for its id. The
    /// creation is never cancelled: whatever fails, an upload S3 created is aborted.
    public func upload(
        bucket: String, key: String, options: S3ObjectStore.PutOptions, nextPart: () async throws -> Part?
    ) async throws {
        let creation = UploadCreation()
        do {
            let etags = try await uploadParts(
                bucket: bucket, key: key, options: options, creation: creation, nextPart: nextPart
            ).get()
            let uploadID = try await creation.uploadID()
            try await store.completeMultipartUpload(bucket: bucket, key: key, uploadID: uploadID, etags: etags)
        } catch {
            if let uploadID = creation.createdID {
                try? await store.abortMultipartUpload(bucket: bucket, key: key, uploadID: uploadID)
            }
            throw error
        }
    }

    /// How a task of an upload ended: the creation, or a part.
    private enum TaskOutcome: Sendable {
        case created
        case uploaded(number: Int, etag: String)
        case failed(any Error, part: Bool)
    }

    /// Creates the upload and uploads its parts, at most `partsInFlight` at once; returns their
    /// ETags in order once every task ended, or the first error (the other tasks cancelled).
    private func uploadParts(
        bucket: String, key: String, options: S3ObjectStore.PutOptions, creation: UploadCreation,
        nextPart: () async throws -> Part?
    ) async -> Result<[String], any Error> {
        let store = self.store
        return await withTaskGroup(of: TaskOutcome.self) { group -> Result<[String], any Error> in
            group.addTask {
                // Not cancelled with the other tasks: an upload S3 created must be known to be aborted.
                let created = await Task { () -> Result<String, ObjectStoreError> in
                    do throws(ObjectStoreError) {
                        return .success(
                            try await store.createMultipartUpload(bucket: bucket, key: key, options: options))
                    } catch {
                        return .failure(error)
                    }
                }.value
                creation.end(created)
                switch created {
                case .success: return .created
                case .failure(let error): return .failed(error, part: false)
                }
            }
            var etags: [Int: String] = [:]
            var count = 0
            var partsRunning = 0
            func collect(_ outcome: TaskOutcome?) -> (any Error)? {
                switch outcome {
                case .created, nil: return nil
                case .uploaded(let number, let etag):
                    partsRunning -= 1
                    etags[number] = etag
                    return nil
                case .failed(let error, let part):
                    if part { partsRunning -= 1 }
                    return error
                }
            }
            do {
                while let part = try await nextPart() {
                    while partsRunning == partsInFlight {
                        if let error = collect(await group.next()) {
                            group.cancelAll()
                            return .failure(error)
                        }
                    }
                    if let error = creation.failure {
                        group.cancelAll()
                        return .failure(error)
                    }
                    count += 1
                    let number = count
                    group.addTask {
                        do {
                            let uploadID = try await creation.uploadID()
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
                            return .uploaded(number: number, etag: etag)
                        } catch {
                            return .failed(error, part: true)
                        }
                    }
                    partsRunning += 1
                }
            } catch {
                group.cancelAll()
                return .failure(error)
            }
            while let outcome = await group.next() {
                if let error = collect(outcome) {
                    group.cancelAll()
                    return .failure(error)
                }
            }
            return .success((1...max(count, 1)).compactMap { etags[$0] })
        }
    }
}
