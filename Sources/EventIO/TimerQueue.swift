// Timers: an indexed binary min-heap of deadlines, owned by one loop.
//
// Invariants:
// - `heap` is a min-heap ordered by (deadline, sequence). Sequence numbers grow with every `schedule`, so timers
//   with equal deadlines fire in the order they were scheduled.
// - For every heap position i, `slots[heap[i].slot].heapIndex == i`; a free slot has no callback, heapIndex -1, and
//   sits on `freeSlots`.
// - A handle names a slot and the slot's generation. The generation changes whenever the slot is freed (fired or
//   cancelled), so a stale handle cancels nothing, even after its slot was reused.
// Cancel removes the entry from the heap in O(log n) instead of leaving a tombstone, so a connection that moves its
// timeout on every packet does not grow the heap; schedule and fire are O(log n) too. Tens of thousands of pending
// timers cost about 50 bytes each plus the callback's context.

/// Names one scheduled timer so it can be cancelled.
///
/// A handle is only meaningful on the loop that issued it, so it is deliberately not `Sendable`: the compiler keeps it
/// on that loop's thread.
public struct TimerHandle: Hashable {
    /// Index into the queue's slot table.
    let slot: UInt32
    /// The slot's generation when the timer was scheduled.
    let generation: UInt32
}

@available(*, unavailable)
extension TimerHandle: Sendable {}

/// The loop's pending timers; see the invariants above.
struct TimerQueue {
    private struct Slot {
        var generation: UInt32 = 0
        var heapIndex: Int32 = -1
        var callback: (() -> Void)?
    }

    private struct HeapEntry {
        var deadline: UInt64
        var sequence: UInt64
        var slot: UInt32

        func precedes(_ other: HeapEntry) -> Bool {
            deadline < other.deadline || (deadline == other.deadline && sequence < other.sequence)
        }
    }

    private var slots: [Slot] = []
    private var freeSlots: [UInt32] = []
    private var heap: [HeapEntry] = []
    /// The sequence number the next scheduled timer gets; a firing pass only fires timers numbered below the value
    /// it saw when it started, so a callback that schedules a zero-delay timer cannot keep the pass going forever.
    private(set) var nextSequence: UInt64 = 0

    /// Pending (scheduled, not yet fired or cancelled) timers.
    var count: Int { heap.count }

    /// The earliest pending deadline, which bounds how long the loop may sleep.
    var nextDeadline: UInt64? { heap.first?.deadline }

    /// Adds a timer that is due at `deadline` (monotonic nanoseconds).
    mutating func schedule(at deadline: UInt64, _ callback: @escaping () -> Void) -> TimerHandle {
        let slot: UInt32
        if let reused = freeSlots.popLast() {
            slot = reused
        } else {
            slot = UInt32(slots.count)
            slots.append(Slot())
        }
        slots[Int(slot)].callback = callback
        heap.append(HeapEntry(deadline: deadline, sequence: nextSequence, slot: slot))
        nextSequence &+= 1
        siftUp(heap.count - 1)
        return TimerHandle(slot: slot, generation: slots[Int(slot)].generation)
    }

    /// Removes a pending timer; returns false when the handle is stale (the timer already fired or was cancelled).
    @discardableResult
    mutating func cancel(_ handle: TimerHandle) -> Bool {
        let index = Int(handle.slot)
        guard index < slots.count, slots[index].generation == handle.generation, slots[index].heapIndex >= 0 else {
            return false
        }
        removeHeapEntry(at: Int(slots[index].heapIndex))
        release(slot: handle.slot)
        return true
    }

    /// Pops the earliest timer if it is due at `now` and was scheduled before `sequenceLimit`, freeing its slot, and
    /// returns its callback for the caller to run.
    mutating func popExpired(now: UInt64, scheduledBefore sequenceLimit: UInt64) -> (() -> Void)? {
        guard let first = heap.first, first.deadline <= now, first.sequence < sequenceLimit else { return nil }
        removeHeapEntry(at: 0)
        let callback = slots[Int(first.slot)].callback
        release(slot: first.slot)
        return callback
    }

    /// Drops every pending timer without running it (loop shutdown); releasing the callbacks breaks any reference
    /// cycles they hold.
    mutating func removeAll() {
        slots = []
        freeSlots = []
        heap = []
    }

    private mutating func release(slot: UInt32) {
        let index = Int(slot)
        slots[index].callback = nil
        slots[index].heapIndex = -1
        slots[index].generation &+= 1
        freeSlots.append(slot)
    }

    /// Removes heap[position], keeping the heap and the slots' back-pointers consistent.
    private mutating func removeHeapEntry(at position: Int) {
        let last = heap.count - 1
        slots[Int(heap[position].slot)].heapIndex = -1
        if position != last {
            heap[position] = heap[last]
            slots[Int(heap[position].slot)].heapIndex = Int32(position)
        }
        heap.removeLast()
        if position < heap.count {
            siftDown(position)
            siftUp(position)
        }
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        let entry = heap[child]
        while child > 0 {
            let parent = (child - 1) / 2
            guard entry.precedes(heap[parent]) else { break }
            heap[child] = heap[parent]
            slots[Int(heap[child].slot)].heapIndex = Int32(child)
            child = parent
        }
        heap[child] = entry
        slots[Int(entry.slot)].heapIndex = Int32(child)
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        let entry = heap[parent]
        let count = heap.count
        while true {
            var child = 2 * parent + 1
            guard child < count else { break }
            if child + 1 < count && heap[child + 1].precedes(heap[child]) { child += 1 }
            guard heap[child].precedes(entry) else { break }
            heap[parent] = heap[child]
            slots[Int(heap[parent].slot)].heapIndex = Int32(parent)
            parent = child
        }
        heap[parent] = entry
        slots[Int(entry.slot)].heapIndex = Int32(parent)
    }
}
