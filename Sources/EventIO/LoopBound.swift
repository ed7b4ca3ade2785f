// The one `@unchecked Sendable` in EventIO, and the thread identity it checks.
//
// Loop-owned objects (connections, handlers, the loop's own epoll/timer state) are not Sendable, and the compiler
// keeps them on the thread that made them. Some must still be *named* from another thread so that work can be sent
// back to their loop: the SQLite writer finishing a commit for a connection, the loop's own `EventLoop` face being
// shared by every thread. `LoopBound` carries such a value across threads but lets it be *used* only on its loop's
// thread: every access to `value` checks the calling thread and stops the process on a violation, so the unchecked
// conformance is checked at run time instead of trusted.

import Glibc
import Synchronization

/// Which thread runs a loop: unclaimed until `run()` starts, then that thread's `pthread_t`, then `finished`.
final class LoopThreadIdentity: Sendable {
    private static let finished = pthread_t.max
    private let owner = Atomic<pthread_t>(0)

    /// True on the thread that is running the loop.
    var isCurrent: Bool { owner.load(ordering: .relaxed) == pthread_self() }

    /// Makes the calling thread the owner; a loop runs once, on one thread.
    func claim() {
        let (exchanged, _) = owner.compareExchange(
            expected: 0, desired: pthread_self(), ordering: .acquiringAndReleasing)
        precondition(exchanged, "EventLoop.run() called twice or on a second thread")
    }

    /// Marks the loop finished: from now on no thread owns it, not even one that later reuses the same `pthread_t`.
    func relinquish() {
        owner.store(Self.finished, ordering: .releasing)
    }
}

/// A non-Sendable value that may be passed between threads but used only on the thread of the loop it is bound to.
///
/// Typical use: a handler wraps its `Connection` so a worker thread can send a completion back,
/// `loop.execute { bound.value.write(reply) }`. Reading `value` anywhere else stops the process.
public struct LoopBound<Value>: @unchecked Sendable {
    private let owner: LoopThreadIdentity
    private let wrapped: Value

    /// Binds `value` to `loop`; must be called on that loop's thread, where the value lives.
    public init(_ value: Value, on loop: EventLoop) {
        loop.preconditionInEventLoop()
        self.init(unchecked: value, owner: loop.thread)
    }

    /// Binds a value before any thread runs the loop: only the loop's own state, made in `EventLoop.init`.
    init(unchecked value: Value, owner: LoopThreadIdentity) {
        self.owner = owner
        self.wrapped = value
    }

    /// The value; only on the loop's thread.
    public var value: Value {
        precondition(owner.isCurrent, "LoopBound value used off its event loop's thread")
        return wrapped
    }
}
