// The cross-thread door into a loop: one locked queue of tasks plus an eventfd that wakes the loop's epoll_wait.
//
// Wake-up rule: a producer writes the eventfd only when its push turns the queue from empty to non-empty; the loop
// takes the whole queue at once, so the next push after that writes again. A loop that is busy therefore costs
// producers no syscalls, and a sleeping loop is always woken by the push that matters.
// Shutdown rule: `close()` marks the queue closed under the same lock that guards eventfd writes, so no producer
// writes to the descriptor after the loop closes it (and never to a reused descriptor number).

internal import CLinux
import Glibc
import Synchronization

/// The locked task queue and eventfd of one loop.
final class TaskQueue: Sendable {
    private struct State {
        var tasks: [@Sendable () -> Void] = []
        var isClosed = false
    }

    private let state = Mutex(State())
    /// The eventfd the loop registers with epoll; readable while a wake-up is pending.
    let eventFD: Int32

    /// Creates the eventfd (non-blocking, close-on-exec).
    init() throws(SystemError) {
        eventFD = try Syscall.run("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
    }

    deinit {
        if !state.withLock({ $0.isClosed }) { Syscall.close(eventFD) }
    }

    /// Queues a task; returns false (and drops the task) once the loop has shut down.
    func push(_ task: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard !state.isClosed else { return false }
            state.tasks.append(task)
            if state.tasks.count == 1 { signal() }
            return true
        }
    }

    /// Wakes the loop without queuing anything (used by `stop()`).
    func wake() {
        state.withLock { state in
            if !state.isClosed { signal() }
        }
    }

    /// Swaps the queued tasks into `batch` (which must be empty), so the lock is held only for the swap and the
    /// batch's storage is reused from one iteration to the next.
    func takeAll(into batch: inout [@Sendable () -> Void]) {
        state.withLock { state in swap(&state.tasks, &batch) }
    }

    /// Resets the eventfd counter after epoll reported it readable.
    func acknowledgeWakeUp() {
        var counter: UInt64 = 0
        _ = try? Syscall.nonBlocking("read") { read(eventFD, &counter, 8) }
    }

    /// Refuses further tasks, closes the eventfd, and returns what was still queued so the loop can run it.
    func close() -> [@Sendable () -> Void] {
        let remaining = state.withLock { state in
            state.isClosed = true
            let remaining = state.tasks
            state.tasks = []
            return remaining
        }
        Syscall.close(eventFD)
        return remaining
    }

    /// Adds one to the eventfd counter; called with the lock held. EAGAIN means the counter is saturated, which
    /// still leaves the descriptor readable, so the loop wakes either way.
    private func signal() {
        var one: UInt64 = 1
        _ = try? Syscall.nonBlocking("write") { write(eventFD, &one, 8) }
    }
}
