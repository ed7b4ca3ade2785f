// The timer heap on its own: order, ties, cancellation, stale handles, and scale. No loop, no clock.

import SplitMix
import Testing

@testable import EventIO

/// Collects the order in which popped callbacks run.
private final class FiringLog {
    var fired: [Int] = []
}

/// Pops and runs everything due at `now`.
private func fireAll(_ queue: inout TimerQueue, now: UInt64) {
    let limit = queue.nextSequence
    while let callback = queue.popExpired(now: now, scheduledBefore: limit) { callback() }
}

@Suite struct TimerQueueTests {
    @Test func firesInDeadlineOrderAndTiesInSchedulingOrder() {
        let log = FiringLog()
        var queue = TimerQueue()
        // (id, deadline): ids 1, 4 and 5 share deadline 20 and must fire in that order.
        for (id, deadline) in [(1, 20), (2, 5), (3, 30), (4, 20), (5, 20), (6, 10)] as [(Int, UInt64)] {
            _ = queue.schedule(at: deadline) { log.fired.append(id) }
        }
        #expect(queue.nextDeadline == 5)
        fireAll(&queue, now: 20)
        #expect(log.fired == [2, 6, 1, 4, 5])
        #expect(queue.count == 1)
        #expect(queue.nextDeadline == 30)
        fireAll(&queue, now: 100)
        #expect(log.fired == [2, 6, 1, 4, 5, 3])
        #expect(queue.count == 0)
        #expect(queue.nextDeadline == nil)
    }

    @Test func cancelledTimersNeverFireAndStaleHandlesCancelNothing() {
        let log = FiringLog()
        var queue = TimerQueue()
        let first = queue.schedule(at: 10) { log.fired.append(1) }
        let second = queue.schedule(at: 10) { log.fired.append(2) }
        #expect(queue.cancel(first) == true)
        #expect(queue.cancel(first) == false, "a second cancel is a no-op")
        fireAll(&queue, now: 10)
        #expect(log.fired == [2])
        #expect(queue.cancel(second) == false, "an already fired timer cannot be cancelled")
        // The freed slot is reused; the old handle must not cancel the new timer.
        let third = queue.schedule(at: 20) { log.fired.append(3) }
        #expect(third.slot == first.slot || third.slot == second.slot)
        #expect(queue.cancel(first) == false)
        #expect(queue.cancel(second) == false)
        fireAll(&queue, now: 20)
        #expect(log.fired == [2, 3])
    }

    @Test func timerScheduledDuringAPassWaitsForTheNextPass() {
        let log = FiringLog()
        var queue = TimerQueue()
        _ = queue.schedule(at: 0) { log.fired.append(1) }
        let limit = queue.nextSequence
        while let callback = queue.popExpired(now: 0, scheduledBefore: limit) {
            callback()
            _ = queue.schedule(at: 0) { log.fired.append(2) }
        }
        #expect(log.fired == [1])
        #expect(queue.count == 1)
    }

    @Test func fiftyThousandTimersWithCancellationsKeepTheHeapConsistent() {
        var generator = SplitMix64(seed: 42)
        var queue = TimerQueue()
        let log = FiringLog()
        var handles: [(id: Int, deadline: UInt64, handle: TimerHandle)] = []
        for id in 0..<50_000 {
            let deadline = generator.next() % 10_000
            handles.append((id, deadline, queue.schedule(at: deadline) { log.fired.append(id) }))
        }
        var cancelled = Set<Int>()
        for entry in handles where entry.id % 3 == 0 {
            #expect(queue.cancel(entry.handle) == true)
            cancelled.insert(entry.id)
        }
        #expect(queue.count == 50_000 - cancelled.count)
        fireAll(&queue, now: 10_000)
        #expect(log.fired.count == 50_000 - cancelled.count)
        #expect(log.fired.allSatisfy { !cancelled.contains($0) })
        // Deadline order, ties by id (= scheduling order).
        let deadlines = Dictionary(uniqueKeysWithValues: handles.map { ($0.id, $0.deadline) })
        let keys = log.fired.map { (deadlines[$0]!, $0) }
        #expect(zip(keys, keys.dropFirst()).allSatisfy { $0 < $1 })
    }
}

