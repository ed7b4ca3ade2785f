// EventLoop: one thread, one epoll instance, many non-blocking sockets.
//
// Thread ownership: `run()` makes the calling thread the loop's owner for good. Everything the loop owns (its
// connections, their handlers, timers, the read buffer) is used only on that thread; those types are not Sendable,
// so the compiler keeps them there, and the loop-only methods below check the thread at run time. The EventLoop
// object itself is Sendable: any thread may `execute`, `stop`, and ask `inEventLoop`.
//
// Wake-up: `execute` appends to one locked queue and writes the loop's eventfd when the queue was empty (see
// TaskQueue). Tasks run on the loop thread in the order they were queued (FIFO per producer, and across producers in
// the order they took the lock), after that iteration's I/O and timers. A task queued by a task runs on the next
// iteration. Tasks queued after the loop finished are refused: `execute` returns false.
//
// Timers: `schedule(after:)` runs a callback once, on the loop thread, no earlier than the delay. Due timers fire
// in deadline order, ties in scheduling order; a cancelled timer never fires, even when cancelled by another timer
// of the same pass. epoll_wait sleeps in whole milliseconds, rounded up, so a timer may fire up to ~1 ms late
// (more under load). A min-heap with O(log n) cancel keeps tens of thousands of pending timers cheap.
//
// One iteration: before-sleep hooks → epoll_wait (timeout = earliest timer) → I/O events in kernel order → due
// timers → queued tasks. The before-sleep hooks run last before the loop may sleep, so work that must happen before
// replies go out (make a batch durable, flush HTTP/2 sessions) has one place to live.
//
// Stop: `stop()` (any thread) ends the loop after the current iteration. The loop then refuses new tasks, runs the
// ones already queued, closes every connection (`.loopStopped`) and listener, drops pending timers, and closes its
// epoll and eventfd descriptors before `run()` returns.

internal import CLinux
import Glibc
import Synchronization

/// One event loop: run it on a thread of its own (or use `EventLoopGroup`), then drive sockets and timers on it.
public final class EventLoop: Sendable {
    /// The thread that runs the loop; checked by every loop-only call.
    let thread = LoopThreadIdentity()
    /// The cross-thread task queue and its eventfd.
    let tasks: TaskQueue
    /// The loop-owned state, reachable only on the loop thread.
    let core: LoopBound<LoopCore>
    private let stopRequested = Atomic<Bool>(false)

    /// Creates the loop's epoll instance, eventfd and read buffer; call `run()` on the thread that will own it.
    public init() throws(SystemError) {
        let core = try LoopCore()
        tasks = try TaskQueue()
        try core.selector.registerWakeUp(fd: tasks.eventFD)
        self.core = LoopBound(unchecked: core, owner: thread)
    }

    // MARK: Any thread

    /// True when called on the loop's thread.
    public var inEventLoop: Bool { thread.isCurrent }

    /// Stops the process unless called on the loop's thread: the guard at the top of every loop-only method.
    public func preconditionInEventLoop(file: StaticString = #fileID, line: UInt = #line) {
        precondition(thread.isCurrent, "called off the event loop's thread", file: file, line: line)
    }

    /// Runs `task` on the loop thread, after the current iteration's I/O and timers; callable from any thread.
    /// Returns false, and drops the task, when the loop has already finished.
    @discardableResult
    public func execute(_ task: @escaping @Sendable () -> Void) -> Bool {
        tasks.push(task)
    }

    /// Asks the loop to finish after its current iteration; callable from any thread, idempotent.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        tasks.wake()
    }

    // MARK: Loop thread only

    /// Runs `callback` once on the loop thread, no earlier than `delay` from now.
    @discardableResult
    public func schedule(after delay: Duration, _ callback: @escaping () -> Void) -> TimerHandle {
        core.value.schedule(afterNanoseconds: delay.clampedNanoseconds, callback)
    }

    /// Cancels a pending timer. Returns false when it already fired or was cancelled (a stale handle is harmless).
    @discardableResult
    public func cancel(_ timer: TimerHandle) -> Bool {
        core.value.cancel(timer)
    }

    /// Adds a hook that runs on every iteration just before the loop may sleep in epoll_wait.
    public func addBeforeSleepHook(_ hook: @escaping () -> Void) {
        core.value.addBeforeSleepHook(hook)
    }

    /// Timers scheduled and neither fired nor cancelled yet.
    public var pendingTimerCount: Int { core.value.timers.count }

    /// Connections on this loop that are connecting or open.
    public var connectionCount: Int { core.value.connectionCount }

    /// Runs the loop on the calling thread until `stop()`, then closes everything it owns (see the file header).
    public func run() {
        thread.claim()
        let core = self.core.value
        var batch: [@Sendable () -> Void] = []
        while !stopRequested.load(ordering: .acquiring) {
            core.runBeforeSleepHooks()
            let count: Int
            do {
                count = try core.selector.wait(timeoutMilliseconds: core.waitTimeout())
            } catch {
                fatalError("event loop cannot wait: \(error)")
            }
            core.noteWokeUp()
            for index in 0..<count {
                let (token, events) = core.selector.event(at: index)
                if token == .wakeUp {
                    tasks.acknowledgeWakeUp()
                } else if let object = core.selector.object(for: token) {
                    object.handle(events)
                }
            }
            core.fireExpiredTimers()
            tasks.takeAll(into: &batch)
            for task in batch { task() }
            batch.removeAll(keepingCapacity: true)
        }
        for task in tasks.close() { task() }
        core.shutdown()
        thread.relinquish()
    }
}
