// epoll, level-triggered, and the registration table that keeps its events safe against descriptor reuse.
//
// Why level-triggered: a loop may stop reading one connection after one buffer-full (fairness across 10k sockets)
// or pause it for backpressure, and epoll simply reports it again next time; nothing has to remember "there was
// more". The price is an epoll_ctl when the interest changes (EPOLLOUT only while a connection has unsent bytes,
// EPOLLIN only while it wants input), which the connection does only on a real change.
// EPOLLRDHUP is not requested: a peer's FIN already shows up as a readable socket whose read returns 0, and RDHUP
// would fire over and over while reading is paused. EPOLLERR and EPOLLHUP are always reported by the kernel, so the
// owner of a descriptor must handle them even with an empty interest.
//
// Why tokens: `epoll_event.data.u64` holds `generation << 32 | slot`, not the descriptor. When a connection closes
// in the middle of a batch of events and a new one gets the same descriptor number (and even the same slot), the
// batch's remaining events for the old connection carry the old generation, find no match, and are dropped.

internal import CLinux
import Glibc

/// What the loop asks epoll to watch for on one descriptor.
struct IOInterest: OptionSet, Hashable {
    /// The EPOLL* bits.
    let rawValue: UInt32
    /// EPOLLIN: input is wanted.
    static let readable = IOInterest(rawValue: EPOLLIN.rawValue)
    /// EPOLLOUT: bytes are waiting to be sent, or a connect to finish.
    static let writable = IOInterest(rawValue: EPOLLOUT.rawValue)
}

/// What epoll reported for one descriptor.
struct IOEvents: OptionSet {
    /// The EPOLL* bits.
    let rawValue: UInt32
    /// EPOLLIN: readable, or at EOF.
    static let readable = IOEvents(rawValue: EPOLLIN.rawValue)
    /// EPOLLOUT: the send buffer has room, or a connect finished.
    static let writable = IOEvents(rawValue: EPOLLOUT.rawValue)
    /// EPOLLHUP: both directions are shut or the connection is gone.
    static let hangUp = IOEvents(rawValue: EPOLLHUP.rawValue)
    /// EPOLLERR: a socket error is pending (SO_ERROR).
    static let error = IOEvents(rawValue: EPOLLERR.rawValue)
}

/// A loop-owned object that receives the epoll events of its descriptor.
protocol Selectable: AnyObject {
    /// Handles one readiness report; level-triggered, so anything left undone is reported again.
    func handle(_ events: IOEvents)
    /// Closes the descriptor because the loop is shutting down.
    func closeForLoopShutdown()
}

/// Where a registered descriptor lives in the table: packed into `epoll_event.data.u64`.
struct SelectorToken: Hashable {
    /// Index into the selector's slot table.
    let slot: UInt32
    /// The slot's generation when the registration was made.
    let generation: UInt32

    /// The eventfd's token; never issued to a registration.
    static let wakeUp = SelectorToken(slot: .max, generation: .max)

    /// The packed form stored in `epoll_event.data.u64`.
    var rawValue: UInt64 { UInt64(generation) << 32 | UInt64(slot) }

    /// A token for `slot` in its current `generation`.
    init(slot: UInt32, generation: UInt32) {
        self.slot = slot
        self.generation = generation
    }

    /// Unpacks a token read back from an epoll event.
    init(rawValue: UInt64) {
        slot = UInt32(truncatingIfNeeded: rawValue)
        generation = UInt32(truncatingIfNeeded: rawValue >> 32)
    }
}

/// The loop's epoll instance and its table of registered objects.
final class Selector {
    private struct Slot {
        var generation: UInt32 = 0
        var object: (any Selectable)?
    }

    /// Most events taken from one epoll_wait; more simply wait for the next iteration.
    static let eventCapacity = 512

    private let epollFD: Int32
    private var slots: [Slot] = []
    private var freeSlots: [UInt32] = []
    private let events: UnsafeMutablePointer<epoll_event>
    private var isClosed = false
    /// Registered objects (the eventfd is not counted).
    private(set) var registeredCount = 0
    /// Events dropped because their registration was gone (closed, or its slot reused): the fd-reuse guard at work.
    private(set) var staleEventCount = 0

