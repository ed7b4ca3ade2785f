// The one hand-off between the threads that submit writes and a backend's writer thread.
//
// Rule: a request is in exactly one place, the queue or the writer, and the queue's bounds count only what waits in
// the queue. Batches are refused (`.overloaded`) when the queue holds `maxBatches` batches or adding the batch
// would pass `maxReadings` readings (an empty queue takes any batch). Counter flushes skip the bounds. Everything
// is refused after `close()`, and the writer keeps taking what was queued before until the queue is empty.
import Dispatch
import Synchronization

/// A write request as the queue sees it: a batch (counted against the bounds) or anything else (not counted).
package protocol QueuedWrite: Sendable {
    /// The readings of a batch; nil for a request that is not a batch.
    var batchReadingCount: Int? { get }
}

/// The bounded FIFO of write requests, locked, with a semaphore that wakes the writer when work arrives.
package final class BoundedWriteQueue<Request: QueuedWrite>: Sendable {
    private struct State {
        var items: [Request?] = []
        var head = 0
        var queuedBatches = 0
        var queuedReadings = 0
        package var isClosed = false
        var isWriterWaiting = false

        /// Removes and returns the oldest request, keeping the counts and compacting the array now and then.
        mutating func popFirst() -> Request? {
            guard head < items.count, let item = items[head] else { return nil }
            items[head] = nil
            head += 1
            if head == items.count {
                items.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024 && head * 2 >= items.count {
                items.removeFirst(head)
                head = 0
            }
            if let readings = item.batchReadingCount {
                queuedBatches -= 1
                queuedReadings -= readings
            }
            return item
        }

        /// True (and clears the flag) when the writer is asleep and must be woken: one signal per sleep.
        mutating func takeWaitingWriter() -> Bool {
            guard isWriterWaiting else { return false }
            isWriterWaiting = false
            return true
        }
    }

    private let state = Mutex(State())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let maxBatches: Int
    private let maxReadings: Int

    /// A queue refusing batches beyond `maxBatches` batches or `maxReadings` readings.
    package init(maxBatches: Int, maxReadings: Int) {
        self.maxBatches = maxBatches
        self.maxReadings = maxReadings
    }

    /// Appends a request without blocking; throws `.closed` after `close()`, `.overloaded` when a batch does not fit.
    package func enqueue(_ request: Request) throws(StoreError) {
        let shouldWake = try state.withLock { (state) throws(StoreError) -> Bool in
            guard !state.isClosed else { throw .closed }
            if let readings = request.batchReadingCount {
                let isFull =
                    state.queuedBatches >= maxBatches
                    || (state.queuedBatches > 0 && state.queuedReadings + readings > maxReadings)
                if isFull { throw .overloaded(queuedBatches: state.queuedBatches) }
                state.queuedBatches += 1
                state.queuedReadings += readings
            }
            state.items.append(request)
            return state.takeWaitingWriter()
        }
        if shouldWake { wakeUp.signal() }
    }

    /// The next request, waiting while the queue is empty; nil once the queue is closed and empty.
    /// Only the writer thread calls this.
    package func waitForNext() -> Request? {
        while true {
            let step = state.withLock { state -> Step in
                if let item = state.popFirst() { return .take(item) }
                if state.isClosed { return .finish }
                state.isWriterWaiting = true
                return .sleep
            }
            switch step {
            case .take(let item): return item
            case .finish: return nil
            case .sleep: wakeUp.wait()
            }
        }
    }

    /// What `waitForNext(timeoutNs:)` found.
    /// The writer's next move, decided under the lock so that it waits for work outside it.
    private enum Step {
        case take(Request)
        case finish, sleep
    }

    package enum Wait {
        case request(Request)
        case timedOut
        case closed
    }

    /// The next request, waiting at most `timeoutNs` while the queue is empty. Only the writer thread calls this.
    package func waitForNext(timeoutNs: UInt64) -> Wait {
        let deadline = DispatchTime.now().uptimeNanoseconds &+ timeoutNs
        while true {
            let found = state.withLock { state -> Wait? in
                if let item = state.popFirst() { return .request(item) }
                if state.isClosed { return .closed }
                state.isWriterWaiting = true
                return nil
            }
            if let found { return found }
            if wakeUp.wait(timeout: DispatchTime(uptimeNanoseconds: deadline)) == .timedOut {
                // A signal racing with the timeout leaves the semaphore at 1: the next wait returns at once and
                // finds the queue as it is, which is harmless.
                state.withLock { $0.isWriterWaiting = false }
                return .timedOut
            }
        }
    }

    /// The next request if one is queued, without waiting. Only the writer thread calls this.
    package func takeIfAvailable() -> Request? {
        state.withLock { $0.popFirst() }
    }

    /// Refuses everything from now on; the writer still drains what is queued, then `waitForNext` returns nil.
    package func close() {
        let shouldWake = state.withLock { state -> Bool in
            state.isClosed = true
            return state.takeWaitingWriter()
        }
        if shouldWake { wakeUp.signal() }
    }

    /// True once `close()` was called.
    package var isClosed: Bool { state.withLock { $0.isClosed } }

    /// Batches and readings waiting.
    package var depth: (batches: Int, readings: Int) {
        state.withLock { ($0.queuedBatches, $0.queuedReadings) }
    }
}
