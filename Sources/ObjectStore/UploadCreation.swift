import Synchronization

/// A CreateMultipartUpload in flight: part uploads started before it answered wait here for its
/// upload id, so that the body is read (and its first part streamed) while the upload is created.
final class UploadCreation: Sendable {
    private enum Phase {
        case pending([CheckedContinuation<Result<String, ObjectStoreError>, Never>])
        case ended(Result<String, ObjectStoreError>)
    }

    private let phase = Mutex(Phase.pending([]))

    /// Records how the creation ended and wakes every waiter. Must be called once, whatever happened:
    /// waiters are only woken here.
    func end(_ result: Result<String, ObjectStoreError>) {
        let waiters = phase.withLock { phase -> [CheckedContinuation<Result<String, ObjectStoreError>, Never>] in
            guard case .pending(let waiters) = phase else { return [] }
            phase = .ended(result)
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: result) }
    }

    /// The upload id, once created; throws the creation's error if it failed.
    func uploadID() async throws(ObjectStoreError) -> String {
        let result = await withCheckedContinuation { waiter in
            let ended = phase.withLock { phase -> Result<String, ObjectStoreError>? in
                switch phase {
                case .ended(let result): return result
                case .pending(var waiters):
                    waiters.append(waiter)
                    phase = .pending(waiters)
                    return nil
                }
            }
            if let ended { waiter.resume(returning: ended) }
        }
        return try result.get()
    }

    /// The upload id if the creation ended with one.
    var createdID: String? {
        phase.withLock { phase in
            guard case .ended(.success(let id)) = phase else { return nil }
            return id
        }
    }

    /// The creation's error if it ended with one.
    var failure: ObjectStoreError? {
        phase.withLock { phase in
            guard case .ended(.failure(let error)) = phase else { return nil }
            return error
        }
    }
}
