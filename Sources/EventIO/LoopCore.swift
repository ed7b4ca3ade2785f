// The loop-owned half of an EventLoop: epoll, timers, the shared read buffer and the before-sleep hooks.
//
// Only the loop's thread touches this object; `EventLoop` reaches it through `LoopBound`, which checks that, and
// connections keep a direct reference because they live on the same thread.

import Clocks
import Glibc

/// The state only the loop thread touches; see `EventLoop` for the rules of the loop.
final class LoopCore {
    /// The shared read buffer's size. Every connection of the loop reads into this one buffer and keeps only the
    /// bytes its handler left unconsumed, so an idle connection holds no buffer at all.
    static let readBufferSize = 64 * 1024

    /// epoll and the registration table.
    let selector: Selector
    /// Pending timers.
    private(set) var timers = TimerQueue()
    /// The loop's one read buffer; see `readBufferSize`.
    let readBuffer: UnsafeMutableRawBufferPointer
    private var beforeSleepHooks: [() -> Void] = []
    private var acceptors: [Int32: Acceptor] = [:]
    private var isBufferReleased = false
    /// The loop's clock: sampled after each epoll_wait and before each timer pass. Activity timestamps use it, so
    /// they cost no clock read of their own.
    private(set) var now: UInt64
    /// Set while the loop closes everything down: nothing new may be registered then.
    private(set) var isShuttingDown = false
    /// Open or connecting connections on this loop.
    var connectionCount = 0

    /// Creates the epoll instance and the read buffer.
    init() throws(SystemError) {
        selector = try Selector()
        readBuffer = .allocate(byteCount: Self.readBufferSize, alignment: 16)
        now = MonotonicClock.nowNs()
    }

    deinit { releaseBuffers() }

    // MARK: Timers

    /// Schedules `callback` to run `nanoseconds` from now.
    func schedule(afterNanoseconds nanoseconds: UInt64, _ callback: @escaping () -> Void) -> TimerHandle {
        timers.schedule(at: MonotonicClock.nowNs() &+ nanoseconds, callback)
    }

    /// Schedules `callback` at an absolute monotonic deadline.
    func schedule(at deadline: UInt64, _ callback: @escaping () -> Void) -> TimerHandle {
        timers.schedule(at: deadline, callback)
    }

    /// Cancels a pending timer; false when it already fired or was cancelled.
    @discardableResult
    func cancel(_ timer: TimerHandle) -> Bool { timers.cancel(timer) }

    /// How long epoll_wait may sleep: until the earliest deadline, rounded up to whole milliseconds so a timer is
    /// never woken early; -1 (forever) with no timers.
    func waitTimeout() -> Int32 {
        guard let deadline = timers.nextDeadline else { return -1 }
        let current = MonotonicClock.nowNs()
        guard deadline > current else { return 0 }
        let milliseconds = (deadline - current + 999_999) / 1_000_000
        return Int32(clamping: milliseconds)
    }

    /// Runs every timer that is due now, in deadline order. Timers scheduled by these callbacks wait for the next
    /// pass, even with a zero delay, so a timer that re-arms itself cannot starve I/O.
    func fireExpiredTimers() {
        guard timers.count > 0 else { return }
        now = MonotonicClock.nowNs()
        let sequenceLimit = timers.nextSequence
        while let callback = timers.popExpired(now: now, scheduledBefore: sequenceLimit) {
            callback()
        }
    }

    // MARK: Iteration

    /// Records the time right after epoll_wait returned.
    func noteWokeUp() { now = MonotonicClock.nowNs() }

    /// Registers a hook that runs on every iteration just before the loop may sleep.
    func addBeforeSleepHook(_ hook: @escaping () -> Void) { beforeSleepHooks.append(hook) }

    /// Runs the before-sleep hooks, in the order they were added (including hooks added by a hook).
    func runBeforeSleepHooks() {
        var index = 0
        while index < beforeSleepHooks.count {
            beforeSleepHooks[index]()
            index += 1
        }
    }

    // MARK: Listeners

    /// Keeps `acceptor` so `closeAcceptor(fd:)` can find it.
    func add(_ acceptor: Acceptor, fd: Int32) { acceptors[fd] = acceptor }

    /// Stops accepting on the listener `fd` and closes it.
    func closeAcceptor(fd: Int32) { acceptors.removeValue(forKey: fd)?.close() }

    // MARK: Shutdown

    /// Closes every connection (`.loopStopped`) and listener, drops timers and hooks, closes epoll and frees the
    /// read buffer. Handlers may still run code from their close callbacks; whatever they register is refused.
    func shutdown() {
        isShuttingDown = true
        while selector.registeredCount > 0 {
            for object in selector.registeredObjects() { object.closeForLoopShutdown() }
        }
        acceptors = [:]
        timers.removeAll()
        beforeSleepHooks = []
        selector.close()
        releaseBuffers()
    }

    private func releaseBuffers() {
        guard !isBufferReleased else { return }
        isBufferReleased = true
        readBuffer.deallocate()
    }
}
