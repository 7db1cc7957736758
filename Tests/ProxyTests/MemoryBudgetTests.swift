import Logging
import NIOCore
import NIOHTTP1
import Testing

@testable import Proxy
@testable import ServerEdge

/// The memory budget: what a request may take of it, and the 503 a request gets when it has no room.
struct MemoryBudgetTests {
    @Test func reservationsFitWithinTheLimitAndChargesMayGoPastIt() {
        let budget = MemoryBudget(limit: 100)
        let fits = budget.reserve(60)
        let overflows = budget.reserve(41)
        #expect(fits && !overflows)
        budget.charge(50)
        #expect(budget.inUse == 110)
        budget.release(110)
        #expect(budget.inUse == 0)
    }

    @Test func aRequestIsAdmittedOnlyWhileTheBudgetHasRoomAndGivesEverythingBackAtTheEnd() {
        let budget = MemoryBudget(limit: 100)
        let first = MemoryLease(budget: budget)
        let second = MemoryLease(budget: budget)
        // Admitting takes nothing: a request takes its bytes as they arrive.
        let admitted = first.admits(100)
        let reserved = first.reserve(40)
        #expect(admitted && reserved && first.bytes == 40)
        let tooMuch = second.admits(61)
        #expect(!tooMuch)
        first.charge(70)
        #expect(first.bytes == 110)
        // Spent: even a request that expects to hold nothing waits.
        let spent = second.admits(0)
        #expect(!spent)
        first.end()
        #expect(budget.inUse == 0 && first.bytes == 0)
        let afterwards = second.admits(100)
        #expect(afterwards)
    }

    static func server(budget: MemoryBudget) -> ProxyServer<SQSRequestHandler> {
        let base = ProxyServerTests.server(upstreamPort: 1, maxHeld: 8000, readTimeout: .milliseconds(300))
        return ProxyServer(
            host: base.host, port: base.port, clientIdleTimeout: base.clientIdleTimeout, memoryBudget: budget,
            limits: base.limits, handler: base.handler, group: base.group, logger: Logger(label: "test"))
    }

    static let overBudget = "memory budget"

    @Test func aRequestWhoseDeclaredBodyDoesNotFitGetsA503AndTheConnectionServesOn() async throws {
        let budget = MemoryBudget(limit: 3000)
        budget.charge(2000)
        let answers = try await ProxyServerTests.serveAnswers(
            Self.server(budget: budget),
            [
                .head(ProxyServerTests.head(2000)), .body(ByteBuffer(repeating: 0x20, count: 2000)), .end(nil),
                .head(ProxyServerTests.head(2, close: true)), .body(ByteBuffer(string: "{}")), .end(nil),
            ])
        #expect(answers.map(\.head.status) == [.serviceUnavailable, .serviceUnavailable])
        #expect(answers[0].head.headers["x-amzn-query-error"] == ["ServiceUnavailable;Receiver"])
        #expect(answers[0].body.contains(Self.overBudget))
        // The second fits: it went upstream (which cannot be reached).
        #expect(!answers[1].body.contains(Self.overBudget))
        #expect(budget.inUse == 2000)
    }

    @Test func aChunkedBodyThatRunsPastTheBudgetGetsA503AndGivesItsBytesBack() async throws {
        let budget = MemoryBudget(limit: 3000)
        var head = ProxyServerTests.head(0)
        head.headers.remove(name: "Content-Length")
        head.headers.add(name: "Transfer-Encoding", value: "chunked")
        let answers = try await ProxyServerTests.serveAnswers(
            Self.server(budget: budget),
            [.head(head)] + Array(repeating: .body(ByteBuffer(repeating: 0x20, count: 1000)), count: 4) + [
                .end(nil), .head(ProxyServerTests.head(2, close: true)), .body(ByteBuffer(string: "{}")), .end(nil),
            ])
        #expect(answers.count == 2)
        #expect(answers[0].head.status == .serviceUnavailable)
        #expect(answers[0].body.contains(Self.overBudget))
        #expect(!answers[1].body.contains(Self.overBudget))
        #expect(budget.inUse == 0)
    }
}
