// The threads queries run on, so that no query runs on an event loop.
//
// Why: a 10,000-row page or a year-long series query takes tens of milliseconds; run on a loop thread, it stalls
// every connection on that loop (measured before this existed: a paced unary fleet's ack p99 went from 2.4 ms to
// 61.7 ms while four clients pulled large pages). Here the loops hand the work over and go on; the work runs on
// one of `count` threads at nice `niceness` (per thread on Linux, like the checkpointer), so when the cores are
// busy the loops and the writer go first and queries take what is left.
//
// Bounds: at most `maxQueued` pieces of work wait; beyond that `execute` throws `.overloaded` at once (the
// collector answers 503 with Retry-After). `close()` refuses new work, lets what is queued run, and waits for the
// threads to finish (unless it is called from one of them).

import Dispatch
import Foundation
import Synchronization

/// A small fixed pool of low-priority threads running read work in arrival order: every backend's `performRead`.
package final class ReadThreads: Sendable {
    private struct State {
        var queue: [@Sendable () -> Void] = []
        var head = 0
        var isClosed = false
        var threadIDs: [UInt] = []

        var waiting: Int { queue.count - head }
    }

    /// The nice value of the read threads: below the loops (0), above the checkpointer (10).
    package static let niceness: Int32 = 5

    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)
    private let finished = DispatchGroup()
    private let count: Int
    private let maxQueued: Int

    /// Starts `count` threads (at least 1); at most `maxQueued` pieces of work may wait.
    package init(count: Int, maxQueued: Int, name: String = "fleetwire-store-read") {
        self.count = max(1, count)
        self.maxQueued = max(1, maxQueued)
        for index in 0..<self.count {
            finished.enter()
            let thread = Thread { [self] in
                let which = __priority_which_t(PRIO_PROCESS.rawValue)
                setpriority(which, 0, Self.niceness)
                state.withLock { $0.threadIDs.append(pthread_self()) }
                run()
                finished.leave()
            }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }

    /// Queues `work`; throws `.overloaded` when `maxQueued` are already waiting and `.closed` after `close()`.
    package func execute(_ work: @escaping @Sendable () -> Void) throws(StoreError) {
        try state.withLock { (state) throws(StoreError) in
            guard !state.isClosed else { throw .closed }
            guard state.waiting < maxQueued else { throw .readsOverloaded(queued: state.waiting) }
            state.queue.append(work)
        }
        available.signal()
    }

    /// Refuses new work, lets the queued work run, and returns once the threads have finished (at once when called
    /// from a read thread, which finishes right after its current work).
    package func close() {
        let isReadThread = state.withLock { state -> Bool in
            state.isClosed = true
            return state.threadIDs.contains(pthread_self())
        }
        for _ in 0..<count { available.signal() }
        if !isReadThread { finished.wait() }
    }

    private func run() {
        while true {
            available.wait()
            let next = state.withLock { state -> (@Sendable () -> Void)? in
                guard state.head < state.queue.count else { return nil }
                let work = state.queue[state.head]
                state.head += 1
                if state.head >= 64 && state.head * 2 >= state.queue.count {
                    state.queue.removeFirst(state.head)
                    state.head = 0
                }
                return work
            }
            guard let next else {
                // Woken with nothing queued: only `close()` does that.
                if state.withLock({ $0.isClosed && $0.waiting == 0 }) { return }
                continue
            }
            next()
        }
    }
}
