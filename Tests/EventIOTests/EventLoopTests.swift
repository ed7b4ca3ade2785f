// The loop itself: execute from other threads, timers on a running loop, before-sleep hooks, stop and cleanup.

import Clocks
import Glibc
import SplitMix
import Synchronization
import Testing

@testable import EventIO

/// Starts a loop on its own thread; `finish()` stops it and waits until `run()` returned.
final class RunningLoop: Sendable {
    let loop: EventLoop
    private let thread: pthread_t

    init() throws {
        let loop = try EventLoop()
        self.loop = loop
        thread = try LoopThread.spawn(name: "test-loop") { loop.run() }
    }

    func finish() {
        loop.stop()
        LoopThread.join(thread)
    }
}

extension SocketSuite {
    @Suite struct EventLoopTests {
        @Test func executeFromManyThreadsRunsOnTheLoopInEachProducersOrder() throws {
            let running = try RunningLoop()
            defer { running.finish() }
            let loop = running.loop
            let producers = 4
            let perProducer = 10_000
            let log = Shared<[[Int]]>(Array(repeating: [], count: producers))
            let offLoop = Shared(0)
            var threads: [pthread_t] = []
            for producer in 0..<producers {
                threads.append(
                    try LoopThread.spawn(name: "producer") {
                        for sequence in 0..<perProducer {
                            loop.execute {
                                if !loop.inEventLoop { offLoop.update { $0 += 1 } }
                                log.update { $0[producer].append(sequence) }
                            }
                        }
                    })
            }
            for thread in threads { LoopThread.join(thread) }
            #expect(waitUntil { log.value.allSatisfy { $0.count == perProducer } })
            #expect(offLoop.value == 0)
            #expect(log.value.allSatisfy { $0 == Array(0..<perProducer) })
            #expect(!loop.inEventLoop)
        }

        @Test func timersFireInDeadlineOrderNeverEarlyAndCancelledOnesNever() throws {
            let running = try RunningLoop()
            defer { running.finish() }
            let loop = running.loop
            // Each timer's deadline lies between `earliest` (the clock read just before scheduling) and `latest`
            // (just after): the loop reads its own clock in between, and a busy machine may pause the thread there.
            let fired = Shared<[(id: Int, at: UInt64)]>([])
            let (cancelledIDs, bounds) = try onLoop(loop) { () -> (Set<Int>, [(earliest: UInt64, latest: UInt64)]) in
                var generator = SplitMix64(seed: 7)
                var handles: [(Int, TimerHandle)] = []
                var bounds: [(earliest: UInt64, latest: UInt64)] = []
                for id in 0..<2000 {
                    let delay = Int(generator.next() % 150)
                    let earliest = MonotonicClock.nowNs() + UInt64(delay) * 1_000_000
                    let handle = loop.schedule(after: .milliseconds(delay)) {
                        fired.update { $0.append((id, MonotonicClock.nowNs())) }
                    }
                    bounds.append((earliest, MonotonicClock.nowNs() + UInt64(delay) * 1_000_000))
                    handles.append((id, handle))
                }
                var cancelled = Set<Int>()
                for (id, handle) in handles where id % 4 == 0 {
                    #expect(loop.cancel(handle))
                    cancelled.insert(id)
                }
                return (cancelled, bounds)
            }
            #expect(waitUntil { fired.value.count == 2000 - cancelledIDs.count })
            usleep(200_000)  // would a cancelled timer still fire?
            let log = fired.value
            #expect(log.count == 1500)
            #expect(log.allSatisfy { !cancelledIDs.contains($0.id) })
            #expect(log.allSatisfy { $0.at >= bounds[$0.id].earliest }, "never early")
            // In deadline order: a timer fires after one whose deadline is later only within 1 ms.
            #expect(zip(log, log.dropFirst()).allSatisfy {
                bounds[$0.id].earliest <= bounds[$1.id].latest + 1_000_000
            })
            #expect(try onLoop(loop) { loop.pendingTimerCount } == 0)
        }

        @Test func fiftyThousandPendingTimersAllFire() throws {
            let running = try RunningLoop()
            defer { running.finish() }
            let loop = running.loop
            let count = Shared(0)
            let pending = try onLoop(loop) { () -> Int in
                for index in 0..<50_000 {
                    loop.schedule(after: .milliseconds(index % 500)) { count.update { $0 += 1 } }
                }
                return loop.pendingTimerCount
            }
            #expect(pending == 50_000)
            #expect(waitUntil { count.value == 50_000 })
            #expect(try onLoop(loop) { loop.pendingTimerCount } == 0)
        }

        @Test func beforeSleepHookRunsBeforeEveryWait() throws {
            let running = try RunningLoop()
            defer { running.finish() }
            let loop = running.loop
            let hookRuns = Shared(0)
            try onLoop(loop) { loop.addBeforeSleepHook { hookRuns.update { $0 += 1 } } }
            let before = hookRuns.value
            for _ in 0..<5 {
                _ = try onLoop(loop) { 0 }
            }
            #expect(hookRuns.value >= before + 5)
        }

        @Test func stopRunsQueuedTasksRefusesLaterOnesAndClosesDescriptors() async {
            // In a process of its own, so descriptors opened by tests running meanwhile are not counted.
            await #expect(processExitsWith: .success) {
                let descriptorsBefore = ProcessProbe.eventIODescriptorCount()
                let running = try RunningLoop()
                let loop = running.loop
                #expect(ProcessProbe.eventIODescriptorCount() == descriptorsBefore + 2, "epoll + eventfd")
                let ran = Shared(0)
                _ = try onLoop(loop) { () -> Int in
                    loop.schedule(after: .seconds(3600)) { ran.update { $0 += 100 } }
                    return loop.pendingTimerCount
                }
                running.finish()
                #expect(!loop.execute { ran.update { $0 += 1 } }, "a finished loop refuses tasks")
                #expect(ran.value == 0)
                #expect(ProcessProbe.eventIODescriptorCount() == descriptorsBefore)

            }
        }

        @Test func groupHandsOutLoopsRoundRobinAndJoinsOnShutdown() async {
            // In a process of its own, so descriptors opened by tests running meanwhile are not counted.
            await #expect(processExitsWith: .success) {
                let descriptorsBefore = ProcessProbe.eventIODescriptorCount()
                let group = try EventLoopGroup(loopCount: 3)
                let picks = (0..<6).map { _ in ObjectIdentifier(group.next()) }
                #expect(picks[0..<3] == picks[3..<6])
                #expect(Set(picks).count == 3)
                let threadNames = try group.loops.map { loop in
                    try onLoop(loop) { ProcessProbe.currentThreadName() }
                }
                #expect(threadNames == ["fw-loop-0", "fw-loop-1", "fw-loop-2"])
                group.shutdownGracefully()
                group.shutdownGracefully()
                #expect(group.loops.allSatisfy { !$0.execute {} })
                #expect(ProcessProbe.eventIODescriptorCount() == descriptorsBefore)
                #expect(EventLoopGroup.defaultLoopCount == Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

            }
        }
    }
}

