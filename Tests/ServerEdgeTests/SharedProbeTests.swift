import Synchronization
import Testing

@testable import ServerEdge

struct SharedProbeTests {
    @Test func callersThatArriveWhileAProbeRunsShareIt() async {
        let runs = Atomic<Int>(0)
        let (gate, opener) = AsyncStream.makeStream(of: Void.self)
        let probe = SharedProbe<Int> {
            let run = runs.add(1, ordering: .relaxed).newValue
            for await _ in gate { break }
            return run
        }
        let results = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<20 { group.addTask { await probe.result() } }
            // Every caller is waiting on the one run before it may finish.
            while runs.load(ordering: .relaxed) == 0 { await Task.yield() }
            try? await Task.sleep(for: .milliseconds(200))
            opener.yield()
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results == Array(repeating: 1, count: 20))
        // Once it ended, the next caller starts a new run.
        opener.yield()
        #expect(await probe.result() == 2)
    }
}
