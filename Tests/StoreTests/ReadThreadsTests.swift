import Dispatch
import Glibc
import Storage
import Synchronization
import Testing

@testable import Store

/// The store's read threads: below the loops' priority, in arrival order, bounded, and drained at close.
@Suite struct ReadThreadsTests {
    @Test func workRunsOnLowPriorityThreadsInArrivalOrder() throws {
        let threads = ReadThreads(count: 1, maxQueued: 16)
        let order = Mutex<[Int]>([])
        let niceness = Mutex<[Int32]>([])
        let done = DispatchSemaphore(value: 0)
        for index in 0..<8 {
            try threads.execute {
                order.withLock { $0.append(index) }
                niceness.withLock { $0.append(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)) }
                done.signal()
            }
        }
        for _ in 0..<8 { #expect(done.wait(timeout: .now() + 5) == .success) }
        #expect(order.withLock { $0 } == Array(0..<8))
        #expect(niceness.withLock { $0 }.allSatisfy { $0 == ReadThreads.niceness })
        threads.close()
    }

    @Test func beyondTheBoundWorkIsRefusedAtOnce() throws {
        let threads = ReadThreads(count: 1, maxQueued: 2)
        let gate = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        try threads.execute {
            started.signal()
            gate.wait()
        }
        #expect(started.wait(timeout: .now() + 5) == .success)
        try threads.execute {}
        try threads.execute {}
        #expect(throws: StoreError.readsOverloaded(queued: 2)) { try threads.execute {} }
        #expect(StoreError.readsOverloaded(queued: 2).isUnavailable)
        gate.signal()
        threads.close()
    }

    @Test func closeRunsWhatIsQueuedThenRefuses() throws {
        let threads = ReadThreads(count: 2, maxQueued: 64)
        let ran = Mutex(0)
        for _ in 0..<20 { try threads.execute { ran.withLock { $0 += 1 } } }
        threads.close()
        #expect(ran.withLock { $0 } == 20)
        #expect(throws: StoreError.closed) { try threads.execute {} }
    }

    @Test func theStoreHandsQueriesToItsReadThreads() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let store = try TelemetryStore(path: directory.path())
        let result = Mutex<Int?>(nil)
        let done = DispatchSemaphore(value: 0)
        try store.performRead {
            result.withLock { $0 = (try? store.devices(limit: 10))?.count }
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(result.withLock { $0 } == 0)
        store.close()
        #expect(throws: StoreError.closed) { try store.performRead {} }
    }
}