extension SocketSuite.EventLoopTests {
    @Test func aLoopThatNeverRanReleasesItsDescriptorsWhenDropped() async {
        // In a process of its own, so descriptors opened by tests running meanwhile are not counted.
        await #expect(processExitsWith: .success) {
            let descriptorsBefore = ProcessProbe.eventIODescriptorCount()
            do {
                let loop = try EventLoop()
                #expect(ProcessProbe.eventIODescriptorCount() == descriptorsBefore + 2)
                #expect(loop.execute {}, "queued, though nothing will run it")
            }
            #expect(ProcessProbe.eventIODescriptorCount() == descriptorsBefore)

        }
    }

    @Test func loopOnlyCallsOffTheLoopThreadStopTheProcess() async {
        await #expect(processExitsWith: .failure) {
            let loop = try EventLoop()
            loop.schedule(after: .seconds(1)) {}
        }
    }

    @Test func aLoopBoundValueUsedOffItsLoopStopsTheProcess() async {
        await #expect(processExitsWith: .failure) {
            let running = try RunningLoop()
            let bound = try onLoop(running.loop) { LoopBound(LoopOwnedCounter(), on: running.loop) }
            #expect(try onLoop(running.loop) { bound.value.count } == 0, "fine on the loop")
            _ = bound.value.count  // not fine here
        }
    }

    @Test func raisingTheOpenFileLimitReachesTheHardLimit() throws {
        let raised = try ResourceLimits.raiseOpenFileLimit()
        var limit = rlimit()
        #expect(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0)
        #expect(raised == Int(limit.rlim_cur))
        #expect(limit.rlim_cur == limit.rlim_max || limit.rlim_max == rlim_t.max)
        #expect(try ResourceLimits.raiseOpenFileLimit() == raised, "idempotent")
    }
}

/// A non-Sendable object that lives on a loop.
final class LoopOwnedCounter {
    var count = 0
}
