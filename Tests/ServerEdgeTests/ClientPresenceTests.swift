import Testing

@testable import ServerEdge

struct ClientPresenceTests {
    /// Whether `abandoned()` returned within a short wait (the wait is cancelled otherwise).
    static func abandons(_ presence: ClientPresence, after change: @Sendable () -> Void = {}) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await presence.abandoned()
                return !Task.isCancelled
            }
            change()
            group.addTask {
                try? await Task.sleep(for: .milliseconds(200))
                return false
            }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
    }

    @Test func onlyARequestAllowedToBeAbandonedIsAbandonedWhenItsClientLeaves() async {
        let changing = ClientPresence()
        changing.clientLeft()
        #expect(!(await Self.abandons(changing)), "a request that changes something is never abandoned")

        let allowedLater = ClientPresence()
        allowedLater.clientLeft()
        #expect(await Self.abandons(allowedLater) { allowedLater.allowAbandoning() })

        let staying = ClientPresence()
        staying.allowAbandoning()
        #expect(!(await Self.abandons(staying)))
        #expect(await Self.abandons(staying) { staying.clientLeft() })

        // Answered: the next request may not be abandoned until it is allowed again.
        let answered = ClientPresence()
        answered.allowAbandoning()
        answered.requestBegins()
        answered.clientLeft()
        #expect(!(await Self.abandons(answered)))
    }
}