    /// Creates the epoll instance (close-on-exec).
    init() throws(SystemError) {
        epollFD = try Syscall.run("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        events = .allocate(capacity: Self.eventCapacity)
    }

    deinit { close() }

    /// Closes the epoll descriptor and drops every registration; idempotent.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        Syscall.close(epollFD)
        events.deallocate()
        slots = []
        freeSlots = []
        registeredCount = 0
    }

    /// Watches the loop's eventfd under the reserved wake-up token.
    func registerWakeUp(fd: Int32) throws(SystemError) {
        try control(EPOLL_CTL_ADD, fd: fd, interest: .readable, token: .wakeUp)
    }

    /// Adds `fd` with `interest`, dispatching its events to `object`, which the table keeps alive until
    /// `deregister`.
    func register(fd: Int32, interest: IOInterest, object: any Selectable) throws(SystemError) -> SelectorToken {
        let slot: UInt32
        if let reused = freeSlots.popLast() {
            slot = reused
        } else {
            precondition(slots.count < Int(UInt32.max), "selector table full")
            slot = UInt32(slots.count)
            slots.append(Slot())
        }
        let token = SelectorToken(slot: slot, generation: slots[Int(slot)].generation)
        do {
            try control(EPOLL_CTL_ADD, fd: fd, interest: interest, token: token)
        } catch {
            freeSlots.append(slot)
            throw error
        }
        slots[Int(slot)].object = object
        registeredCount += 1
        return token
    }

    /// Changes what `fd` is watched for.
    func modify(fd: Int32, token: SelectorToken, interest: IOInterest) throws(SystemError) {
        try control(EPOLL_CTL_MOD, fd: fd, interest: interest, token: token)
    }

    /// Removes `fd` from epoll (call before closing it) and frees its slot under a new generation, so events for it
    /// that are still in the current batch are dropped.
    func deregister(fd: Int32, token: SelectorToken) {
        let index = Int(token.slot)
        guard index < slots.count, slots[index].generation == token.generation, slots[index].object != nil else {
            return
        }
        // Failure is harmless here: the descriptor is about to be closed, which removes it from epoll too.
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
        slots[index].object = nil
        slots[index].generation &+= 1
        freeSlots.append(token.slot)
        registeredCount -= 1
    }

    /// Takes `fd` out of epoll but keeps its slot, for a descriptor that would otherwise report EPOLLHUP on every
    /// wait while its owner cannot act on it.
    func suspend(fd: Int32) {
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
    }

    /// Puts a suspended `fd` back under its old token.
    func resume(fd: Int32, token: SelectorToken, interest: IOInterest) throws(SystemError) {
        try control(EPOLL_CTL_ADD, fd: fd, interest: interest, token: token)
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever) and returns how many events `event(at:)` can read.
    func wait(timeoutMilliseconds: Int32) throws(SystemError) -> Int {
        Int(
            try Syscall.run("epoll_wait") {
                epoll_wait(epollFD, events, Int32(Self.eventCapacity), timeoutMilliseconds)
            })
    }

    /// The token and events of the `index`th event of the last wait.
    func event(at index: Int) -> (token: SelectorToken, events: IOEvents) {
        let event = events[index]
        return (SelectorToken(rawValue: event.data.u64), IOEvents(rawValue: event.events))
    }

    /// The object registered under `token`, or nil (and a stale-event count) when that registration is gone.
    func object(for token: SelectorToken) -> (any Selectable)? {
        let index = Int(token.slot)
        if index < slots.count, slots[index].generation == token.generation, let object = slots[index].object {
            return object
        }
        staleEventCount += 1
        return nil
    }

    /// Every registered object, for shutdown.
    func registeredObjects() -> [any Selectable] {
        slots.compactMap(\.object)
    }

    private func control(_ operation: Int32, fd: Int32, interest: IOInterest, token: SelectorToken) throws(SystemError)
    {
        var event = epoll_event()
        event.events = interest.rawValue
        event.data.u64 = token.rawValue
        _ = try Syscall.run("epoll_ctl") { epoll_ctl(epollFD, operation, fd, &event) }
    }
}
